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


@pytest.fixture
def fake_jira() -> Iterator[FakeJira]:
    """A fresh sandbox Jira behind `responses`; the test fails if a request broke the spec."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeJira().install(rsps)
        yield fake
    if fake.violations:
        pytest.fail("OpenAPI violations:\n" + "\n".join(fake.violations), pytrace=False)
