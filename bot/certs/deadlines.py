"""Deadlines for a certificate renewal: deactivation date, latest start and how urgent it is."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.certs.report import DeadlineState

DEACTIVATION_LEAD = timedelta(days=7)
PROCESSING_TIME = timedelta(days=21)
TIGHT_WINDOW = timedelta(days=14)


@functools.cache
def amsterdam() -> ZoneInfo:
    """The practices' time zone; dates are Dutch calendar days."""
    return ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class Deadlines:
    """When DigiD is switched off, the last day to start a renewal, and the state today."""

    deactivation_date: date
    latest_start: date
    state: DeadlineState


def local_date(moment: datetime) -> date:
    """The calendar date of a moment in Europe/Amsterdam (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(amsterdam()).date()


def deactivation_date(not_after: datetime) -> date:
    """The Amsterdam date of not_after minus seven days: DigiD is switched off that day."""
    return local_date(not_after) - DEACTIVATION_LEAD


def latest_start(not_after: datetime) -> date:
    """The last day on which about three weeks of processing still ends before deactivation."""
    return deactivation_date(not_after) - PROCESSING_TIME


def deadline_state(not_after: datetime, today: date) -> DeadlineState:
    """too_late after latest_start; tight in the 14 days up to and including it; else on_time."""
    last = latest_start(not_after)
    if today > last:
        return "too_late"
    if today >= last - TIGHT_WINDOW:
        return "tight"
    return "on_time"


def compute_deadlines(not_after: datetime, today: date) -> Deadlines:
    """All three facts at once; the clock (today) is always passed in."""
    return Deadlines(
        deactivation_date=deactivation_date(not_after),
        latest_start=latest_start(not_after),
        state=deadline_state(not_after, today),
    )
