"""Faults the sandbox Jira can inject: HTTP errors, refused connections, lost responses, latency."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal["http", "connection_error", "lost_response", "timeout", "latency"]


@dataclass
class Fault:
    """One fault, consumed by the next `times` requests matching `method` and `path` (regex).

    - http: answer `status`/`headers`/`body` without applying the request;
    - connection_error: raise requests.ConnectionError before applying it;
    - lost_response: apply the request, then raise requests.ConnectionError;
    - timeout: apply the request, then raise requests.ReadTimeout;
    - latency: wait `delay` seconds, then answer normally.
    """

    kind: FaultKind
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    method: str | None = None
    path: str | None = None
    times: int = 1
    delay: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        """True when this fault applies to the request."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None

    @classmethod
    def http(
        cls,
        status: int,
        headers: dict[str, str] | None = None,
        body: bytes | str | dict[str, Any] | None = None,
        **match: Any,
    ) -> Fault:
        """An HTTP error answer (the request is not applied)."""
        if isinstance(body, dict):
            body = json.dumps(body)
        raw = body.encode() if isinstance(body, str) else (body or b"")
        all_headers = {"Content-Type": "application/json;charset=UTF-8"} if raw[:1] == b"{" else {}
        all_headers.update(headers or {})
        return cls("http", status=status, headers=all_headers, body=raw, **match)

    @classmethod
    def rate_limited(cls, retry_after: float | None = 2, **match: Any) -> Fault:
        """429 like Jira Cloud's burst limiter, with Retry-After and X-RateLimit-* headers."""
        headers = {
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-NearLimit": "true",
            "RateLimit-Reason": "jira-burst-based",
        }
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
        body = {"errorMessages": ["Rate limit exceeded."], "errors": {}}
        return cls.http(429, headers, body, **match)

    @classmethod
    def unavailable(cls, retry_after: float | None = None, **match: Any) -> Fault:
        """503 Service Unavailable, optionally with Retry-After."""
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        return cls.http(503, headers, "Service Unavailable", **match)

    @classmethod
    def connection_error(cls, **match: Any) -> Fault:
        """The connection fails before Jira sees the request."""
        return cls("connection_error", **match)

    @classmethod
    def lost_response(cls, **match: Any) -> Fault:
        """Jira applies the request but the client never gets the answer."""
        return cls("lost_response", **match)

    @classmethod
    def timeout(cls, **match: Any) -> Fault:
        """Jira applies the request but the client's read times out."""
        return cls("timeout", **match)

    @classmethod
    def latency(cls, seconds: float, **match: Any) -> Fault:
        """A slow but otherwise normal answer."""
        return cls("latency", delay=seconds, **match)


class FaultQueue:
    """Pending faults in injection order; each matching request consumes one use."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def push(self, fault: Fault) -> None:
        """Queue a fault."""
        if fault.times < 1:
            raise ValueError("a fault must apply at least once")
        self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching the request, with one use consumed."""
        for fault in self._faults:
            if fault.matches(method, path):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None
