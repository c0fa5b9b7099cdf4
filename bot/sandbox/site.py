"""An in-memory, stateful Jira Cloud + JSM site for tests and `uzibot demo`, with faults."""

from __future__ import annotations

import base64
import binascii
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import unquote

import requests

from bot.sandbox import site_api as site_api
from bot.sandbox import workflow as workflow
from bot.sandbox.adapter import SandboxAdapter
from bot.sandbox.faults import Fault, FaultQueue
from bot.sandbox.http import JiraError, SandboxRequest, SandboxResponse, json_response
from bot.sandbox.model import AttachmentState, CommentState, IssueState, LinkState, Site, UserState
from bot.sandbox.routes import ROUTES
from bot.sandbox.seed import STATUSES, TransitionSeed, default_fields, default_projects
from bot.sandbox.webhook import seed_issue

__all__ = ["Fault", "JiraSandbox", "RequestRecord", "SandboxAdapter", "SandboxResponse"]

DEFAULT_BASE_URL = "https://uzo-sandbox.atlassian.net"
DEFAULT_BOT_ACCOUNT = "557058:uzibot-bot"
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})


class RequestRecord(NamedTuple):
    """One request the sandbox saw; status 0 when the connection failed before it was applied."""

    method: str
    path: str
    status: int


class JiraSandbox:
    """A Jira Cloud site in memory: `handle()` answers HTTP requests, helpers seed and inspect."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        bot_account_id: str = DEFAULT_BOT_ACCOUNT,
        bot_email: str = "uzibot@example.com",
        service_desk_project: str = "UZO",
        extra_projects: tuple[str, ...] = ("TRK",),
        credentials: tuple[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        projects = default_projects(service_desk_project, extra_projects)
        self.site = Site(
            base_url=self.base_url,
            bot=UserState(bot_account_id, "uzibot", "atlassian", bot_email),
            projects={p.key: p for p in projects},
            fields=default_fields(),
        )
        if clock is not None:
            self.site.clock = clock
        self.credentials = credentials
        self.request_log: list[RequestRecord] = []
        self.outage = False
        self._faults = FaultQueue()
        self._sleep = sleep
        self._lock = threading.RLock()

    # --- HTTP -------------------------------------------------------------------------------

    def handle(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> SandboxResponse:
        """Answer one request; raises requests.ConnectionError/ReadTimeout for injected faults."""
        req = SandboxRequest.parse(method, url, headers, body)
        with self._lock:
            if url.startswith(site_api.MEDIA_HOST):
                return self._log(req, site_api.serve_media(self.site, req))
            if self.outage:
                return self._log(req, json_response(503, {"errorMessages": ["Outage"]}))
            fault = self._faults.take(req.method, req.path)
        if fault is not None and fault.delay:
            self._sleep(fault.delay)
        with self._lock:
            if fault is not None and fault.kind == "http":
                return self._log(
                    req, SandboxResponse(fault.status, dict(fault.headers), fault.body)
                )
            if fault is not None and fault.kind == "connection_error":
                self._log(req, SandboxResponse(0))
                raise requests.ConnectionError(f"sandbox: connection refused ({req.path})")
            response = self._log(req, self._dispatch(req))
        if fault is not None and fault.kind == "lost_response":
            raise requests.ConnectionError(f"sandbox: connection reset after {req.path} applied")
        if fault is not None and fault.kind == "timeout":
            raise requests.ReadTimeout(f"sandbox: read timed out after {req.path} applied")
        return response

    def _dispatch(self, req: SandboxRequest) -> SandboxResponse:
        if not url_in_site(req.url, self.base_url):
            return json_response(404, {"errorMessages": [f"Not this site: {req.url}"]})
        if not self._authorised(req.headers.get("authorization", "")):
            return JiraError.collection(
                401,
                ["You are not authenticated. Authentication required to perform this operation."],
            ).response()
        for method, pattern, handler in ROUTES:
            match = pattern.fullmatch(req.path)
            if match and method == req.method:
                try:
                    params = {k: unquote(v) for k, v in match.groupdict().items()}
                    return handler(self.site, req, params)
                except JiraError as exc:
                    return exc.response()
        return json_response(
            404, {"errorMessages": [f"No sandbox resource for {req.method} {req.path}"]}
        )

    def _authorised(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return False
        try:
            user, _, token = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        if self.credentials is not None:
            return (user, token) == self.credentials
        return bool(user and token)

    def _log(self, req: SandboxRequest, response: SandboxResponse) -> SandboxResponse:
        self.request_log.append(RequestRecord(req.method, req.path, response.status))
        return response

    def mount(self, session: requests.Session) -> requests.Session:
        """Route a session's traffic for this site (and its media host) to the sandbox."""
        adapter = SandboxAdapter(self)
        session.mount(self.base_url, adapter)
        session.mount(site_api.MEDIA_HOST, adapter)
        return session

    # --- faults ------------------------------------------------------------------------------

    def inject(self, fault: Fault | tuple[int, Mapping[str, str], bytes | str]) -> None:
        """Queue a fault for the next matching request (a tuple is an HTTP error answer)."""
        if isinstance(fault, tuple):
            status, headers, body = fault
            fault = Fault.http(status, dict(headers), body)
        with self._lock:
            self._faults.push(fault)

    # --- seeding -----------------------------------------------------------------------------

    def seed_issue_from_webhook(
        self, issue_json: Mapping[str, Any], attachments: Mapping[str, bytes] | None = None
    ) -> IssueState:
        """Store the `issue` object of a webhook payload, keeping its key, id, type and fields."""
        with self._lock:
            return seed_issue(self.site, issue_json, attachments)

    def seed_request(
        self,
        key: str | None = None,
        *,
        summary: str = "Verzoek vanuit het portaal",
        description: str = "",
        fields: Mapping[str, Any] | None = None,
        reporter_account_id: str = "qm:practice-1",
        request_type: tuple[str, str] = ("101", "Wijziging praktijkgegevens"),
    ) -> IssueState:
        """A portal request in the service desk project (fields by id, e.g. customfield_10050)."""
        desk = next(p for p in self.site.projects.values() if p.service_desk_id)
        with self._lock:
            key = key or self.site.next_key(desk.key)
        return self.seed_issue_from_webhook(
            {
                "key": key,
                "fields": {
                    "project": {"key": desk.key, "id": desk.id},
                    "issuetype": {"name": "Service Request"},
                    "summary": summary,
                    "description": description,
                    "reporter": {
                        "accountId": reporter_account_id,
                        "accountType": "customer",
                        "displayName": "Praktijk",
                    },
                    "customfield_10010": {
                        "requestType": {"id": request_type[0], "name": request_type[1]},
                        "currentStatus": {"status": "Waiting for support"},
                    },
                    **(fields or {}),
                },
            }
        )

    def add_customer(self, account_id: str, email: str, display_name: str = "Praktijk") -> None:
        """A portal customer the service desk knows (to raise requests on behalf of)."""
        with self._lock:
            self.site.users[account_id] = UserState(account_id, display_name, "customer", email)

    def add_attachment(
        self,
        issue_key: str,
        filename: str,
        data: bytes,
        mime_type: str = "application/octet-stream",
    ) -> str:
        """Attach bytes to an issue (as the reporter); returns the attachment id."""
        with self._lock:
            issue = self.issue(issue_key)
            att = AttachmentState(
                self.site.next_object_id(),
                issue.key,
                filename,
                mime_type,
                data,
                len(data),
                issue.reporter_id,
                self.site.now(),
                str(uuid.uuid4()),
            )
            self.site.attachments[att.id] = att
            issue.attachment_ids.append(att.id)
            return att.id

    def add_comment(
        self,
        issue_key: str,
        body: str,
        *,
        public: bool = True,
        author_account_id: str | None = None,
    ) -> CommentState:
        """A comment by someone else (an agent, or the customer by default)."""
        with self._lock:
            issue = self.issue(issue_key)
            comment = CommentState(
                self.site.next_object_id(),
                issue.key,
                body,
                public,
                author_account_id or issue.reporter_id,
                self.site.now(),
            )
            issue.comments.append(comment)
            return comment

    def set_status(self, issue_key: str, status: str) -> None:
        """Move an issue to a status directly, as an agent would (no transition check)."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        with self._lock:
            workflow.move(self.site, self.issue(issue_key), status)

    def set_transitions(self, workflow_name: str, transitions: tuple[TransitionSeed, ...]) -> None:
        """Give one of the site's workflows ("request", "task") other transitions, as an admin
        of another site would have named them."""
        with self._lock:
            current = self.site.workflows[workflow_name]
            self.site.workflows[workflow_name] = replace(current, transitions=transitions)

    # --- inspection --------------------------------------------------------------------------

    @property
    def issues(self) -> dict[str, IssueState]:
        """Every issue by key."""
        return self.site.issues

    def issue(self, key: str) -> IssueState:
        """One issue by key or id; KeyError when missing."""
        found = self.site.find_issue(key)
        if found is None:
            raise KeyError(key)
        return found

    def comments(self, key: str, public: bool | None = None) -> list[CommentState]:
        """Comments of an issue, optionally only public (True) or internal (False) ones."""
        return [c for c in self.issue(key).comments if public is None or c.public is public]

    def links(self, key: str) -> list[LinkState]:
        """Links where the issue is either end."""
        return self.site.links_of(self.issue(key).key)

    def property(self, key: str, name: str) -> Any:
        """An entity property's value, or None."""
        return self.issue(key).properties.get(name)

    def subtasks(self, key: str) -> list[str]:
        """Keys of an issue's sub-tasks, oldest first."""
        return [s.key for s in self.site.subtasks_of(self.issue(key).key)]

    def count(
        self,
        method: str | None = None,
        path_prefix: str | None = None,
        writes_only: bool = False,
        ok_only: bool = False,
    ) -> int:
        """How many logged requests match (`ok_only`: answered 2xx, i.e. applied)."""
        return sum(
            1
            for r in self.request_log
            if (method is None or r.method == method.upper())
            and (path_prefix is None or r.path.startswith(path_prefix))
            and (not writes_only or r.method in WRITE_METHODS)
            and (not ok_only or 200 <= r.status < 300)
        )


def url_in_site(url: str, base_url: str) -> bool:
    """True when a URL belongs to the site (same scheme and host, any path)."""
    return url == base_url or url.startswith((base_url + "/", base_url + "?"))
