"""One Jira write governor per process: a shared write rate, per-issue spacing, 429 pauses.

Every worker thread sends its Jira calls through one JiraHttp, and so through one
WriteGovernor:

- writes (every method but GET) draw from one token bucket (`rate` per second, `burst`
  at once), reserved in turn (GCRA), so eight threads together stay under the rate;
- two writes to the same issue are at least `issue_spacing` seconds apart (Jira Cloud also
  limits writes per issue);
- a 429 with Retry-After pauses every write of every thread until it ends, and
  is published on a `PauseBoard` (the database) so that other processes pause as well;
- no wait runs past the caller's wait budget (the worker's lease, bot.jira.retry): a wait
  that does not fit raises `Throttled` (retryable, `retry_after` = the wait) at once, and the
  worker hands the delivery back to its schedule as it does for a 429.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Protocol

from bot.jira.retry import BudgetSpent

log = logging.getLogger("uzibot.jira")

_ISSUE_IN_PATH = re.compile(r"(?:^|/)(?:issue|request)/([A-Za-z][A-Za-z0-9_]*-\d+|\d+)(?:/|$)")
_BOARD_CACHE_SECONDS = 1.0
_MAX_PAUSE_SECONDS = 3600.0
_SAME_PAUSE = 0.25  # the board's copy of a pause differs from ours by clock conversion only


class PauseBoard(Protocol):
    """Where processes share a Jira pause: an epoch time until which nobody calls Jira."""

    def read_pause(self) -> float:
        """The shared pause's end (epoch seconds; 0 when none)."""
        ...

    def extend_pause(self, until: float) -> None:
        """Move the shared pause's end to `until` unless it already ends later."""
        ...


class Throttled(BudgetSpent):
    """The governor's wait does not fit in the caller's budget: hand the work back at once
    (never retried in-process); `retry_after` is the wait, the schedule's least delay."""

    def __init__(self, wait: float, operation: str = "") -> None:
        super(BudgetSpent, self).__init__(
            429,
            f"the write governor asks for a {wait:.1f} s wait that the lease cannot hold",
            retry_after=wait,
            operation=operation,
        )


def issue_of(path: str) -> str | None:
    """The issue key or id a REST path writes to (`issue/UZO-1/comment`), None for others."""
    match = _ISSUE_IN_PATH.search(path)
    return match.group(1).upper() if match else None


class WriteGovernor:
    """Paces this process's Jira calls; thread-safe. `clock`/`sleep`/`wall` are injectable."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float = 1.0,
        issue_spacing: float = 0.0,
        board: PauseBoard | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Callable[[float], None] | None = None,
    ) -> None:
        if rate <= 0 or burst < 1 or issue_spacing < 0:
            raise ValueError("rate must be positive, burst at least 1, spacing not negative")
        self.rate = rate
        self.issue_spacing = issue_spacing
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1.0) * self._interval
        self._board = board
        self._clock = clock
        self._wall = wall
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tat = clock()  # GCRA: the theoretical arrival time of the next write
        self._issue_ready: dict[str, float] = {}
        self._pause_until = 0.0  # on `clock`
        self._board_read_at = float("-inf")
        self._local = threading.local()
        self.waited = 0.0
        """Seconds slept in `acquire`, all threads together (for benchmarks and metrics)."""
        self._on_wait = on_wait
        """Told each wait before it is slept (the `uzibot_jira_governor_wait_seconds` counter)."""

    def pause(self, seconds: float) -> None:
        """Jira said 429 with Retry-After `seconds`: every thread's writes wait until it passed.

        The calling thread itself is exempt: its retry policy already waits (or hands the
        delivery back), so it does not wait twice.
        """
        seconds = min(max(seconds, 0.0), _MAX_PAUSE_SECONDS)
        with self._lock:
            self._pause_until = max(self._pause_until, self._clock() + seconds)
            self._local.exempt_until = self._pause_until
        if self._board is not None:
            try:
                self._board.extend_pause(self._wall() + seconds)
            except Exception:
                log.exception("could not share the Jira pause; this process still waits")

    def paused_for(self) -> float:
        """Seconds left of the pause in force (this process's or the shared one)."""
        with self._lock:
            return max(0.0, self._pause_end() - self._clock())

    def acquire(
        self,
        method: str,
        path: str,
        budget: Callable[[], float] | None = None,
        operation: str = "",
    ) -> None:
        """Wait until this call may be sent; raise Throttled when the wait exceeds `budget()`.

        A write takes its slot in the bucket (and in its issue's spacing) before sleeping, so
        threads queue in order. A pause that begins during the sleep and ends later is waited
        for too.
        """
        write = method.upper() != "GET"
        issue = issue_of(path) if write else None
        while True:
            with self._lock:
                now = self._clock()
                pause_end = self._pause_end()
                if getattr(self._local, "exempt_until", -1.0) >= pause_end - _SAME_PAUSE:
                    pause_end = now  # this thread's own 429: its retry policy waits for it
                start = max(now, pause_end) if write else now
                if write:
                    start = max(start, self._tat - self._tolerance)
                    if issue is not None:
                        start = max(start, self._issue_ready.get(issue, now))
                wait = start - now
                if budget is not None and wait > 0 and wait > budget():
                    raise Throttled(wait, operation)
                if write:
                    self._tat = max(self._tat, start) + self._interval
                    if issue is not None:
                        self._issue_ready[issue] = start + self.issue_spacing
                        self._forget_old_issues(now)
                self.waited += wait
            if wait <= 0:
                return
            if self._on_wait is not None:
                self._on_wait(wait)
            self._sleep(wait)
            with self._lock:
                if self._pause_end() <= start:
                    return
            write = False  # the slot is taken; only the new pause is left to wait for

    def _pause_end(self) -> float:
        """The later of this process's pause and the board's (read at most once a second)."""
        if self._board is not None:
            now = self._clock()
            if now - self._board_read_at >= _BOARD_CACHE_SECONDS:
                self._board_read_at = now
                try:
                    shared = self._board.read_pause() - self._wall()
                except Exception:
                    log.exception("could not read the shared Jira pause")
                    shared = 0.0
                if shared > 0:
                    self._pause_until = max(
                        self._pause_until, now + min(shared, _MAX_PAUSE_SECONDS)
                    )
        return self._pause_until

    def _forget_old_issues(self, now: float) -> None:
        if len(self._issue_ready) > 4096:
            self._issue_ready = {k: t for k, t in self._issue_ready.items() if t > now}
