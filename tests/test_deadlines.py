"""Tests for bot.certs.deadlines: Amsterdam dates, month/year ends, leap days, the three states."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.certs.deadlines import (
    Deadlines,
    compute_deadlines,
    deactivation_date,
    deadline_state,
    latest_start,
    local_date,
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("not_after", "deactivation", "start"),
    [
        (utc(2027, 3, 3, 12), date(2027, 2, 24), date(2027, 2, 3)),  # over a short February
        (utc(2028, 3, 7, 12), date(2028, 2, 29), date(2028, 2, 8)),  # lands on 29 Feb 2028
        (utc(2028, 3, 21, 12), date(2028, 3, 14), date(2028, 2, 22)),  # over 29 Feb 2028
        (utc(2027, 1, 5, 10), date(2026, 12, 29), date(2026, 12, 8)),  # over the year end
        (utc(2027, 1, 20, 10), date(2027, 1, 13), date(2026, 12, 23)),  # start in last year
        (utc(2026, 5, 1, 10), date(2026, 4, 24), date(2026, 4, 3)),  # over a month end
        (utc(2026, 8, 1, 10), date(2026, 7, 25), date(2026, 7, 4)),
    ],
)
def test_dates(not_after: datetime, deactivation: date, start: date) -> None:
    assert deactivation_date(not_after) == deactivation
    assert latest_start(not_after) == start
    assert deactivation - start == timedelta(days=21)


def test_not_after_near_midnight_utc_uses_the_amsterdam_date() -> None:
    # Summer (CEST, +2): 22:30 UTC on 31 May is 00:30 on 1 June in Amsterdam.
    summer = utc(2026, 5, 31, 22, 30)
    assert local_date(summer) == date(2026, 6, 1)
    assert deactivation_date(summer) == date(2026, 5, 25)
    # Winter (CET, +1): 23:00 UTC on 31 December is already 1 January.
    winter = utc(2027, 12, 31, 23, 0)
    assert deactivation_date(winter) == date(2027, 12, 25)
    assert utc(2027, 12, 31, 22, 59).date() == local_date(utc(2027, 12, 31, 22, 59))
    # 23:30 UTC on 28 Feb 2028 is 29 Feb in Amsterdam.
    assert local_date(utc(2028, 2, 28, 23, 30)) == date(2028, 2, 29)


def test_naive_datetimes_are_taken_as_utc() -> None:
    assert local_date(datetime(2026, 5, 31, 22, 30)) == date(2026, 6, 1)


def test_state_boundaries() -> None:
    not_after = utc(2028, 3, 7, 12)  # latest start 8 Feb 2028
    start = date(2028, 2, 8)
    assert deadline_state(not_after, start + timedelta(days=1)) == "too_late"
    assert deadline_state(not_after, start) == "tight"
    assert deadline_state(not_after, start - timedelta(days=14)) == "tight"
    assert deadline_state(not_after, start - timedelta(days=15)) == "on_time"
    assert deadline_state(not_after, date(2029, 1, 1)) == "too_late"


def test_compute_deadlines_is_frozen() -> None:
    result = compute_deadlines(utc(2027, 1, 5, 10), date(2026, 12, 1))
    assert result == Deadlines(date(2026, 12, 29), date(2026, 12, 8), "tight")
    with pytest.raises(AttributeError):
        result.state = "on_time"  # type: ignore[misc]
