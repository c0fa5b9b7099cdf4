"""The one retry policy for Jira calls: tenacity, Retry-After first, else jittered backoff."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
)
from tenacity.stop import stop_base

from bot.jira.errors import JiraRetryable

log = logging.getLogger("uzibot.jira")

T = TypeVar("T")

MIN_RETRY_AFTER = 1.0

# Seconds this context may still spend on Jira calls and waits (the worker sets it from its
# lease). Unset: no limit. A wait that does not fit hands the error back to the caller.
wait_budget: ContextVar[Callable[[], float] | None] = ContextVar("uzibot_wait_budget", default=None)


@contextmanager
def within_budget(remaining: Callable[[], float]) -> Iterator[None]:
    """Run the body with `remaining()` as the wait budget of its Jira calls."""
    token = wait_budget.set(remaining)
    try:
        yield
    finally:
        wait_budget.reset(token)


class BudgetSpent(JiraRetryable):
    """No time left in this context's budget (the worker's lease): not even one more call."""

    def __init__(self, operation: str = "") -> None:
        super().__init__(0, "no time left on the lease for another Jira call", operation=operation)


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


class _OutOfBudget(stop_base):
    """Stop (re-raising the last error) when the next wait would not fit in the budget."""

    def __init__(self, budget: Callable[[], float] | None) -> None:
        self.budget = budget

    def __call__(self, retry_state: RetryCallState) -> bool:
        if self.budget is None:
            return False
        left = self.budget()
        if retry_state.upcoming_sleep <= left:
            return False
        log.warning(
            "Jira asks for a %.1f s wait, the lease leaves %.1f s: handing the delivery back",
            retry_state.upcoming_sleep,
            left,
        )
        return True


def is_retryable(error: BaseException) -> bool:
    """Retry transient failures, but never a request that may already have taken effect."""
    return (
        isinstance(error, JiraRetryable)
        and not error.maybe_applied
        and not isinstance(error, BudgetSpent)
    )


def call_with_retry(policy: RetryPolicy, fn: Callable[[], T]) -> T:
    """Call `fn`, retrying JiraRetryable per `policy`; re-raise the last error when exhausted.

    Under a `wait_budget` no call starts when the budget is spent (BudgetSpent), and a wait
    longer than what is left is not slept: the last error is re-raised at once, so the worker
    hands the delivery back to its schedule (with the Retry-After as the least delay).
    """
    budget = wait_budget.get()

    def attempt() -> T:
        if budget is not None and budget() <= 0:
            raise BudgetSpent()
        return fn()

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
        stop=stop_any(stop_after_attempt(policy.max_attempts), _OutOfBudget(budget)),
        wait=wait,
        retry=retry_if_exception(is_retryable),
        sleep=policy.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(attempt)
