"""The lease a worker holds on the delivery it processes: its fencing token and time budget."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


class LeaseLost(Exception):
    """This worker no longer owns the delivery's current attempt: stop before the next effect."""


@dataclass
class Lease:
    """One claim of one delivery. `token` is new for every claim; `until` is on the store clock.

    The heartbeat and every fenced journal write move `until`; once a write finds another
    token in the row, `lost` is set for good.
    """

    delivery_id: str
    owner: str
    token: str
    until: float
    seconds: float
    clock: Callable[[], float]
    lost: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def remaining(self) -> float:
        """Seconds left on the lease (0 once lost)."""
        with self._lock:
            return 0.0 if self.lost else max(0.0, self.until - self.clock())

    def extend(self, until: float) -> None:
        """The store renewed the lease up to `until`."""
        with self._lock:
            self.until = max(self.until, until)

    def mark_lost(self) -> None:
        """Another claim took over: no further effect may happen under this lease."""
        with self._lock:
            self.lost = True


_current: ContextVar[Lease | None] = ContextVar("uzibot_lease", default=None)


def current_lease() -> Lease | None:
    """The lease held by this thread's (context's) current processing, if any."""
    return _current.get()


@contextmanager
def holding(lease: Lease) -> Iterator[Lease]:
    """Make `lease` the current one while the body runs (the store fences journal writes on it)."""
    token = _current.set(lease)
    try:
        yield lease
    finally:
        _current.reset(token)
