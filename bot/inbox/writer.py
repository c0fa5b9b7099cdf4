"""Group commit for the intake: deliveries arriving together are stored in one transaction.

Everything runs on the event loop, with no writer thread: on SQLite the batch is written
there without ever waiting for the write lock (the worker process may hold it; the batch is
tried again 0.5 ms later); on PostgreSQL a few batches commit at once on asynchronous
connections. A row the store refuses fails only itself; a store that is down (no
connection, disk full, locked for 30 s) fails the batch at once.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from dataclasses import dataclass, field

from bot.inbox.inserts import BUSY_SECONDS, NewDelivery, is_outage, is_row_error
from bot.inbox.pg_intake import AsyncInserter
from bot.inbox.store import Store

log = logging.getLogger("uzibot.intake")

_Pending = list[tuple[NewDelivery, asyncio.Future[bool]]]
_Results = list[bool | Exception]

POSTGRES_WRITERS = 1
"""Batches committing at once on PostgreSQL by default (`POSTGRES_INTAKE_COMMITS`; SQLite:
always one, it has a single write lock). One batch at a time makes the batches larger, which
measured fastest where a commit takes about a millisecond; more help where it takes ten."""
LOCK_RETRY_SECONDS = 0.0005
"""SQLite: how soon a batch is tried again while another process holds the write lock."""

__all__ = ["InboxWriter", "Unstorable", "is_outage", "is_row_error"]


class Unstorable(Exception):
    """The store refused this one delivery by itself: it can never be stored as it is."""


@dataclass
class _LoopState:
    pending: _Pending = field(default_factory=list)
    writing: int = 0
    """Batches being committed now (at most the writer's `writers`)."""
    busy: set[str] = field(default_factory=set)
    """Delivery ids in a batch being committed: a repeat waits for the next batch, so that
    it is answered "duplicate" exactly as with one writer."""
    inserter: AsyncInserter | None = None
    """PostgreSQL: this loop's connections (a connection belongs to one event loop)."""
    unsettled: set[int] = field(default_factory=set)
    """Batches (by id) whose callers are not answered yet: each is settled exactly once."""


class InboxWriter:
    """Batches the deliveries that arrive while the previous batch commits into one transaction.

    Each caller awaits its own row's outcome, and is answered only after the transaction
    holding it committed, so "accepted" still means "stored". What arrives while a batch
    commits goes into the next batch (one commit per batch, not per request).

    SQLite: the batch is written on the event loop if the write lock is free; otherwise it
    is tried again shortly, and the loop serves other requests meanwhile. That is cheaper
    than a writer thread, whose hand-offs and GIL contention cost more than the insert
    (WAL commits do not fsync; checkpoints run on the store's own thread).

    PostgreSQL: a commit waits for the server (on the loop, not a thread); `writers` batches
    may commit at once, each on its own asynchronous connection, and the server flushes
    concurrent commits together.
    """

    def __init__(self, store: Store, writers: int | None = None) -> None:
        self.store = store
        self.inline = not store.is_postgres
        self.writers = (writers or POSTGRES_WRITERS) if store.is_postgres else 1
        self._loops: dict[asyncio.AbstractEventLoop, _LoopState] = {}
        self._started = False
        self._tasks: set[asyncio.Task[None]] = set()
        """PostgreSQL batches being written (kept: the loop holds tasks only weakly)."""
        store.on_close(self.close)

    async def submit(self, delivery: NewDelivery) -> bool:
        """Store the delivery; True when new, False when its id was seen; raises on failure."""
        if not self._started:
            self._started = True
            self.store.start_checkpointer()  # SQLite: keeps the WAL short, off the loop
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = self._new_state()
        future: asyncio.Future[bool] = loop.create_future()
        state.pending.append((delivery, future))
        if state.writing < self.writers:
            state.writing += 1
            loop.call_soon(self._flush, loop, state)
        return await future

    def _new_state(self) -> _LoopState:
        # Loops that have ended (a test's asyncio.run) keep no connections open.
        for old in [loop for loop in self._loops if loop.is_closed()]:
            gone = self._loops.pop(old)
            if gone.inserter is not None:
                gone.inserter.close()
        state = _LoopState()
        if not self.inline:
            state.inserter = AsyncInserter(self.store.postgres_conninfo())
        return state

    def close(self) -> None:
        """Close the PostgreSQL connections of every loop (the store closes with it)."""
        for state in self._loops.values():
            if state.inserter is not None:
                state.inserter.close()
        self._loops.clear()

    def _flush(self, loop: asyncio.AbstractEventLoop, state: _LoopState) -> None:
        batch: _Pending = []
        held: _Pending = []
        for item in state.pending:
            (held if item[0].id in state.busy else batch).append(item)
        state.pending = held
        if not batch:
            state.writing -= 1
            return
        state.busy.update(delivery.id for delivery, _ in batch)
        state.unsettled.add(id(batch))
        if self.inline:
            self._write_now(loop, state, batch, loop.time() + BUSY_SECONDS)
        else:
            task = loop.create_task(self._write_async(loop, state, batch))
            self._tasks.add(task)
            task.add_done_callback(lambda t: self._after_write(t, loop, state, batch))

    def _write_now(
        self,
        loop: asyncio.AbstractEventLoop,
        state: _LoopState,
        batch: _Pending,
        deadline: float,
    ) -> None:
        """SQLite, on the loop: write the batch if the lock is free, else come back shortly."""
        rows = [delivery for delivery, _ in batch]
        results: _Results | None
        try:
            results = self.store.add_deliveries_nowait(rows)
        except Exception as exc:
            log.error("could not store %d deliveries: %s", len(rows), exc)
            results = [exc] * len(rows)
        if results is None:
            if loop.time() < deadline:
                loop.call_later(LOCK_RETRY_SECONDS, self._write_now, loop, state, batch, deadline)
                return
            locked = sqlite3.OperationalError(f"database is locked for over {BUSY_SECONDS:.0f} s")
            log.error("could not store %d deliveries: %s", len(rows), locked)
            results = [locked] * len(rows)
        self._settle(loop, state, batch, results)

    async def _write_async(
        self, loop: asyncio.AbstractEventLoop, state: _LoopState, batch: _Pending
    ) -> None:
        """PostgreSQL: the batch in one transaction, else (a row refused) row by row.

        An outage fails the batch at once (no row-by-row retries against a database that is
        down); any other failure is retried per row, so a row the store refuses fails alone.
        """
        assert state.inserter is not None  # made with the state on PostgreSQL
        rows = [delivery for delivery, _ in batch]
        results: _Results
        try:
            results = list(await state.inserter.insert(rows, self.store.clock()))
        except Exception as exc:
            if len(rows) == 1 or is_outage(exc):
                log.error("could not store %d deliveries: %s", len(rows), exc)
                results = [exc] * len(rows)
            else:
                log.warning("a batch of %d failed (%s); one by one", len(rows), exc)
                results = [await self._write_one(state.inserter, row) for row in rows]
        self._settle(loop, state, batch, results)

    def _after_write(
        self,
        task: asyncio.Task[None],
        loop: asyncio.AbstractEventLoop,
        state: _LoopState,
        batch: _Pending,
    ) -> None:
        """A batch whose task ended without answering (cancelled at shutdown, before it ran or
        while it waited on the server) gets an error, so nobody waits forever."""
        self._tasks.discard(task)
        failed = RuntimeError("the intake stopped before the batch was stored")
        self._settle(loop, state, batch, [failed] * len(batch))  # no-op when settled

    async def _write_one(self, inserter: AsyncInserter, row: NewDelivery) -> bool | Exception:
        try:
            return (await inserter.insert([row], self.store.clock()))[0]
        except Exception as exc:
            log.error("could not store delivery %s: %s", row.id, exc)
            return exc

    def _settle(
        self,
        loop: asyncio.AbstractEventLoop,
        state: _LoopState,
        batch: _Pending,
        results: _Results,
    ) -> None:
        """Answer each caller of the batch, then start the next batch (once per batch)."""
        if id(batch) not in state.unsettled:
            return
        state.unsettled.discard(id(batch))
        state.busy.difference_update(delivery.id for delivery, _ in batch)
        for (delivery, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(_outcome(delivery, result))
            else:
                future.set_result(result)
        self._flush(loop, state)  # what arrived during this commit is the next batch


def _outcome(delivery: NewDelivery, exc: Exception) -> Exception:
    """A row whose data the store refused becomes Unstorable (422); anything else stays (503)."""
    if is_row_error(exc):
        return Unstorable(f"the inbox refused delivery {delivery.id}: {exc}")
    return exc
