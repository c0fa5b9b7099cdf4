"""`uzibot cases`: the cases the journal knows, open ones first by soonest deadline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import TextIO

from sqlalchemy import select

from bot.cli.table import format_table
from bot.inbox.schema import effects
from bot.inbox.store import Store

# The lifecycle handler's effect slug for resolving the request (handlers/lifecycle.py).
RESOLVED_PREFIX = "transition:"
RESOLVED_SUFFIX = ":lifecycle:resolve"


@dataclass(frozen=True)
class CaseRow:
    """One case as the effect journal remembers it."""

    request: str
    workflow: str
    case_key: str
    due: date | None
    priority: str | None
    closed: bool


def journal_cases(store: Store) -> list[CaseRow]:
    """Every case the bot created, with its latest due date and priority and whether resolved.

    Reads only the journal: `case:<request>:<workflow>` (key, due, priority at creation),
    `case-state:...` (later due date and priority) and the request's resolve transition.
    """
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(effects.c.effect_id, effects.c.result).where(
                effects.c.state == "done",
                effects.c.effect_id.like("case%") | effects.c.effect_id.like("transition:%"),
            )
        ).all()
    created: dict[tuple[str, str], dict[str, object]] = {}
    state: dict[tuple[str, str], dict[str, object]] = {}
    resolved: set[str] = set()
    for effect_id, result in rows:
        kind, _, rest = str(effect_id).partition(":")
        if kind == "transition":
            if str(effect_id).endswith(RESOLVED_SUFFIX):
                resolved.add(str(effect_id)[len(RESOLVED_PREFIX) : -len(RESOLVED_SUFFIX)])
            continue
        request, _, workflow = rest.partition(":")
        facts = json.loads(result) if result else {}
        if kind == "case":
            created[(request, workflow)] = facts
        elif kind == "case-state":
            state[(request, workflow)] = facts
    out = []
    for (request, workflow), facts in created.items():
        latest = {**facts, **{k: v for k, v in state.get((request, workflow), {}).items() if v}}
        due = latest.get("due")
        out.append(
            CaseRow(
                request=request,
                workflow=workflow,
                case_key=str(facts.get("key", "?")),
                due=date.fromisoformat(str(due)) if due else None,
                priority=str(latest["priority"]) if latest.get("priority") else None,
                closed=request in resolved,
            )
        )
    return out


def list_cases(store: Store, *, today: date, show_all: bool, out: TextIO) -> int:
    """Open cases, soonest deadline first (no deadline last); `show_all` adds the closed ones."""
    cases = [c for c in journal_cases(store) if show_all or not c.closed]
    cases.sort(key=lambda c: (c.closed, c.due is None, c.due or date.max, c.request))
    open_count = sum(1 for c in cases if not c.closed)
    print(
        f"cases: {open_count} open" + (f", {len(cases) - open_count} closed" if show_all else ""),
        file=out,
    )
    if not cases:
        return 0
    table = [
        (
            c.case_key,
            c.request,
            c.workflow,
            c.due.isoformat() if c.due else "-",
            _days(c.due, today),
            c.priority or "-",
            "closed" if c.closed else "open",
        )
        for c in cases
    ]
    headers = ("case", "request", "workflow", "deadline", "days left", "priority", "state")
    for line in format_table(headers, table):
        print(line, file=out)
    return 0


def _days(due: date | None, today: date) -> str:
    if due is None:
        return "-"
    days = (due - today).days
    return f"{-days} overdue" if days < 0 else str(days)
