"""The certificate registry: which UZI server certificates we have seen, per abonneenummer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.certs.deadlines import compute_deadlines, local_date
from bot.certs.report import CertReport
from bot.inbox.schema import certificates
from bot.inbox.store import Store
from bot.plan import CertificateRecord

REGISTRY_FILE = "registry"
"""The `file` of a report made from the registry rather than from an uploaded file."""
CONTACT_COLUMNS = ("practice", "vendor", "contact")
"""Facts about the practice behind an abonneenummer, shared by all its certificates."""


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
    vendor: str | None = None
    contact: str | None = None
    environment: str | None = None


@dataclass(frozen=True)
class PracticeFacts:
    """Practice, vendor and contact of an abonneenummer (e.g. from `certs import --contacts`)."""

    abonneenummer: str
    practice: str | None = None
    vendor: str | None = None
    contact: str | None = None


def record_certificates(store: Store, records: Iterable[CertificateRecord]) -> int:
    """Upsert each certificate record; per abonneenummer the latest production expiry is current.

    Practice, vendor and contact belong to the abonneenummer: a value given with one record is
    set on all its certificates, and a certificate recorded without them inherits them.
    """
    rows = list(records)
    facts = [
        PracticeFacts(r.abonneenummer, r.practice, r.vendor, r.contact)
        for r in rows
        if r.practice or r.vendor or r.contact
    ]
    with store.engine.begin() as conn:
        for r in rows:
            values = {
                "fingerprint": r.fingerprint,
                "abonneenummer": r.abonneenummer,
                "practice": r.practice,
                "vendor": r.vendor,
                "contact": r.contact,
                "environment": r.environment,
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
        _apply_facts(conn, facts)
        for number in dict.fromkeys(r.abonneenummer for r in rows):
            _inherit_facts(conn, number)
            _mark_current(conn, number)
    return len(rows)


def record_practice_facts(store: Store, facts: Sequence[PracticeFacts]) -> set[str]:
    """Set practice, vendor and contact on the certificates of each abonneenummer.

    Returns the abonneenummers that have no certificate in the registry (nothing was stored).
    """
    with store.engine.begin() as conn:
        _apply_facts(conn, facts)
        known = set(
            conn.execute(
                select(certificates.c.abonneenummer)
                .where(certificates.c.abonneenummer.in_([f.abonneenummer for f in facts]))
                .distinct()
            ).scalars()
        )
    return {f.abonneenummer for f in facts} - known


def _apply_facts(conn: Connection, facts: Iterable[PracticeFacts]) -> None:
    for f in facts:
        given = {
            name: value
            for name, value in (
                ("practice", f.practice),
                ("vendor", f.vendor),
                ("contact", f.contact),
            )
            if value
        }
        if given:
            conn.execute(
                update(certificates)
                .where(certificates.c.abonneenummer == f.abonneenummer)
                .values(**given)
            )


def _inherit_facts(conn: Connection, number: str) -> None:
    """Fill missing practice/vendor/contact from the most recently recorded sibling."""
    rows = conn.execute(
        select(certificates.c.fingerprint, *(certificates.c[c] for c in CONTACT_COLUMNS))
        .where(certificates.c.abonneenummer == number)
        .order_by(certificates.c.recorded_at.desc())
    ).all()
    known: dict[str, Any] = {}
    for row in rows:
        for column in CONTACT_COLUMNS:
            if column not in known and row._mapping[column]:
                known[column] = row._mapping[column]
    for column, value in known.items():
        conn.execute(
            update(certificates)
            .where(certificates.c.abonneenummer == number, certificates.c[column].is_(None))
            .values({column: value})
        )


def _mark_current(conn: Connection, number: str) -> None:
    """The production certificate with the latest expiry is current (any, when none is)."""
    rows = conn.execute(
        select(
            certificates.c.fingerprint, certificates.c.environment, certificates.c.not_after
        ).where(certificates.c.abonneenummer == number)
    ).all()
    if not rows:
        return
    latest = max(rows, key=lambda r: (r.environment != "test", r.not_after or "", r.fingerprint))
    conn.execute(
        update(certificates)
        .where(certificates.c.abonneenummer == number, certificates.c.fingerprint != latest[0])
        .values(status="replaced")
    )
    conn.execute(
        update(certificates).where(certificates.c.fingerprint == latest[0]).values(status="current")
    )


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
    return [_registered(r) for r in rows]


def current_certificates(store: Store) -> list[RegisteredCertificate]:
    """The current certificate of every abonneenummer, soonest expiry first."""
    with store.engine.connect() as conn:
        rows = (
            conn.execute(
                select(certificates)
                .where(certificates.c.status == "current")
                .order_by(certificates.c.not_after, certificates.c.abonneenummer)
            )
            .mappings()
            .all()
        )
    return [_registered(r) for r in rows]


def registered_report(store: Store, abonneenummer: str, today: date) -> CertReport | None:
    """The current production certificate of an abonneenummer as a report (file `registry`)."""
    for row in certificates_for(store, abonneenummer):
        if row.status != "current" or row.environment == "test" or not row.not_after:
            continue
        not_after = datetime.fromisoformat(row.not_after)
        found = compute_deadlines(not_after, today)
        return CertReport(
            file=REGISTRY_FILE,
            verdict="ok" if local_date(not_after) >= today else "expired",
            abonneenummer=row.abonneenummer,
            uzi_number=row.uzi_number,
            card_type="S",
            not_before=datetime.fromisoformat(row.not_before) if row.not_before else None,
            not_after=not_after,
            deactivation_date=found.deactivation_date,
            latest_start=found.latest_start,
            deadline_state=found.state,
            environment="production",
            fingerprint_sha256=row.fingerprint,
        )
    return None


def certificates_by_fingerprint(
    store: Store, fingerprints: Iterable[str]
) -> dict[str, RegisteredCertificate]:
    """Registry rows for the given fingerprints (missing ones are left out)."""
    wanted = list(dict.fromkeys(fingerprints))
    if not wanted:
        return {}
    with store.engine.connect() as conn:
        rows = (
            conn.execute(select(certificates).where(certificates.c.fingerprint.in_(wanted)))
            .mappings()
            .all()
        )
    return {r["fingerprint"]: _registered(r) for r in rows}


def _registered(r: Any) -> RegisteredCertificate:
    return RegisteredCertificate(
        fingerprint=r["fingerprint"],
        abonneenummer=r["abonneenummer"],
        practice=r["practice"],
        uzi_number=r["uzi_number"],
        not_before=r["not_before"],
        not_after=r["not_after"],
        source_request=r["source_request"],
        status=r["status"],
        vendor=r["vendor"],
        contact=r["contact"],
        environment=r["environment"],
    )
