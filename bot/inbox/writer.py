"""Group commit for the intake: deliveries arriving together are stored in one transaction.

A batch that fails is retried row by row, so one row the store refuses fails only itself;
a store that is down (no connection, disk full, locked) fails the batch at once.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bot.inbox.store import NewDelivery, Store

log = logging.getLogger("uzibot.intake")

_Pending = list[tuple[NewDelivery, asyncio.Future[bool]]]

# DB-API (PEP 249) exception names: the store is unavailable, or it refused the row's data.
POSTGRES_WRITERS = 3
"""Batches committing at once on PostgreSQL (SQLite: one; it has a single write lock)."""
_OUTAGE_ERRORS = frozenset({"OperationalError", "InterfaceError", "InternalError"})
_ROW_ERRORS = frozenset({"DataError", "IntegrityError", "UnicodeError"})


class Unstorable(Exception):
    """The store refused this one delivery by itself: it can never be stored as it is."""


def is_outage(exc: BaseException) -> bool:
    """True when the exception says the store is down rather than that a row is bad."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & _OUTAGE_ERRORS) or isinstance(exc, OSError)


def is_row_error(exc: BaseException) -> bool:
    """True when the store refused the data itself (too long, NUL, bad Unicode)."""
    return bool({cls.__name__ for cls in type(exc).__mro__} & _ROW_ERRORS)


@dataclass
class _LoopState:
    pending: _Pending = field(default_factory=list)
    writing: int = 0
    """Batches being committed now (at most the writer's `writers`)."""
    busy: set[str] = field(default_factory=set)
    """Delivery ids in a batch being committed: a repeat waits for the next batch, so that
    it is answered "duplicate" exactly as with one writer."""


class InboxWriter:
    """Batches the deliveries that arrive while the previous batch commits into one transaction.

    Each caller awaits its own row's outcome, and is answered only after the transaction
    holding it committed, so "accepted" still means "stored". The commit runs on one writer
    thread, never on the event loop: a commit that waits (the worker process holds SQLite's
    write lock, a PostgreSQL commit waits for its WAL flush) stalls no other request, and
    what arrives meanwhile goes into the next batch (one commit per batch, not per request).

    On PostgreSQL `writers` batches commit at once, each on its own connection: a commit
    there mostly waits for its WAL flush, and PostgreSQL flushes concurrent commits together,
    so the next batch need not wait for the previous one's flush. SQLite has one writer.
    """

    def __init__(self, store: Store, writers: int | None = None) -> None:
        self.store = store
        self.writers = writers or (POSTGRES_WRITERS if store.is_postgres else 1)
        self._loops: dict[asyncio.AbstractEventLoop, _LoopState] = {}
        self._executor: ThreadPoolExecutor | None = None

    async def submit(self, delivery: NewDelivery) -> bool:
        """Store the delivery; True when new, False when its id was seen; raises on failure."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                self.writers, thread_name_prefix="uzibot-inbox-writer"
            )
            self.store.start_checkpointer()
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = _LoopState()
        future: asyncio.Future[bool] = loop.create_future()
        state.pending.append((delivery, future))
        if state.writing < self.writers:
            state.writing += 1
            loop.call_soon(self._flush, loop, state)
        return await future

    def _flush(self, loop: asyncio.AbstractEventLoop, state: _LoopState) -> None:
        batch: _Pending = []
        held: _Pending = []
        for item in state.pending:
            (held if item[0].id in state.busy else batch).append(item)
        state.pending = held
        if not batch:
            state.writing -= 1
            return
        assert self._executor is not None  # set by the first submit
        rows = [delivery for delivery, _ in batch]
        state.busy.update(row.id for row in rows)
        done = loop.run_in_executor(self._executor, self._store, rows)
        done.add_done_callback(lambda f: self._answer(loop, state, batch, f))

    def _store(self, rows: list[NewDelivery]) -> list[bool | Exception]:
        """On the writer thread: the batch in one transaction, else row by row.

        An outage fails the batch at once (no row-by-row retries against a database that is
        down); any other failure is retried per row, so a row the store refuses fails alone.
        """
        try:
            return list(self.store.add_deliveries(rows))
        except Exception as exc:
            if len(rows) == 1 or is_outage(exc):
                log.error("could not store %d deliveries: %s", len(rows), exc)
                return [_outcome(row, exc) for row in rows]
            log.warning("a batch of %d failed (%s); storing its rows one by one", len(rows), exc)
        out: list[bool | Exception] = []
        for row in rows:
            try:
                out.append(self.store.add_deliveries([row])[0])
            except Exception as exc:
                log.error("could not store delivery %s: %s", row.id, exc)
                out.append(_outcome(row, exc))
        return out

    def _answer(
        self,
        loop: asyncio.AbstractEventLoop,
        state: _LoopState,
        batch: _Pending,
        outcome: asyncio.Future[list[bool | Exception]],
    ) -> None:
        state.busy.difference_update(delivery.id for delivery, _ in batch)
        exc = outcome.exception()
        results: list[bool | BaseException] = (
            [exc] * len(batch) if exc is not None else list(outcome.result())
        )
        if exc is not None:
            log.error("could not store %d deliveries: %s", len(batch), exc)
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        self._flush(loop, state)  # what arrived during this commit is the next batch


def _outcome(delivery: NewDelivery, exc: Exception) -> Exception:
    """A row whose data the store refused becomes Unstorable (422); anything else stays (503)."""
    if is_row_error(exc) and not is_outage(exc):
        return Unstorable(f"the inbox refused delivery {delivery.id}: {exc}")
    return exc
