"""Jira error types and the classification of HTTP responses and transport failures."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

# Statuses worth another attempt later. 429/503 are rejections (nothing was applied);
# 502/504 come from a proxy in front of Jira and 500 is Jira's own hiccup: all three are
# transient in practice, so they are retried too (see `maybe_applied` for POSTs).
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# After these answers a non-idempotent request may already have taken effect.
IN_DOUBT_STATUSES = frozenset({500, 502, 504})

MAX_MESSAGE_CHARS = 1000
MAX_BODY_CHARS = 4000


class JiraError(Exception):
    """A failed Jira call: HTTP status (0 for transport failures) and Jira's own message."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        retry_after: float | None = None,
        body: str = "",
        operation: str = "",
        maybe_applied: bool = False,
    ) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
        self.body = body
        self.operation = operation
        self.maybe_applied = maybe_applied

    def __str__(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        what = f"HTTP {self.status}" if self.status else "transport error"
        return f"{where}{what}: {self.message}"


class JiraRetryable(JiraError):
    """Transient (429, 5xx, connection error, timeout): try again later.

    `maybe_applied` is True when a non-idempotent request (POST) may have reached Jira and
    taken effect (read timeout, dropped connection, 500/502/504): such an error is not
    retried in-process; the caller should re-read Jira before applying the effect again.
    """


class TransitionUnavailable(JiraRetryable):
    """No transition could move the issue to done: retried (an admin may fix the workflow or
    the mapping meanwhile) and finally parked like any failed delivery."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(0, f"cannot move {key} to done: {problem}", operation="resolve")


class JiraPermanent(JiraError):
    """Jira refused the request (4xx other than 429): retrying the same call will not help."""


class JiraNotFound(JiraPermanent):
    """HTTP 404: the issue, property, project or attachment does not exist (or is hidden)."""


class AttachmentTooLarge(JiraPermanent):
    """The attachment exceeds the configured byte cap; it was not read past the cap."""


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every non-trivial secret occurring in `text` with `***`."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def error_text(body: str, fallback: str) -> str:
    """Jira's human-readable error from a response body, in every shape Jira and JSM use."""
    try:
        data: Any = json.loads(body) if body else None
    except ValueError:
        data = None
    return describe_errors(data, fallback)


def describe_errors(data: Any, fallback: str) -> str:
    """One line from a decoded Jira error object (ErrorCollection, JSM ErrorResponse, ...)."""
    parts = _messages(data) if isinstance(data, dict) else []
    text = "; ".join(p for p in parts if p) or fallback
    return text[:MAX_MESSAGE_CHARS]


def _messages(data: dict[str, Any]) -> list[str]:
    """Collect errorMessages, errors (dict or list), errorMessage and message."""
    parts: list[str] = [str(m) for m in data.get("errorMessages") or [] if m]
    errors = data.get("errors")
    if isinstance(errors, dict):
        parts += [f"{field}: {msg}" for field, msg in errors.items() if msg]
    elif isinstance(errors, list):
        for item in errors:
            if isinstance(item, dict):
                nested = item.get("elementErrors")
                parts += _messages(nested) if isinstance(nested, dict) else []
                if isinstance(item.get("message"), str):
                    parts.append(item["message"])
            elif item:
                parts.append(str(item))
    for key in ("errorMessage", "message"):
        if isinstance(data.get(key), str) and data[key]:
            parts.append(data[key])
    return parts


def error_from_response(
    response: requests.Response,
    operation: str,
    *,
    idempotent: bool,
    secrets: Iterable[str] = (),
) -> JiraError:
    """The exception for a non-2xx response: retryable, not found, or permanent."""
    secrets = tuple(secrets)
    status = response.status_code
    body = redact(response.text[:MAX_BODY_CHARS], secrets)
    fallback = response.reason or "no error message in the response"
    message = redact(error_text(body, str(fallback)), secrets)
    kwargs: dict[str, Any] = {"body": body, "operation": operation}
    if status in RETRYABLE_STATUSES:
        return JiraRetryable(
            status,
            message,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            maybe_applied=not idempotent and status in IN_DOUBT_STATUSES,
            **kwargs,
        )
    if status == 404:
        return JiraNotFound(status, message, **kwargs)
    if 300 <= status < 400:
        location = response.headers.get("Location", "")
        message = f"unexpected redirect to {location or 'an unknown location'}; not followed"
        return JiraPermanent(status, redact(message, secrets), **kwargs)
    return JiraPermanent(status, message, **kwargs)


def error_from_exception(
    exc: requests.RequestException,
    operation: str,
    *,
    idempotent: bool,
    secrets: Iterable[str] = (),
) -> JiraError:
    """The exception for a transport failure: connection errors and timeouts are retryable."""
    message = redact(f"{type(exc).__name__}: {exc}", secrets)[:MAX_MESSAGE_CHARS]
    if isinstance(exc, requests.ConnectTimeout):
        return JiraRetryable(0, message, operation=operation)
    transient = (
        requests.ConnectionError,
        requests.Timeout,
        requests.exceptions.ChunkedEncodingError,
    )
    if isinstance(exc, transient):
        in_doubt = not idempotent and not _never_sent(exc)
        return JiraRetryable(0, message, operation=operation, maybe_applied=in_doubt)
    return JiraPermanent(0, message, operation=operation)


def _never_sent(exc: BaseException) -> bool:
    """True when the failure certainly happened before the request reached Jira."""
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending and len(seen) < 20:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if type(current).__name__ in _NOT_SENT:
            return True
        linked = [getattr(current, "reason", None), current.__cause__, current.__context__]
        linked += list(current.args)
        pending += [item for item in linked if isinstance(item, BaseException)]
    return False


_NOT_SENT = frozenset({"NewConnectionError", "NameResolutionError", "ConnectTimeoutError"})
