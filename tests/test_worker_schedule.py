"""The worker's retry schedule: exponential, jittered, capped, honouring Retry-After, for days."""

from __future__ import annotations

import random

from bot.inbox.worker import RetrySchedule
from bot.settings import Settings


def test_default_schedule_spans_days() -> None:
    schedule = RetrySchedule()
    assert schedule.max_attempts == Settings.model_fields["worker_max_attempts"].default
    span_days = schedule.span_seconds() / 86400
    assert 3.5 < span_days < 4.0
    # with jitter every delay is at least half its ceiling: the shortest span is ~2 days
    assert span_days / 2 > 1.9


def test_delays_grow_exponentially_within_jitter_bounds_and_cap() -> None:
    schedule = RetrySchedule(max_attempts=30, base_seconds=30, cap_seconds=3600)
    rng = random.Random(7)
    for attempt in range(1, 30):
        ceiling = min(3600, 30 * 2 ** (attempt - 1))
        for _ in range(20):
            delay = schedule.delay(attempt, None, rng)
            assert ceiling / 2 <= delay <= ceiling


def test_retry_after_is_a_floor() -> None:
    schedule = RetrySchedule(base_seconds=1, cap_seconds=10)
    assert schedule.delay(1, 120.0, random.Random(1)) == 120.0
    assert schedule.delay(1, 0.2, random.Random(1)) >= 0.5
