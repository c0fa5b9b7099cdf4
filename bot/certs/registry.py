"""The certificate registry: which UZI server certificates we have seen, per abonneenummer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, text
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
    set on all its certificates, and a certificate recorded without them inherits them. Set-based
    statements (a few per 500 abonneenummers), so a bulk import stays linear and quick.
    """
    rows = list(records)
    if not rows:
        return 0
    now = store.clock()
    facts = [
        PracticeFacts(r.abonneenummer, r.practice, r.vendor, r.contact)
        for r in rows
        if r.practice or r.vendor or r.contact
    ]
    ins = pg_insert(certificates) if store.is_postgres else sqlite_insert(certificates)
    with store.engine.begin() as conn:
        conn.execute(
            ins.on_conflict_do_nothing(index_elements=["fingerprint"]),
            [
                {
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
                    "recorded_at": now,
                }
                for r in rows
            ],
        )
        _apply_facts(conn, facts)
        numbers = list(dict.fromkeys(r.abonneenummer for r in rows))
        for start in range(0, len(numbers), CHUNK):
            chunk = {"numbers": numbers[start : start + CHUNK]}
            for column in CONTACT_COLUMNS:
                conn.execute(_INHERIT[column], chunk)
            conn.execute(_MARK_CURRENT, chunk)
    return len(rows)


CHUNK = 500
# The newest-recorded non-empty value of a column among the abonneenummer's certificates.
_INHERIT = {
    column: text(
        f"UPDATE certificates SET {column} = (SELECT c2.{column} FROM certificates c2 "  # noqa: S608
        f"WHERE c2.abonneenummer = certificates.abonneenummer AND c2.{column} IS NOT NULL "
        "ORDER BY c2.recorded_at DESC LIMIT 1) "
        f"WHERE {column} IS NULL AND abonneenummer IN :numbers"
    ).bindparams(bindparam("numbers", expanding=True))
    for column in CONTACT_COLUMNS
}
# Current: the production (non-test) certificate expiring last; any certificate when none is.
_MARK_CURRENT = text(
    "UPDATE certificates SET status = CASE WHEN fingerprint = (SELECT c2.fingerprint "
    "FROM certificates c2 WHERE c2.abonneenummer = certificates.abonneenummer ORDER BY "
    "CASE WHEN c2.environment = 'test' THEN 1 ELSE 0 END, COALESCE(c2.not_after, '') DESC, "
    "c2.fingerprint DESC LIMIT 1) THEN 'current' ELSE 'replaced' END "
    "WHERE abonneenummer IN :numbers"
).bindparams(bindparam("numbers", expanding=True))


def record_practice_facts(store: Store, facts: Sequence[PracticeFacts]) -> set[str]:
    """Set practice, vendor and contact on the certificates of each abonneenummer.

    Returns the abonneenummers that have no certificate in the registry (nothing was stored).
    """
    known: set[str] = set()
    numbers = [f.abonneenummer for f in facts]
    with store.engine.begin() as conn:
        _apply_facts(conn, facts)
        for start in range(0, len(numbers), CHUNK):
            known.update(
                conn.execute(
                    select(certificates.c.abonneenummer)
                    .where(certificates.c.abonneenummer.in_(numbers[start : start + CHUNK]))
                    .distinct()
                ).scalars()
            )
    return set(numbers) - known


_APPLY_FACTS = text(
    "UPDATE certificates SET practice = COALESCE(:practice, practice), "
    "vendor = COALESCE(:vendor, vendor), contact = COALESCE(:contact, contact) "
    "WHERE abonneenummer = :number"
)


def _apply_facts(conn: Connection, facts: Iterable[PracticeFacts]) -> None:
    """Each given value replaces the abonneenummer's; empty values leave what is there."""
    params = [
        {
            "number": f.abonneenummer,
            "practice": f.practice or None,
            "vendor": f.vendor or None,
            "contact": f.contact or None,
        }
        for f in facts
        if f.practice or f.vendor or f.contact
    ]
    if params:
        conn.execute(_APPLY_FACTS, params)


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
