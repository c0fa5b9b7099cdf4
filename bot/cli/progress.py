"""A small progress bar for long commands: drawn on stderr, and only when it is a terminal."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO


class Progress:
    """`with Progress(total, "replaying") as bar: ... bar.advance()`; silent off a terminal."""

    def __init__(
        self,
        total: int,
        label: str,
        *,
        stream: TextIO | None = None,
        width: int = 30,
        min_interval: float = 0.1,
    ) -> None:
        self.total = max(total, 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.min_interval = min_interval
        self.done = 0
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._drawn_at = 0.0
        self._started = time.monotonic()

    def __enter__(self) -> Progress:
        self._draw(force=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._draw(force=True)
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()

    def advance(self, n: int = 1) -> None:
        """Count `n` more items done and redraw (at most every `min_interval` seconds)."""
        self.done = min(self.total, self.done + n) if self.total else self.done + n
        self._draw(force=self.done == self.total)

    def update(self, done: int, total: int) -> None:
        """Set the count and the total (for work that learns its total as it starts), redraw."""
        self.total = max(total, 0)
        self.done = min(done, self.total) if self.total else max(done, 0)
        self._draw(force=self.done == self.total)

    def line(self) -> str:
        """The bar as text, e.g. `replaying [#######.......]  12/40  30%  3 s`."""
        fraction = self.done / self.total if self.total else 1.0
        filled = int(self.width * fraction)
        elapsed = time.monotonic() - self._started
        return (
            f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
            f"{self.done}/{self.total} {fraction:4.0%} {elapsed:.0f} s"
        )

    def _draw(self, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._drawn_at < self.min_interval:
            return
        self._drawn_at = now
        self.stream.write("\r" + self.line())
        self.stream.flush()
