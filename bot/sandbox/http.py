"""Request, response and error types shared by the sandbox Jira's endpoint handlers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

JSON_TYPE = "application/json;charset=UTF-8"


@dataclass(frozen=True)
class SandboxResponse:
    """What the sandbox answers: a status, headers and raw body bytes."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        """The body decoded as JSON (None when empty)."""
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class SandboxRequest:
    """One parsed request: method, path, query parameters, lower-cased headers and body."""

    method: str
    url: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes | None

    @classmethod
    def parse(
        cls, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> SandboxRequest:
        """Split a full URL into path and query; normalise header names."""
        parts = urlsplit(url)
        return cls(
            method=method.upper(),
            url=url,
            path=parts.path or "/",
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
        )

    def param(self, name: str, default: str | None = None) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def param_list(self, name: str) -> list[str]:
        """All values of a repeatable, comma-separated query parameter."""
        out: list[str] = []
        for value in self.query.get(name, ()):
            out.extend(v.strip() for v in value.split(",") if v.strip())
        return out

    def param_int(self, name: str, default: int) -> int:
        """An integer query parameter; 400 when it is not a number."""
        raw = self.param(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise JiraError.bad_request(f"'{raw}' is not a valid number for {name}.") from None

    def param_bool(self, name: str, default: bool) -> bool:
        """A boolean query parameter (`true`/`false`)."""
        raw = self.param(name)
        if raw is None or raw == "":
            return default
        return raw.lower() == "true"

    def json_body(self) -> Any:
        """The body decoded as JSON; 400 (like Jira) when missing or malformed."""
        if not self.body:
            raise JiraError.bad_request("No content to map due to end-of-input")
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise JiraError.bad_request("Unexpected character in the request body.") from None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; 400 otherwise."""
        body = self.json_body()
        if not isinstance(body, dict):
            raise JiraError.bad_request("The request body must be a JSON object.")
        return body


class JiraError(Exception):
    """An error answer; handlers raise it and the dispatcher turns it into a response."""

    def __init__(self, status: int, payload: Any, headers: Mapping[str, str] | None = None):
        super().__init__(f"{status}: {payload}")
        self.status = status
        self.payload = payload
        self.headers = dict(headers or {})

    @classmethod
    def collection(
        cls, status: int, messages: list[str] | None = None, errors: dict[str, str] | None = None
    ) -> JiraError:
        """The platform API's ErrorCollection shape."""
        return cls(status, {"errorMessages": messages or [], "errors": errors or {}})

    @classmethod
    def bad_request(cls, message: str) -> JiraError:
        """A 400 with one error message."""
        return cls.collection(400, [message])

    @classmethod
    def fields(cls, errors: dict[str, str]) -> JiraError:
        """A 400 naming the offending fields."""
        return cls.collection(400, [], errors)

    @classmethod
    def not_found(cls, message: str) -> JiraError:
        """A 404 with one error message."""
        return cls.collection(404, [message])

    @classmethod
    def servicedesk(cls, status: int, message: str, i18n_key: str) -> JiraError:
        """The service management API's ErrorResponse shape."""
        return cls(
            status,
            {
                "errorMessage": message,
                "i18nErrorMessage": {"i18nKey": i18n_key, "parameters": []},
            },
        )

    def response(self) -> SandboxResponse:
        """The error as a response."""
        return json_response(self.status, self.payload, self.headers)


ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."


def json_response(
    status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> SandboxResponse:
    """A JSON answer with Jira's content type."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return SandboxResponse(status, {"Content-Type": JSON_TYPE, **(headers or {})}, body)
