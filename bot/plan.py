"""The Plan: the desired state of one case in Jira, produced by pure handlers."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

TRACKING_KEY_TOKEN = "@@TRACKING_KEY@@"  # noqa: S105 - the reconciler puts the tracking key here
"""Stands in a comment body for the tracking issue's key, which exists only once applied."""
CASE_LABEL = "uzibot"
"""The label on every issue the bot creates (and that marks the bot's own issues in webhooks)."""
CASE_PROPERTY = "uzibot"
"""The entity property holding a case's facts on its tracking issue and sub-tasks."""
ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-[0-9]+$")
"""A Jira issue key, e.g. UZO-12: safe to show without escaping."""


class SubTaskSpec(BaseModel):
    """One sub-task of a case; `slug` is its stable identity inside the case."""

    model_config = ConfigDict(frozen=True)

    slug: str
    summary: str
    description: str = ""


class CaseSpec(BaseModel):
    """The tracking issue of a case and its sub-tasks, as they should be."""

    model_config = ConfigDict(frozen=True)

    workflow: str
    request_key: str
    summary: str
    description: str = ""
    labels: tuple[str, ...] = ()
    due_date: date | None = None
    priority: str | None = None
    facts: dict[str, Any] = Field(default_factory=dict)
    subtasks: tuple[SubTaskSpec, ...] = ()


class CommentSpec(BaseModel):
    """A comment on the portal request: public (customer sees it) or an internal note.

    `slug` is the comment's identity within the request: the reconciler posts each slug once.
    """

    model_config = ConfigDict(frozen=True)

    slug: str
    issue_key: str
    body: str
    public: bool


class TransitionSpec(BaseModel):
    """Move an issue through its workflow by transition name (ids differ per workflow)."""

    model_config = ConfigDict(frozen=True)

    slug: str
    issue_key: str
    transition: str


class LabelSpec(BaseModel):
    """Add a label to an issue (e.g. the portal request a question was answered on)."""

    model_config = ConfigDict(frozen=True)

    issue_key: str
    label: str = Field(pattern=r"^\S{1,255}$")


class CertificateRecord(BaseModel):
    """Remember one UZI server certificate in the registry (facts only, never key material)."""

    model_config = ConfigDict(frozen=True)

    fingerprint: str
    abonneenummer: str
    uzi_number: str | None = None
    not_before: str | None = None
    not_after: str | None = None
    practice: str | None = None
    source_request: str | None = None
    vendor: str | None = None
    contact: str | None = None
    """The practice's portal customer: accountId (from the reporter) or e-mail (from a CSV)."""
    environment: str | None = None
    """`production` or `test`; the expiry watch skips test certificates."""


class RequestSpec(BaseModel):
    """Raise a portal request on behalf of a customer (or, without one, an agents-only issue).

    `slug` is the request's identity: the reconciler raises each slug once.
    """

    model_config = ConfigDict(frozen=True)

    slug: str
    request_type: str
    """The request type's id or name, resolved against the site."""
    summary: str
    description: str
    on_behalf_of: str | None = None
    """accountId or e-mail of the portal customer; None gives an agents-only tracking issue."""
    fields: dict[str, str] = Field(default_factory=dict)
    """Further request fields by display name (e.g. Abonneenummer), sent when the site has them."""
    labels: tuple[str, ...] = ()
    """Labels of the agents-only tracking issue."""


class Plan(BaseModel):
    """What a handler wants Jira to look like after one event; empty means nothing to do."""

    model_config = ConfigDict(frozen=True)

    handler: str
    summary: str = ""
    case: CaseSpec | None = None
    comments: tuple[CommentSpec, ...] = ()
    transitions: tuple[TransitionSpec, ...] = ()
    certificates: tuple[CertificateRecord, ...] = ()
    labels: tuple[LabelSpec, ...] = ()
    requests: tuple[RequestSpec, ...] = ()

    def is_empty(self) -> bool:
        """True when applying the plan would change nothing."""
        return (
            self.case is None
            and not self.comments
            and not self.transitions
            and not self.certificates
            and not self.labels
            and not self.requests
        )
