"""The local index of cases the bot opened: which request, tracking issue, practice (read-only
for handlers through `bot.facts`; written by the reconciler when it creates a case)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.inbox.schema import cases
from bot.inbox.store import Store

MAX_CASES = 3


@dataclass(frozen=True)
class CaseRef:
    """One case of the index."""

    workflow: str
    request_key: str
    tracking_key: str
    abonneenummer: str | None
    reporter: str | None
    opened_at: float


def remember_case(
    store: Store,
    *,
    workflow: str,
    request_key: str,
    tracking_key: str,
    abonneenummer: str | None,
    reporter: str | None,
) -> None:
    """Index a case once (a second call for the same request and workflow changes nothing)."""
    number = abonneenummer if abonneenummer and len(abonneenummer) <= 8 else None
    values = {
        "request_key": request_key[:50],
        "workflow": workflow[:50],
        "tracking_key": tracking_key[:50],
        "abonneenummer": number,
        "reporter": (reporter or None) and reporter[:200],
        "opened_at": store.clock(),
    }
    ins = pg_insert(cases) if store.is_postgres else sqlite_insert(cases)
    with store.engine.begin() as conn:
        conn.execute(
            ins.values(**values).on_conflict_do_nothing(index_elements=["request_key", "workflow"])
        )


class CaseIndex:
    """Read-only look-ups in the case index (the `KnownCaseSource` of `bot.facts`)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def cases_for(
        self, abonneenummer: str | None, reporter: str | None, *, limit: int = MAX_CASES
    ) -> list[CaseRef]:
        """The newest cases of the practice (same abonneenummer or same reporter)."""
        wanted = []
        if abonneenummer:
            wanted.append(cases.c.abonneenummer == abonneenummer)
        if reporter:
            wanted.append(cases.c.reporter == reporter)
        if not wanted:
            return []
        with self.store.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(cases)
                    .where(or_(*wanted))
                    .order_by(cases.c.opened_at.desc())
                    .limit(max(1, min(limit, MAX_CASES)))
                )
                .mappings()
                .all()
            )
        return [
            CaseRef(
                workflow=r["workflow"],
                request_key=r["request_key"],
                tracking_key=r["tracking_key"],
                abonneenummer=r["abonneenummer"],
                reporter=r["reporter"],
                opened_at=float(r["opened_at"]),
            )
            for r in rows
        ]
