"""The certificate registry: which UZI server certificates we have seen, per abonneenummer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.inbox.schema import certificates
from bot.inbox.store import Store
from bot.plan import CertificateRecord


@dataclass(frozen=True)
class RegisteredCertificate:
    """One registry row (facts only; key material is never stored)."""

    fingerprint: str
    abonneenummer: str
    practice: str | None
    uzi_number: str | None
    not_before: str | None
    not_after: str | None
    source_request: str | None
    status: str


def record_certificates(store: Store, records: Iterable[CertificateRecord]) -> int:
    """Upsert each certificate record; per abonneenummer the latest expiry is `current`."""
    rows = list(records)
    touched = set()
    with store.engine.begin() as conn:
        for r in rows:
            values = {
                "fingerprint": r.fingerprint,
                "abonneenummer": r.abonneenummer,
                "practice": r.practice,
                "uzi_number": r.uzi_number,
                "not_before": r.not_before,
                "not_after": r.not_after,
                "source_request": r.source_request,
                "status": "replaced",
                "recorded_at": store.clock(),
            }
            ins = pg_insert(certificates) if store.is_postgres else sqlite_insert(certificates)
            conn.execute(
                ins.values(**values).on_conflict_do_nothing(index_elements=["fingerprint"])
            )
            touched.add(r.abonneenummer)
        for number in touched:
            latest = conn.execute(
                select(certificates.c.fingerprint)
                .where(certificates.c.abonneenummer == number)
                .order_by(certificates.c.not_after.desc())
                .limit(1)
            ).scalar()
            conn.execute(
                update(certificates)
                .where(certificates.c.abonneenummer == number)
                .values(status="replaced")
            )
            conn.execute(
                update(certificates)
                .where(certificates.c.fingerprint == latest)
                .values(status="current")
            )
    return len(rows)


def certificates_for(store: Store, abonneenummer: str) -> list[RegisteredCertificate]:
    """Every registered certificate of an abonneenummer, newest expiry first."""
    with store.engine.connect() as conn:
        rows = (
            conn.execute(
                select(certificates)
                .where(certificates.c.abonneenummer == abonneenummer)
                .order_by(certificates.c.not_after.desc())
            )
            .mappings()
            .all()
        )
    return [
        RegisteredCertificate(
            fingerprint=r["fingerprint"],
            abonneenummer=r["abonneenummer"],
            practice=r["practice"],
            uzi_number=r["uzi_number"],
            not_before=r["not_before"],
            not_after=r["not_after"],
            source_request=r["source_request"],
            status=r["status"],
        )
        for r in rows
    ]
