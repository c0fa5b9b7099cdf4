"""The one retry policy for Jira calls: tenacity, Retry-After first, else jittered backoff."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from bot.jira.errors import JiraRetryable

log = logging.getLogger("uzibot.jira")

T = TypeVar("T")

MIN_RETRY_AFTER = 1.0


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a transient Jira failure within one call.

    `sleep` and `uniform` are injectable so tests record waits without sleeping.
    """

    max_attempts: int = 5
    max_wait: float = 60.0
    base: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    uniform: Callable[[float, float], float] = field(default=random.uniform, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.max_wait < 0 or self.base < 0:
            raise ValueError("max_wait and base must not be negative")


def compute_wait(policy: RetryPolicy, failed_attempts: int, error: BaseException | None) -> float:
    """Seconds to wait after `failed_attempts` failures (1-based) ending in `error`.

    Retry-After, when Jira sent it, wins: clamped to [1 s, max_wait]. Otherwise exponential
    backoff with full jitter: uniform(0, min(max_wait, base * 2 ** (failed_attempts - 1))).
    """
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        return min(policy.max_wait, max(MIN_RETRY_AFTER, float(retry_after)))
    exponent = min(max(failed_attempts - 1, 0), 62)
    cap = min(policy.max_wait, policy.base * 2.0**exponent)
    return max(0.0, min(cap, policy.uniform(0.0, cap)))


def is_retryable(error: BaseException) -> bool:
    """Retry transient failures, but never a request that may already have taken effect."""
    return isinstance(error, JiraRetryable) and not error.maybe_applied


def call_with_retry(policy: RetryPolicy, fn: Callable[[], T]) -> T:
    """Call `fn`, retrying JiraRetryable per `policy`; re-raise the last error when exhausted."""

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return compute_wait(policy, state.attempt_number, error)

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "Jira call failed (%s); attempt %d of %d, retrying in %.1f s",
            error,
            state.attempt_number,
            policy.max_attempts,
            delay,
        )

    retrying = Retrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=wait,
        retry=retry_if_exception(is_retryable),
        sleep=policy.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(fn)
