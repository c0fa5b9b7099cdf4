"""The sandbox Jira's state: issues, comments, links, attachments, properties, counters."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.sandbox.http import ISSUE_NOT_FOUND, JiraError
from bot.sandbox.seed import (
    ISSUE_TYPES,
    PRIORITIES,
    WORKFLOWS,
    FieldSeed,
    IssueTypeSeed,
    ProjectSeed,
    WorkflowSeed,
)

KEY_RE = re.compile(r"^([A-Z][A-Z0-9_]*)-(\d+)$")


@dataclass
class UserState:
    """A user the site knows (the bot, agents, portal customers)."""

    account_id: str
    display_name: str
    account_type: str = "atlassian"
    email: str | None = None


@dataclass
class CommentState:
    """A comment; `public` False is an internal note (JSM)."""

    id: str
    issue_key: str
    body: str
    public: bool
    author_id: str
    created: datetime
    adf: dict[str, Any] | None = None


@dataclass
class AttachmentState:
    """An attachment and its bytes; `media_id` names it on the media host."""

    id: str
    issue_key: str
    filename: str
    mime_type: str
    data: bytes
    size: int
    author_id: str
    created: datetime
    media_id: str


@dataclass
class LinkState:
    """An issue link: `source` --(type's outward verb)--> `target`."""

    id: str
    type_name: str
    source: str
    target: str


@dataclass
class IssueState:
    """One issue; `fields` holds settable values (description as ADF, priority by name)."""

    id: str
    key: str
    project_key: str
    issuetype: IssueTypeSeed
    status: str
    created: datetime
    updated: datetime
    seq: int
    reporter_id: str
    fields: dict[str, Any] = field(default_factory=dict)
    parent_key: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    comments: list[CommentState] = field(default_factory=list)
    attachment_ids: list[str] = field(default_factory=list)
    resolution: str | None = None
    resolved: datetime | None = None


@dataclass
class Site:
    """Everything the sandbox holds; handlers read and change it under the sandbox's lock."""

    base_url: str
    bot: UserState
    projects: dict[str, ProjectSeed]
    fields: tuple[FieldSeed, ...]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    issue_types: list[IssueTypeSeed] = field(default_factory=lambda: list(ISSUE_TYPES))
    workflows: dict[str, WorkflowSeed] = field(default_factory=lambda: dict(WORKFLOWS))
    users: dict[str, UserState] = field(default_factory=dict)
    issues: dict[str, IssueState] = field(default_factory=dict)
    links: list[LinkState] = field(default_factory=list)
    attachments: dict[str, AttachmentState] = field(default_factory=dict)
    key_counters: dict[str, int] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(10000))
    _object_ids: Iterator[int] = field(default_factory=lambda: itertools.count(20000))
    _seq: Iterator[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.users.setdefault(self.bot.account_id, self.bot)

    def now(self) -> datetime:
        """The site's current time (tests may pass a fixed clock)."""
        return self.clock()

    def next_issue_id(self, at_least: int = 0) -> str:
        """A fresh numeric issue id (bumped past ids seeded from webhooks)."""
        value = next(self._ids)
        while value < at_least:
            value = next(self._ids)
        return str(value)

    def next_object_id(self) -> str:
        """A fresh id for comments, links and attachments."""
        return str(next(self._object_ids))

    def next_seq(self) -> int:
        """A creation sequence number, for stable ordering."""
        return next(self._seq)

    def next_key(self, project: str) -> str:
        """`<PROJECT>-<n>` from the project's own counter."""
        number = self.key_counters.get(project, 0) + 1
        self.key_counters[project] = number
        return f"{project}-{number}"

    def note_key(self, key: str) -> None:
        """Keep a project's counter past a key seeded from outside."""
        match = KEY_RE.match(key)
        if match:
            project, number = match.group(1), int(match.group(2))
            self.key_counters[project] = max(self.key_counters.get(project, 0), number)

    def find_issue(self, id_or_key: str) -> IssueState | None:
        """An issue by key (case-insensitive) or numeric id."""
        issue = self.issues.get(id_or_key.upper())
        if issue is not None:
            return issue
        return next((i for i in self.issues.values() if i.id == id_or_key), None)

    def require_issue(self, id_or_key: str) -> IssueState:
        """An issue, or the platform API's 404."""
        issue = self.find_issue(id_or_key)
        if issue is None:
            raise JiraError.not_found(ISSUE_NOT_FOUND)
        return issue

    def find_project(self, id_or_key: str) -> ProjectSeed | None:
        """A project by key or id."""
        project = self.projects.get(id_or_key.upper())
        if project is not None:
            return project
        return next((p for p in self.projects.values() if p.id == id_or_key), None)

    def find_issue_type(self, name: str | None = None, id_: str | None = None) -> IssueTypeSeed:
        """An issue type by name (case-insensitive) or id; KeyError when unknown."""
        for seed in self.issue_types:
            if (id_ is not None and seed.id == id_) or (
                name is not None and seed.name.lower() == name.lower()
            ):
                return seed
        raise KeyError(name or id_)

    def find_issue_type_or_none(
        self, name: str | None = None, id_: str | None = None
    ) -> IssueTypeSeed | None:
        """An issue type by name or id, or None."""
        try:
            return self.find_issue_type(name, id_)
        except KeyError:
            return None

    def workflow(self, issue: IssueState) -> WorkflowSeed:
        """The workflow an issue follows."""
        return self.workflows[issue.issuetype.workflow]

    def field_seed(self, field_id: str) -> FieldSeed | None:
        """A field definition by id."""
        return next((f for f in self.fields if f.id == field_id), None)

    def is_request(self, issue: IssueState) -> bool:
        """True for JSM requests: issues in a service project of a request type."""
        project = self.projects.get(issue.project_key)
        if project is None or project.service_desk_id is None:
            return False
        return issue.issuetype.workflow == "request" or isinstance(
            issue.fields.get("customfield_10010"), dict
        )

    def links_of(self, key: str) -> list[LinkState]:
        """Links where the issue is either end."""
        return [link for link in self.links if key in (link.source, link.target)]

    def subtasks_of(self, key: str) -> list[IssueState]:
        """Sub-tasks of an issue, oldest first."""
        return sorted((i for i in self.issues.values() if i.parent_key == key), key=lambda i: i.seq)

    def user(self, account_id: str) -> UserState:
        """A user by account id (unknown ids get a placeholder name)."""
        return self.users.get(account_id) or UserState(account_id, account_id)

    def touch(self, issue: IssueState) -> None:
        """Mark an issue updated now."""
        issue.updated = self.now()


def priority_by(name: str | None = None, id_: str | None = None) -> str | None:
    """The canonical priority name for a name or id; None when unknown."""
    for pid, pname in PRIORITIES:
        if (id_ is not None and pid == str(id_)) or (
            name is not None and pname.lower() == str(name).lower()
        ):
            return pname
    return None
