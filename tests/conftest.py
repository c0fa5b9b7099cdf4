"""Shared pytest fixtures."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import responses

from tests.fakejira import SPEC_DIR, FakeJira, official_spec_available
from tests.harness import close_open_stores


def pytest_report_header() -> list[str]:
    """Say which Jira OpenAPI documents the fake Jira checks requests against."""
    if official_spec_available():
        return [f"Jira OpenAPI checks: the official documents in {SPEC_DIR}"]
    return [
        f"Jira OpenAPI checks: the committed cut in {SPEC_DIR} "
        "(../shared/jira-openapi not found; the full-document checks are skipped)"
    ]


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    """Every store a test opened through the harness is closed when the test ends."""
    yield
    close_open_stores()


@pytest.fixture(autouse=True)
def _drop_log_handler() -> Iterator[None]:
    """A command run in a test installs the uzibot log handler on that test's stderr: drop it."""
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "uzibot"]:
        root.removeHandler(handler)


@pytest.fixture(autouse=True)
def _trust_the_generated_uzi_hierarchy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's certificates are issued by tests/certgen.py's copy of the UZI G1 hierarchy
    (the real CA names, generated keys). The reader trusts that copy beside the shipped CA
    certificates, as a site would trust an acceptance CA; a signature that verifies against
    neither still makes a certificate `not_uzi`. Tests of the shipped store pass `trust=`."""
    from bot.certs import reader
    from bot.certs.chain import load_pem_directory_certificates, trust_store_for
    from tests import certgen

    generated = (*certgen.hierarchy("g1-production").cas, *certgen.hierarchy("g1-test").cas)
    store = trust_store_for((*load_pem_directory_certificates(), *generated))
    monkeypatch.setattr(reader, "shipped_trust_store", lambda: store)


@pytest.fixture
def fake_jira() -> Iterator[FakeJira]:
    """A fresh sandbox Jira behind `responses`; the test fails if a request broke the spec."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeJira().install(rsps)
        yield fake
    if fake.violations:
        pytest.fail("OpenAPI violations:\n" + "\n".join(fake.violations), pytrace=False)
