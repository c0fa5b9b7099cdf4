"""The typed Event built from a Jira webhook envelope or an Automation web request."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ChangeItem(BaseModel):
    """One changelog item (`changelog.items[]`)."""

    model_config = ConfigDict(frozen=True)

    field: str
    field_id: str | None = None
    from_value: str | None = None
    from_string: str | None = None
    to_value: str | None = None
    to_string: str | None = None


class Comment(BaseModel):
    """The comment carried by a `comment_*` event."""

    model_config = ConfigDict(frozen=True)

    id: str
    body: str
    public: bool = True
    author_account_id: str | None = None
    author_type: str | None = None


class Attachment(BaseModel):
    """An attachment listed in the issue's `attachment` field (never fetched by URL)."""

    model_config = ConfigDict(frozen=True)

    id: str
    filename: str
    size: int = 0
    mime_type: str | None = None


class Event(BaseModel):
    """Everything a handler may read about one delivery, typed and already validated."""

    model_config = ConfigDict(frozen=True)

    delivery_id: str
    source: Literal["jira", "automation"] = "jira"
    name: str
    issue_event_type: str | None = None
    timestamp: datetime | None = None
    issue_key: str | None = None
    issue_id: str | None = None
    project_key: str | None = None
    issue_type: str | None = None
    is_subtask: bool = False
    parent_key: str | None = None
    summary: str = ""
    description: str = ""
    status: str | None = None
    labels: tuple[str, ...] = ()
    actor_account_id: str | None = None
    actor_type: str | None = None
    reporter_account_id: str | None = None
    """The request's reporter (for a portal request: the practice's customer account)."""
    request_type_id: str | None = None
    request_type_name: str | None = None
    changelog: tuple[ChangeItem, ...] = ()
    comment: Comment | None = None
    attachments: tuple[Attachment, ...] = ()
    fields: dict[str, Any] = Field(default_factory=dict)
