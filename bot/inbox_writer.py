"""Group commit for the intake: deliveries arriving together are stored in one transaction."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from typing import Any

from bot.store import NewDelivery, Store

log = logging.getLogger("uzibot.intake")

_MAX_BATCH = 256


_Item = tuple[NewDelivery, asyncio.Future[bool], asyncio.AbstractEventLoop]


class InboxWriter:
    """One writer thread with one connection; each caller awaits its own row's commit.

    A delivery is answered only after the transaction holding it committed, so "accepted"
    still means "stored"; batching only shares the commit among concurrent deliveries.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    async def submit(self, delivery: NewDelivery) -> bool:
        """Store the delivery; True when new, False when its id was seen; raises on failure."""
        self._ensure_started()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._queue.put((delivery, future, loop))
        return await future

    def _ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="uzibot-inbox-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < _MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                results: list[Any] = self.store.add_deliveries([item[0] for item in batch])
            except Exception as exc:
                log.exception("could not store %d deliveries", len(batch))
                results = [exc] * len(batch)
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], Any]]] = {}
            for (_delivery, future, loop), result in zip(batch, results, strict=True):
                by_loop.setdefault(loop, []).append((future, result))
            for loop, settled in by_loop.items():
                # One wake-up of the event loop per batch, not one per delivery.
                try:
                    loop.call_soon_threadsafe(_settle, settled)
                except RuntimeError:  # the caller's loop is gone; its client is gone too
                    log.warning("event loop closed before %d answers", len(settled))


def _settle(settled: list[tuple[asyncio.Future[bool], Any]]) -> None:
    for future, result in settled:
        if future.done():
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(bool(result))
