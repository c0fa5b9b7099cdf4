"""Jira REST primitives on issues, requests and attachments (REST API v3 and the JSM API)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import requests

from bot.jira.adf import text_to_adf
from bot.jira.errors import (
    JiraPermanent,
    JiraRetryable,
)
from bot.jira.governor import WriteGovernor
from bot.jira.http import CallObserver, JiraHttp, JSONDict
from bot.jira.models import (
    BulkResult,
    IssueLink,
    IssueRef,
    bulk_outcome,
    is_bulk_refusal,
    link_operation,
)
from bot.jira.retry import RetryPolicy
from bot.jira.site import API, SERVICEDESK_API, JiraSiteReads, _or_none, _seg

log = logging.getLogger("uzibot.jira")

BULK_LIMIT = 50


class JiraIssues(JiraSiteReads):
    """Jira operations with explicit v3/servicedesk paths; every call goes through the
    retry policy (bot.jira.retry) and returns plain Python types. Thread-safe."""

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
        self._http = JiraHttp(
            url,
            user,
            api_token,
            session=session,
            retry=retry,
            timeout=timeout,
            governor=governor,
        )
        self.url = self._http.url
        self._lock = threading.Lock()
        self._fields: list[JSONDict] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    @property
    def stats(self) -> dict[str, int]:
        """HTTP attempts sent so far, by method (retries included), e.g. {"GET": 3}."""
        return self._http.stats

    def reset_stats(self) -> None:
        """Start counting requests from zero."""
        self._http.reset_stats()

    def observe(self, observer: CallObserver | None) -> None:
        """Tell `observer` (method, path, status) after every HTTP attempt (metrics)."""
        self._http.observer = observer

    def close(self) -> None:
        """Release the HTTP connections."""
        self._http.close()

    # --- issues ----------------------------------------------------------------------------

    def create_issue(
        self,
        fields: Mapping[str, Any],
        *,
        links: Sequence[IssueLink] = (),
        properties: Mapping[str, Any] | None = None,
    ) -> IssueRef:
        """Create one issue with its links and entity properties in a single POST."""
        body: JSONDict = {"fields": dict(fields)}
        if links:
            body["update"] = {"issuelinks": [link_operation(link) for link in links]}
        if properties:
            body["properties"] = [{"key": k, "value": v} for k, v in properties.items()]
        data = self._http.call_dict("POST", f"{API}/issue", body=body)
        return IssueRef(str(data["id"]), str(data["key"]))

    def bulk_create(
        self,
        issue_fields: Sequence[Mapping[str, Any]],
        properties: Sequence[Mapping[str, Any]] | None = None,
    ) -> BulkResult:
        """Create issues in chunks of 50; per-element failures are reported, not raised.

        `properties[i]` (optional) are entity properties set on element i in the same call.

        A chunk refused as a whole marks its elements failed. A transient failure raises when
        nothing was created yet; otherwise the remaining elements are marked failed.
        """
        created: list[IssueRef | None] = []
        errors: dict[int, str] = {}
        for offset in range(0, len(issue_fields), BULK_LIMIT):
            chunk = issue_fields[offset : offset + BULK_LIMIT]
            props = properties[offset : offset + BULK_LIMIT] if properties else [{}] * len(chunk)
            body = {
                "issueUpdates": [_issue_update(f, p) for f, p in zip(chunk, props, strict=True)]
            }
            try:
                data = self._http.call_dict(
                    "POST", f"{API}/issue/bulk", body=body, accept=is_bulk_refusal
                )
            except JiraRetryable as exc:
                if not any(created):
                    raise
                rest = range(offset, len(issue_fields))
                created += [None] * len(rest)
                errors.update(dict.fromkeys(rest, str(exc)))
                break
            except JiraPermanent as exc:
                created += [None] * len(chunk)
                errors.update(dict.fromkeys(range(offset, offset + len(chunk)), str(exc)))
                continue
            refs, chunk_errors = bulk_outcome(data, len(chunk))
            created += refs
            errors.update({offset + i: text for i, text in chunk_errors.items()})
        return BulkResult(created, errors)

    def get_issue(self, key: str, fields: Sequence[str] | None = None) -> JSONDict | None:
        """An issue (only `fields` when given), None when it does not exist."""
        params = {"fields": ",".join(fields)} if fields else None
        return _or_none(
            lambda: self._http.call_dict("GET", f"{API}/issue/{_seg(key)}", params=params)
        )

    def edit_issue(self, key: str, fields: Mapping[str, Any]) -> None:
        """Set field values on an issue."""
        self._http.call("PUT", f"{API}/issue/{_seg(key)}", body={"fields": dict(fields)})

    def edit_issue_ops(self, key: str, update: Mapping[str, Any]) -> None:
        """Edit an issue with update operations (e.g. {"labels": [{"add": "x"}]})."""
        self._http.call("PUT", f"{API}/issue/{_seg(key)}", body={"update": dict(update)})

    def transitions(self, key: str) -> list[JSONDict]:
        """The transitions available on the issue now."""
        data = self._http.call_dict("GET", f"{API}/issue/{_seg(key)}/transitions")
        return [t for t in data.get("transitions") or [] if isinstance(t, dict)]

    def transition(self, key: str, name: str) -> bool:
        """Apply the transition called `name` (case-insensitive); False when it is not available."""
        wanted = name.strip().casefold()
        for item in self.transitions(key):
            if _is_named(item, wanted) and item.get("isAvailable", True) is not False:
                body = {"transition": {"id": str(item["id"])}}
                self._http.call("POST", f"{API}/issue/{_seg(key)}/transitions", body=body)
                return True
        return False

    def apply_transition(self, key: str, transition_id: str) -> None:
        """Apply a transition by id (ids differ per workflow: read them with `transitions`)."""
        body = {"transition": {"id": transition_id}}
        self._http.call("POST", f"{API}/issue/{_seg(key)}/transitions", body=body)

    def set_property(self, key: str, name: str, value: Any) -> None:
        """Store a JSON value as entity property `name` on the issue."""
        if value is None:
            raise ValueError("an entity property value must not be None")
        self._http.call("PUT", f"{API}/issue/{_seg(key)}/properties/{_seg(name)}", body=value)

    def get_property(self, key: str, name: str) -> Any | None:
        """The value of entity property `name`, None when the property (or issue) is absent."""
        path = f"{API}/issue/{_seg(key)}/properties/{_seg(name)}"
        data = _or_none(lambda: self._http.call_dict("GET", path))
        return None if data is None else data.get("value")

    # --- service desk requests -------------------------------------------------------------

    def comment_on_request(self, key: str, body: str, *, public: bool) -> str:
        """Comment on a portal request: public (the customer sees it) or an internal note."""
        path = f"{SERVICEDESK_API}/request/{_seg(key)}/comment"
        return str(self._http.call_dict("POST", path, body={"body": body, "public": public})["id"])

    def create_request(
        self,
        service_desk_id: str,
        request_type_id: str,
        values: Mapping[str, Any],
        on_behalf_of: str,
    ) -> str:
        """Raise a portal request on behalf of a customer (POST /request); the new key."""
        body = {
            "serviceDeskId": service_desk_id,
            "requestTypeId": request_type_id,
            "requestFieldValues": dict(values),
            "raiseOnBehalfOf": on_behalf_of,
        }
        return str(
            self._http.call_dict("POST", f"{SERVICEDESK_API}/request", body=body)["issueKey"]
        )

    def open_requests(self, service_desk_id: str, request_type_id: str) -> list[JSONDict]:
        """Every open request of one request type in a service desk (all pages, as an agent)."""
        values: list[JSONDict] = []
        while True:
            data = self._http.call_dict(
                "GET",
                f"{SERVICEDESK_API}/request",
                params={
                    "serviceDeskId": service_desk_id,
                    "requestTypeId": request_type_id,
                    "requestStatus": "OPEN_REQUESTS",
                    "start": len(values),
                    "limit": 50,
                },
            )
            page = [v for v in data.get("values") or [] if isinstance(v, dict)]
            values += page
            if data.get("isLastPage", True) or not page:
                return values

    def desk_customers(self, service_desk_id: str, query: str) -> list[JSONDict]:
        """Customers of a service desk matching `query` (e.g. an e-mail address), first page."""
        data = self._http.call_dict(
            "GET",
            f"{SERVICEDESK_API}/servicedesk/{_seg(service_desk_id)}/customer",
            params={"query": query, "start": 0, "limit": 50},
            headers={"X-ExperimentalApi": "opt-in"},
        )
        return [c for c in data.get("values") or [] if isinstance(c, dict)]

    def comment_on_issue(self, key: str, body: str, *, internal: bool = False) -> str:
        """A comment on any issue through the platform API (ADF; an issue outside a service
        desk, or an agents-only one); `internal` marks it agents-only in a service project."""
        payload: JSONDict = {"body": text_to_adf(body)}
        if internal:
            payload["properties"] = [{"key": "sd.public.comment", "value": {"internal": True}}]
        data = self._http.call_dict("POST", f"{API}/issue/{_seg(key)}/comment", body=payload)
        return str(data.get("id"))

    def request_comments(self, key: str) -> list[JSONDict]:
        """All comments (public and internal) on a portal request, every page."""
        return self.servicedesk_pages(f"{SERVICEDESK_API}/request/{_seg(key)}/comment")

    # --- attachments -----------------------------------------------------------------------

    def attachment_bytes(self, attachment_id: str, *, max_bytes: int) -> bytes:
        """An attachment's raw bytes, from this site only (URL built from the id), capped."""
        if not str(attachment_id).isdigit():
            raise JiraPermanent(0, f"invalid attachment id {str(attachment_id)[:40]!r}")
        return self._http.download(f"{API}/attachment/content/{attachment_id}", max_bytes=max_bytes)


def _is_named(transition: JSONDict, folded_name: str) -> bool:
    """True when the transition has an id and is called `folded_name` (casefolded)."""
    name = str(transition.get("name", "")).strip().casefold()
    return bool(transition.get("id")) and name == folded_name


def _issue_update(fields: Mapping[str, Any], properties: Mapping[str, Any]) -> JSONDict:
    update: JSONDict = {"fields": dict(fields)}
    if properties:
        update["properties"] = [{"key": k, "value": v} for k, v in properties.items()]
    return update
