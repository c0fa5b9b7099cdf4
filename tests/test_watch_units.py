"""Pure parts of the expiry watch: thresholds, steps, the scheduler thread, the settings."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest

from bot.settings import SettingsError, load_settings
from bot.watch import ScanResult, Scheduler, bucket_of
from handlers.expiry import CaseState, Watched, crossed, due_steps

CERT = Watched("01234567", "ab" * 32, datetime(2027, 3, 1, 9, tzinfo=UTC), contact="qm:x")
T = (60, 35, 28, 21, 14, 8)
ENV = {
    "JIRA_URL": "https://uwzorgonline.atlassian.net",
    "JIRA_USER": "bot@example.nl",
    "JIRA_API_TOKEN": "a-real-token-value",
    "WEBHOOK_SECRET": "a-real-secret-value",
    "SERVICE_DESK_PROJECT": "UZO",
}


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 12, 30), None),  # 61 days left
        (date(2026, 12, 31), 60),
        (date(2027, 1, 25), 35),
        (date(2027, 2, 21), 8),
        (date(2027, 3, 1), 8),  # the day it expires
        (date(2027, 3, 2), None),  # expired: nothing left to prevent
    ],
)
def test_the_latest_threshold_crossed(day: date, expected: int | None) -> None:
    assert crossed(CERT, day, T) == expected


def test_steps_open_then_remind_once_per_threshold_then_priority_after_the_latest_start() -> None:
    [opened] = due_steps(CERT, CaseState(), date(2026, 12, 31), T, "103")
    assert opened.name == "open" and opened.plan is not None
    spec = opened.plan.requests[0]
    assert spec.on_behalf_of == "qm:x" and spec.request_type == "103"
    assert "22 februari 2027" in spec.description and "1 februari 2027" in spec.description
    case = CaseState("UZO-9", "request", 60, frozenset({"open"}))
    assert due_steps(CERT, case, date(2027, 1, 20), T, "103") == []
    assert [s.name for s in due_steps(CERT, case, date(2027, 1, 25), T, "103")] == ["remind-35"]
    late = due_steps(CERT, case, date(2027, 2, 9), T, "103")
    assert [s.name for s in late] == ["remind-21", "priority"]
    done = CaseState("UZO-9", "request", 60, frozenset({"open", "remind-21", "priority"}))
    assert due_steps(CERT, done, date(2027, 2, 10), T, "103") == []
    closed = CaseState("UZO-9", "request", 60, frozenset({"open", "closed"}))
    assert due_steps(CERT, closed, date(2027, 2, 15), T, "103") == []


def test_without_a_contact_the_open_step_is_an_agents_only_issue() -> None:
    bare = Watched(CERT.abonneenummer, CERT.fingerprint, CERT.not_after)
    [opened] = due_steps(bare, CaseState(), date(2027, 1, 25), T, "103")
    assert opened.plan is not None
    spec = opened.plan.requests[0]
    assert spec.on_behalf_of is None and spec.labels == ("uzibot", "uzibot-expiry")


def test_buckets_by_days_to_switch_off() -> None:
    assert [bucket_of(d) for d in (-1, 0, 7, 8, 21, 22, 35, 36, 60, 61)] == [
        "expired", "0-7", "0-7", "8-21", "8-21", "22-35", "22-35", "36-60", "36-60", "over-60"
    ]  # fmt: skip


def test_the_scheduler_scans_now_and_then_every_interval_until_stopped() -> None:
    days: list[date] = []
    twice = threading.Event()

    def scan(day: date) -> ScanResult:
        days.append(day)
        if len(days) >= 2:
            twice.set()
        return ScanResult()

    stop = threading.Event()
    scheduler = Scheduler(scan, lambda: date(2027, 1, 1), interval=0.01)
    scheduler.start(stop)
    assert twice.wait(5)
    stop.set()
    scheduler.join(5)
    assert days[:2] == [date(2027, 1, 1)] * 2
    off = Scheduler(scan, lambda: date(2027, 1, 1), interval=0)
    off.start(threading.Event())
    assert off._thread is None


def test_thresholds_setting_is_validated_and_sorted() -> None:
    settings = load_settings({**ENV, "EXPIRY_THRESHOLDS": "8, 60,35"}, env_file=None)
    assert settings.thresholds() == (60, 35, 8)
    with pytest.raises(SettingsError) as err:
        load_settings({**ENV, "EXPIRY_THRESHOLDS": "60,soon"}, env_file=None)
    assert err.value.problems[0].startswith("EXPIRY_THRESHOLDS: ")
