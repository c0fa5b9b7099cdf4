"""Registry: contacts belong to the abonneenummer; test certificates never become current."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.certs.registry import (
    PracticeFacts,
    certificates_for,
    current_certificates,
    record_certificates,
    record_practice_facts,
)
from bot.inbox.store import Store
from bot.plan import CertificateRecord
from tests.pgdb import open_test_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with open_test_store(request.param, tmp_path) as s:
        yield s


def rec(fp: str, not_after: str, **kw: str | None) -> CertificateRecord:
    return CertificateRecord(
        fingerprint=fp * 64, abonneenummer="01234567", not_after=not_after, **kw
    )


def test_contacts_are_shared_and_inherited_and_test_certificates_stay_replaced(
    store: Store,
) -> None:
    record_certificates(
        store, [rec("a", "2027-03-01T09:00:00+00:00", environment="production", contact="qm:1")]
    )
    # A later certificate without contact inherits it; a test one expiring later is not current.
    record_certificates(
        store,
        [
            rec("b", "2030-01-01T09:00:00+00:00", environment="production", vendor="MicroHIS"),
            rec("c", "2031-01-01T09:00:00+00:00", environment="test"),
        ],
    )
    rows = {r.fingerprint[0]: r for r in certificates_for(store, "01234567")}
    assert {k: r.status for k, r in rows.items()} == {
        "a": "replaced",
        "b": "current",
        "c": "replaced",
    }
    assert {r.contact for r in rows.values()} == {"qm:1"}
    assert {r.vendor for r in rows.values()} == {"MicroHIS"}
    missing = record_practice_facts(
        store,
        [
            PracticeFacts("01234567", practice="De Linde", contact="linde@example.nl"),
            PracticeFacts("09999999", practice="Nergens"),
        ],
    )
    assert missing == {"09999999"}
    [current] = current_certificates(store)
    assert (current.fingerprint[0], current.practice, current.vendor, current.contact) == (
        "b",
        "De Linde",
        "MicroHIS",
        "linde@example.nl",
    )
