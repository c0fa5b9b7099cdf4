"""Group commit for the intake: deliveries arriving together are stored in one transaction."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bot.inbox.store import NewDelivery, Store

log = logging.getLogger("uzibot.intake")

_Pending = list[tuple[NewDelivery, asyncio.Future[bool]]]


@dataclass
class _LoopState:
    pending: _Pending = field(default_factory=list)
    writing: bool = False


class InboxWriter:
    """Batches the deliveries that arrive while the previous batch commits into one transaction.

    Each caller awaits its own row's outcome, and is answered only after the transaction
    holding it committed, so "accepted" still means "stored". The commit runs on one writer
    thread, never on the event loop: a commit that waits (the worker process holds SQLite's
    write lock, a PostgreSQL commit waits for its WAL flush) stalls no other request, and
    what arrives meanwhile goes into the next batch (one commit per batch, not per request).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._loops: dict[asyncio.AbstractEventLoop, _LoopState] = {}
        self._executor: ThreadPoolExecutor | None = None

    async def submit(self, delivery: NewDelivery) -> bool:
        """Store the delivery; True when new, False when its id was seen; raises on failure."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="uzibot-inbox-writer")
            self.store.start_checkpointer()
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = _LoopState()
        future: asyncio.Future[bool] = loop.create_future()
        state.pending.append((delivery, future))
        if not state.writing:
            state.writing = True
            loop.call_soon(self._flush, loop, state)
        return await future

    def _flush(self, loop: asyncio.AbstractEventLoop, state: _LoopState) -> None:
        batch, state.pending = state.pending, []
        if not batch:
            state.writing = False
            return
        assert self._executor is not None  # set by the first submit
        rows = [delivery for delivery, _ in batch]
        done = loop.run_in_executor(self._executor, self.store.add_deliveries, rows)
        done.add_done_callback(lambda f: self._answer(loop, state, batch, f))

    def _answer(
        self,
        loop: asyncio.AbstractEventLoop,
        state: _LoopState,
        batch: _Pending,
        outcome: asyncio.Future[list[bool]],
    ) -> None:
        exc = outcome.exception()
        if exc is not None:
            log.error("could not store %d deliveries: %s", len(batch), exc)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
        else:
            for (_, future), new in zip(batch, outcome.result(), strict=True):
                if not future.done():
                    future.set_result(new)
        self._flush(loop, state)  # what arrived during this commit is the next batch
