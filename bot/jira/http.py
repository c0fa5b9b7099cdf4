"""HTTP to Jira through atlassian-python-api with its retrying off: counted, typed, retried once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import requests
from atlassian import Jira

from bot.jira.errors import (
    AttachmentTooLarge,
    JiraPermanent,
    error_from_exception,
    error_from_response,
)
from bot.jira.governor import WriteGovernor
from bot.jira.retry import MIN_RETRY_AFTER, RetryPolicy, call_with_retry, wait_budget

JSONDict = dict[str, Any]
CallObserver = Callable[[str, str, str], None]
"""Told (method, path, status) after each HTTP attempt; status "error" when none came back."""
_CHUNK_BYTES = 64 * 1024


class JiraHttp:
    """One Jira site: sends requests, counts attempts, turns failures into JiraError.

    atlassian's client is built with `backoff_and_retry=False` and `retry_with_header=False`:
    its request loop then never sleeps nor repeats (rest_client._retry_handler returns False),
    so `bot.jira.retry` is the only retry policy. Redirects are never followed.
    """

    def __init__(
        self,
        url: str,
        user: str,
        api_token: str,
        *,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30,
        governor: WriteGovernor | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.governor = governor
        """Shared by every thread using this site: write rate, issue spacing, 429 pauses."""
        self.retry = retry or RetryPolicy()
        self._secrets = (api_token,)
        self._timeout = timeout
        self._client = Jira(
            url=self.url,
            username=user,
            password=api_token,
            cloud=True,
            session=session,
            backoff_and_retry=False,
            retry_with_header=False,
            timeout=max(1, int(timeout)),
        )
        self._client.timeout = timeout  # type: ignore[assignment]  # keep fractional seconds
        self._session: requests.Session = self._client.session
        self._session.auth = (user, api_token)  # also on a session passed in by the caller
        self._lock = threading.Lock()
        self._stats: dict[str, int] = {}
        self.observer: CallObserver | None = None

    def __repr__(self) -> str:
        return f"JiraHttp({self.url!r})"

    @property
    def stats(self) -> dict[str, int]:
        """HTTP attempts sent so far, by method (retries included)."""
        with self._lock:
            return dict(self._stats)

    def reset_stats(self) -> None:
        """Start counting requests from zero."""
        with self._lock:
            self._stats.clear()

    def close(self) -> None:
        """Release the HTTP connections."""
        self._session.close()

    def _count(self, method: str) -> None:
        with self._lock:
            self._stats[method] = self._stats.get(method, 0) + 1

    def _observe(self, method: str, path: str, status: int | None) -> None:
        if self.observer is not None:
            self.observer(method, path, "error" if status is None else str(status))

    def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        accept: Callable[[requests.Response], bool] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """One HTTP attempt; a non-2xx answer (unless accepted) or a transport error raises.

        `idempotent` defaults to "not a POST"; a POST that may have taken effect is never
        retried in-process (see JiraRetryable.maybe_applied).
        """
        operation = f"{method} /{path}"
        safe = method != "POST" if idempotent is None else idempotent
        self._govern(method, path, operation)
        self._count(method)
        try:
            response = self._client.request(
                method,
                path,
                data=body,
                params=dict(params) if params else None,
                headers={**self._client.default_headers, **headers} if headers else None,
                advanced_mode=True,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            self._observe(method, path, None)
            raise error_from_exception(
                exc, operation, idempotent=safe, secrets=self._secrets
            ) from exc
        self._observe(method, path, response.status_code)
        if 200 <= response.status_code < 300 or (accept is not None and accept(response)):
            return response
        error = error_from_response(response, operation, idempotent=safe, secrets=self._secrets)
        self._note_limit(response.status_code, error.retry_after)
        raise error

    def _govern(self, method: str, path: str, operation: str) -> None:
        """Wait for the governor (within this context's wait budget) before sending."""
        if self.governor is not None:
            self.governor.acquire(method, path, wait_budget.get(), operation)

    def _note_limit(self, status: int, retry_after: float | None) -> None:
        """A 429 pauses every thread (and, through the board, every process)."""
        if status == 429 and self.governor is not None:
            self.governor.pause(max(MIN_RETRY_AFTER, retry_after or 0.0))

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call through the retry policy; the decoded JSON answer (None when empty)."""

        def attempt() -> Any:
            response = self.send(method, path, **kwargs)
            if not response.content.strip():
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise JiraPermanent(
                    response.status_code,
                    "the answer is not JSON",
                    body=response.text[:500],
                    operation=f"{method} /{path}",
                ) from exc

        return call_with_retry(self.retry, attempt)

    def call_dict(self, method: str, path: str, **kwargs: Any) -> JSONDict:
        """Like `call`, for answers that must be a JSON object."""
        data = self.call(method, path, **kwargs)
        if not isinstance(data, dict):
            raise JiraPermanent(200, "expected a JSON object", operation=f"{method} /{path}")
        return data

    def download(self, path: str, *, max_bytes: int) -> bytes:
        """Raw bytes from `path` on this site (retried), streamed and capped at `max_bytes`."""
        return call_with_retry(self.retry, lambda: self._download_once(path, max_bytes))

    def _download_once(self, path: str, max_bytes: int) -> bytes:
        operation = f"GET /{path}"
        self._govern("GET", path, operation)
        self._count("GET")
        answered = False
        try:
            response = self._session.get(
                f"{self.url}/{path}",
                params={"redirect": "false"},
                headers={"Accept": "*/*"},
                stream=True,
                allow_redirects=False,
                timeout=self._timeout,
            )
            answered = True
            self._observe("GET", path, response.status_code)
            with response:
                if not 200 <= response.status_code < 300:
                    error = error_from_response(
                        response, operation, idempotent=True, secrets=self._secrets
                    )
                    self._note_limit(response.status_code, error.retry_after)
                    raise error
                return _read_capped(response, max_bytes, operation)
        except requests.RequestException as exc:
            if not answered:
                self._observe("GET", path, None)
            raise error_from_exception(
                exc, operation, idempotent=True, secrets=self._secrets
            ) from exc


def _read_capped(response: requests.Response, max_bytes: int, operation: str) -> bytes:
    """The body as bytes, refusing (without reading on) anything larger than `max_bytes`."""
    too_large = AttachmentTooLarge(
        response.status_code, f"attachment exceeds {max_bytes} bytes", operation=operation
    )
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_content(_CHUNK_BYTES):
        total += len(chunk)
        if total > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
