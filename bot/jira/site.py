"""Reads of the Jira site itself (user, fields, projects, link types, service desks)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TypeVar
from urllib.parse import quote

from bot.jira.errors import JiraNotFound
from bot.jira.http import JiraHttp, JSONDict

log = logging.getLogger("uzibot.jira")

API = "rest/api/3"
SERVICEDESK_API = "rest/servicedeskapi"
REQUEST_TYPE_SCHEMA = "com.atlassian.servicedesk:vp-origin"

T = TypeVar("T")


def _seg(value: str) -> str:
    """A path segment from a value that may come from a payload: fully percent-encoded."""
    return quote(str(value), safe="")


def _or_none(fn: Callable[[], T]) -> T | None:
    """The result of `fn`, or None when Jira answers 404."""
    try:
        return fn()
    except JiraNotFound:
        return None


class JiraSiteReads:
    """The gateway's read-only questions about the site; mixed into JiraGateway."""

    _http: JiraHttp
    _lock: threading.Lock
    _fields: list[JSONDict] | None

    def myself(self) -> str:
        """The account id of the bot's user."""
        return str(self._http.call_dict("GET", f"{API}/myself")["accountId"])

    def server_info(self) -> JSONDict:
        """Site information (base URL, version, deployment type)."""
        return self._http.call_dict("GET", f"{API}/serverInfo")

    def project(self, key: str) -> JSONDict | None:
        """A project by key or id, None when it does not exist or is not visible."""
        return _or_none(lambda: self._http.call_dict("GET", f"{API}/project/{_seg(key)}"))

    def fields(self) -> list[JSONDict]:
        """All fields of the site; fetched once per gateway (even across threads) and cached."""
        with self._lock:
            if self._fields is None:
                data = self._http.call("GET", f"{API}/field")
                self._fields = [f for f in data or [] if isinstance(f, dict)]
            return list(self._fields)

    def field_ids(self, names: Iterable[str]) -> dict[str, str]:
        """Field ids by display name (an id maps to itself); unknown names are left out."""
        fields = self.fields()
        ids = {str(f.get("id")) for f in fields}
        result: dict[str, str] = {}
        for name in names:
            if name in ids:
                result[name] = name
                continue
            matches = [str(f["id"]) for f in fields if f.get("name") == name]
            if not matches:
                folded = name.casefold()
                matches = [str(f["id"]) for f in fields if str(f.get("name")).casefold() == folded]
            if len(matches) > 1:
                log.warning("Field name %r is ambiguous %s; using %s", name, matches, matches[0])
            if matches:
                result[name] = matches[0]
        return result

    def request_type_field_id(self) -> str | None:
        """The id of the JSM request type field (schema `vp-origin`), None when absent."""
        for f in self.fields():
            if (f.get("schema") or {}).get("custom") == REQUEST_TYPE_SCHEMA:
                return str(f["id"])
        return None

    def issue_link_types(self) -> list[str]:
        """The names of the site's issue link types."""
        data = self._http.call_dict("GET", f"{API}/issueLinkType")
        return [str(t.get("name")) for t in data.get("issueLinkTypes") or []]

    def service_desk_id(self, project_key: str) -> str | None:
        """The JSM service desk id of a project, None when the project is no service desk."""
        for desk in self.servicedesk_pages(f"{SERVICEDESK_API}/servicedesk"):
            if str(desk.get("projectKey", "")).upper() == project_key.upper():
                return str(desk.get("id"))
        return None

    def request_types(self, service_desk_id: str) -> list[JSONDict]:
        """Every request type of a service desk."""
        return self.servicedesk_pages(
            f"{SERVICEDESK_API}/servicedesk/{_seg(service_desk_id)}/requesttype"
        )

    def servicedesk_pages(self, path: str) -> list[JSONDict]:
        """Every value of a paged servicedesk API list (start/limit/isLastPage)."""
        values: list[JSONDict] = []
        while True:
            data = self._http.call_dict("GET", path, params={"start": len(values), "limit": 100})
            page = data.get("values") or []
            values += page
            if data.get("isLastPage", True) or not page:
                return values
