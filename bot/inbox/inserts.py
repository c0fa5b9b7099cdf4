"""Storing new deliveries, the intake's hot path: one transaction per batch, in plain DB-API SQL.

SQLAlchemy's per-statement overhead was most of this path's cost, so it runs on the DB-API
connection. On SQLite the intake writes on its event loop and never waits for the write
lock (`insert_without_waiting`): when the worker process holds it, the batch is tried again
a moment later, and the loop serves other requests meanwhile. PostgreSQL's intake writes are
asynchronous (bot/inbox/pg_intake.py, one fixed UNNEST statement) and share the rules here
for what is new and what each caller is answered.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

BUSY_SECONDS = 30.0
"""How long a write waits for another process's write lock before it fails."""
_OUTAGE_ERRORS = frozenset({"OperationalError", "InterfaceError", "InternalError"})
_ROW_ERRORS = frozenset({"DataError", "IntegrityError", "UnicodeError"})
_INSERT = (
    "INSERT INTO deliveries (id, source, event_name, issue_key, body, status, attempts, "
    "received_at, next_attempt_at) VALUES {values} ON CONFLICT (id) DO NOTHING RETURNING id"
)
_ROW = "({m}, {m}, {m}, {m}, {m}, 'pending', 0, {m}, {m})"
ROWS_PER_STATEMENT = 500
"""Rows per multi-row INSERT (7 parameters each; far under both databases' limits)."""


@dataclass(frozen=True)
class NewDelivery:
    """What the intake stores for one accepted delivery."""

    id: str
    source: str
    event_name: str
    issue_key: str | None
    body: bytes
    # (id, since): the delivery is also a duplicate when a row with that id was received at
    # or after `since` (the Automation endpoint's time window; see bot/intake.py).
    seen_as: tuple[str, float] | None = None


def is_outage(exc: BaseException) -> bool:
    """True when the exception says the store is down rather than that a row is bad.

    By the DB-API (PEP 249) exception names, which SQLite's and psycopg's errors share.
    """
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & _OUTAGE_ERRORS) or isinstance(exc, OSError)


def is_row_error(exc: BaseException) -> bool:
    """True when the store refused the data itself (too long, NUL, bad Unicode), not an outage."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & _ROW_ERRORS) and not is_outage(exc)


def window_query(rows: Sequence[NewDelivery], mark: str) -> tuple[str, list[str]] | None:
    """The SELECT for the Automation rows' earlier-window ids, or None when there are none."""
    ids = list(dict.fromkeys(row.seen_as[0] for row in rows if row.seen_as))
    if not ids:
        return None
    marks = ", ".join([mark] * len(ids))
    return f"SELECT id, received_at FROM deliveries WHERE id IN ({marks})", ids  # noqa: S608


def _window_seen(cur: Any, rows: Sequence[NewDelivery], mark: str) -> dict[str, float]:
    """When each Automation row's earlier-window id was received, where it is stored."""
    query = window_query(rows, mark)
    if query is None:
        return {}
    cur.execute(*query)
    return {r[0]: float(r[1]) for r in cur.fetchall()}


def candidates(rows: Sequence[NewDelivery], seen: dict[str, float]) -> list[NewDelivery]:
    """The rows to insert: first occurrences, without those seen in the Automation window."""
    picked: dict[str, NewDelivery] = {}
    for row in rows:
        if row.id in picked:
            continue
        if row.seen_as is not None:
            other, since = row.seen_as
            # The earlier window's copy: new in this batch, or stored within the window.
            new_here = other in picked and other not in seen
            if new_here or seen.get(other, float("-inf")) >= since:
                continue
        picked[row.id] = row
    return list(picked.values())


def _values(row: NewDelivery, now: float) -> tuple[Any, ...]:
    return (row.id, row.source, row.event_name, row.issue_key, row.body, now, now)


def insert_statements(
    rows: Sequence[NewDelivery], now: float, mark: str
) -> list[tuple[str, list[Any]]]:
    """Multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING id statements for the rows."""
    out = []
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        values = ", ".join([_ROW.format(m=mark)] * len(chunk))
        out.append((_INSERT.format(values=values), [v for r in chunk for v in _values(r, now)]))
    return out


def _insert(cur: Any, rows: Sequence[NewDelivery], now: float, mark: str) -> set[str]:
    """INSERT the rows, many per statement; the ids that were new (RETURNING skips conflicts)."""
    inserted: set[str] = set()
    for statement in insert_statements(rows, now, mark):
        cur.execute(*statement)
        inserted.update(r[0] for r in cur.fetchall())
    return inserted


def answers(rows: Sequence[NewDelivery], inserted: set[str]) -> list[bool]:
    """True for the first occurrence of each inserted id, False for everything else."""
    out = []
    for row in rows:
        out.append(row.id in inserted)
        inserted.discard(row.id)
    return out


def insert_batch(raw: Any, rows: Sequence[NewDelivery], now: float, mark: str) -> list[bool]:
    """Store the rows in one transaction; True where new. Raises (rolled back) on any failure.

    One multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING id: the primary key decides
    what is new, and one statement is one round trip. The first occurrence of a new id in
    the batch is new; repeats are duplicates. (Two processes racing on one id: one wins.)
    """
    try:
        cur = raw.cursor()
        inserted = _insert(cur, candidates(rows, _window_seen(cur, rows, mark)), now, mark)
        cur.close()
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    return answers(rows, inserted)


def insert_without_waiting(
    raw: sqlite3.Connection, rows: Sequence[NewDelivery], now: float
) -> list[bool | Exception] | None:
    """SQLite: store the rows in one transaction if the write lock is free now, else None.

    `raw` has a zero busy timeout, so BEGIN IMMEDIATE fails at once when another process
    writes; once the lock is held nothing else should block (WAL readers never do; commits do
    not checkpoint), and a busy error there all the same (another process recovering the
    WAL) rolls back and gives None too. When SQLite refuses a statement, that statement's rows
    are inserted one by one in the same transaction, so a row it refuses is that row's
    Exception and the others still commit. A failure of the database itself rolls back and
    raises.
    """
    try:
        raw.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if _is_busy(exc):
            return None
        raise
    failed: dict[str, Exception] = {}
    inserted: set[str] = set()
    try:
        cur = raw.cursor()
        picked = candidates(rows, _window_seen(cur, rows, "?"))
        for start in range(0, len(picked), ROWS_PER_STATEMENT):
            chunk = picked[start : start + ROWS_PER_STATEMENT]
            try:
                inserted |= _insert(cur, chunk, now, "?")
            except Exception as exc:
                if not is_row_error(exc):
                    raise
                for row in chunk:  # SQLite undid only the failed statement
                    try:
                        inserted |= _insert(cur, [row], now, "?")
                    except Exception as row_exc:
                        if not is_row_error(row_exc):
                            raise
                        failed[row.id] = row_exc
        cur.close()
        raw.commit()
    except BaseException as exc:
        raw.rollback()
        if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
            return None  # e.g. another process recovering the WAL: try again shortly
        raise
    new = answers(rows, inserted)
    return [failed.get(row.id) or fresh for row, fresh in zip(rows, new, strict=True)]


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def spin_while_locked(raw: Any, write: Callable[[], T]) -> T:
    """SQLite: run `write`, retrying every 0.5 ms while another process holds the write lock.

    SQLite's own busy handler sleeps 1, 2, 5, 10 ... 100 ms between tries, so a lock the
    worker process held for one millisecond could cost the caller tens of milliseconds.
    This spins in short steps instead, for at most BUSY_SECONDS.
    """
    deadline = time.monotonic() + BUSY_SECONDS
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                return write()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.0005)
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
