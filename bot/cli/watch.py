"""`uzibot watch --once [--today YYYY-MM-DD]`: one expiry scan, for cron or a scheduler."""

from __future__ import annotations

import sys
from datetime import date
from typing import TextIO

from bot.cli.progress import Progress
from bot.wiring import Services, today_in_amsterdam


def run_watch(
    services: Services, *, today: date | None, out: TextIO, progress: TextIO | None = None
) -> int:
    """Scan once; print what was done; exit 1 when a step failed (it is retried next scan).

    A progress bar over the watched certificates goes to `progress` (stderr) on a terminal:
    a catch-up after downtime may have a step for many of them.
    """
    day = today or today_in_amsterdam()
    with Progress(0, "expiry scan", stream=progress or sys.stderr) as bar:
        found = services.watch.scan(day, on_progress=bar.update)
    for line in found.lines:
        out.write(f"  {line}\n")
    out.write(
        f"expiry scan {day.isoformat()}: {found.watched} watched, {found.raised} requests "
        f"raised, {found.adopted} adopted, {found.tracking} agents-only issues, "
        f"{found.reminders} reminders, {found.priorities} priorities raised, {found.newer} "
        f"newer noted, {found.closed} closed, {found.held_elsewhere} held elsewhere, "
        f"{found.failed} failed\n"
    )
    return 1 if found.failed else 0
