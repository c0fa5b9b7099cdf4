"""Tests for the Jira retry policy: waits, stop, what is retried, logging."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from bot.jira.errors import JiraNotFound, JiraPermanent, JiraRetryable, parse_retry_after
from bot.jira.retry import RetryPolicy, call_with_retry, compute_wait


def upper_bound(low: float, high: float) -> float:
    return high


def failing(errors: list[BaseException], result: str = "ok") -> tuple[list[int], Callable[[], str]]:
    """A callable raising `errors` in turn, then returning `result`; counts its calls."""
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return calls, fn


def test_retry_after_is_used_and_clamped() -> None:
    policy = RetryPolicy(max_wait=60.0)
    assert compute_wait(policy, 1, JiraRetryable(429, "slow", retry_after=2)) == 2.0
    assert compute_wait(policy, 1, JiraRetryable(429, "slow", retry_after=0)) == 1.0
    assert compute_wait(policy, 1, JiraRetryable(429, "slow", retry_after=0.3)) == 1.0
    assert compute_wait(policy, 3, JiraRetryable(429, "slow", retry_after=9999)) == 60.0


def test_backoff_has_full_jitter_within_exponential_caps() -> None:
    policy = RetryPolicy(base=1.0, max_wait=5.0)
    for attempt, cap in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (10, 5.0)]:
        waits = [compute_wait(policy, attempt, JiraRetryable(503, "busy")) for _ in range(200)]
        assert all(0.0 <= w <= cap for w in waits)
        assert max(waits) > cap / 2  # spread out, not a constant
    exact = RetryPolicy(base=0.5, max_wait=100.0, uniform=upper_bound)
    assert [compute_wait(exact, n, None) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]


def test_huge_attempt_numbers_do_not_overflow() -> None:
    policy = RetryPolicy(max_wait=7.0, uniform=upper_bound)
    assert compute_wait(policy, 10_000, None) == 7.0


def test_retries_until_success_and_records_waits() -> None:
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=5, sleep=waits.append, uniform=upper_bound)
    calls, fn = failing([JiraRetryable(429, "a", retry_after=3), JiraRetryable(503, "b")])
    assert call_with_retry(policy, fn) == "ok"
    assert len(calls) == 3
    assert waits == [3.0, 2.0]


def test_gives_up_after_max_attempts_and_keeps_retry_after() -> None:
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=3, sleep=waits.append)
    errors: list[BaseException] = [JiraRetryable(429, f"n{i}", retry_after=7) for i in range(5)]
    calls, fn = failing(errors)
    with pytest.raises(JiraRetryable) as info:
        call_with_retry(policy, fn)
    assert len(calls) == 3
    assert waits == [7.0, 7.0]
    assert info.value.retry_after == 7
    assert info.value.message == "n2"  # the last error, not a tenacity wrapper


@pytest.mark.parametrize(
    "error",
    [JiraPermanent(400, "bad"), JiraNotFound(404, "gone"), ValueError("bug")],
)
def test_other_errors_are_not_retried(error: BaseException) -> None:
    waits: list[float] = []
    calls, fn = failing([error])
    with pytest.raises(type(error)):
        call_with_retry(RetryPolicy(sleep=waits.append), fn)
    assert len(calls) == 1
    assert waits == []


def test_a_request_that_may_have_been_applied_is_not_retried() -> None:
    waits: list[float] = []
    calls, fn = failing([JiraRetryable(0, "read timed out", maybe_applied=True)])
    with pytest.raises(JiraRetryable) as info:
        call_with_retry(RetryPolicy(sleep=waits.append), fn)
    assert info.value.maybe_applied
    assert len(calls) == 1
    assert waits == []


def test_single_attempt_policy_never_sleeps() -> None:
    waits: list[float] = []
    calls, fn = failing([JiraRetryable(503, "busy")])
    with pytest.raises(JiraRetryable):
        call_with_retry(RetryPolicy(max_attempts=1, sleep=waits.append), fn)
    assert (len(calls), waits) == (1, [])


def test_each_retry_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    policy = RetryPolicy(sleep=lambda _: None)
    _, fn = failing([JiraRetryable(429, "rate limited", retry_after=2, operation="POST /x")])
    with caplog.at_level(logging.WARNING, logger="uzibot.jira"):
        call_with_retry(policy, fn)
    assert len(caplog.records) == 1
    text = caplog.records[0].getMessage()
    assert "POST /x" in text and "rate limited" in text and "2.0 s" in text


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(max_wait=-1)


def test_parse_retry_after_seconds_and_dates() -> None:
    from datetime import UTC, datetime

    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("inf") is None
