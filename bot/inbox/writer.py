"""Group commit for the intake: deliveries arriving together are stored in one transaction.

A batch that fails is retried row by row, so one row the store refuses fails only itself;
a store that is down (no connection, disk full, locked) fails the batch at once.
"""

from __future__ import annotations

import asyncio
import logging

from bot.inbox.store import NewDelivery, Store

log = logging.getLogger("uzibot.intake")

_Pending = list[tuple[NewDelivery, asyncio.Future[bool]]]

# DB-API (PEP 249) exception names: the store is unavailable, or it refused the row's data.
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


class InboxWriter:
    """Batches the deliveries that arrive in one event-loop turn into one transaction.

    Each caller awaits its own row's outcome, and is answered only after the transaction
    holding it committed, so "accepted" still means "stored". The write runs on the event
    loop itself (a few hundred microseconds per batch): no thread hand-offs, no GIL ping-pong.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: dict[asyncio.AbstractEventLoop, _Pending] = {}
        self._started = False

    async def submit(self, delivery: NewDelivery) -> bool:
        """Store the delivery; True when new, False when its id was seen; raises on failure."""
        if not self._started:
            self._started = True
            self.store.start_checkpointer()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = []
            loop.call_soon(self._flush, loop)
        pending.append((delivery, future))
        return await future

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._pending.pop(loop, [])
        if not batch:
            return
        try:
            results = self.store.add_deliveries([delivery for delivery, _ in batch])
        except Exception as exc:
            if len(batch) == 1 or is_outage(exc):
                log.exception("could not store %d deliveries", len(batch))
                for delivery, future in batch:
                    _fail(future, delivery, exc)
                return
            log.warning("a batch of %d failed (%s); storing its rows one by one", len(batch), exc)
            for one in batch:
                self._store_alone(*one)
            return
        for (_, future), new in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(new)

    def _store_alone(self, delivery: NewDelivery, future: asyncio.Future[bool]) -> None:
        try:
            new = self.store.add_deliveries([delivery])[0]
        except Exception as exc:
            log.exception("could not store delivery %s", delivery.id)
            _fail(future, delivery, exc)
            return
        if not future.done():
            future.set_result(new)


def _fail(future: asyncio.Future[bool], delivery: NewDelivery, exc: Exception) -> None:
    """A row whose data the store refused becomes Unstorable (422); anything else stays (503)."""
    if future.done():
        return
    if is_row_error(exc) and not is_outage(exc):
        future.set_exception(Unstorable(f"the inbox refused delivery {delivery.id}: {exc}"))
    else:
        future.set_exception(exc)
