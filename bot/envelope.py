"""Parses a Jira webhook envelope (or an Automation web request) into a typed Event."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from bot.events import Attachment, ChangeItem, Comment, Event

AUTOMATION_EVENT = "jira:issue_updated"


class EnvelopeError(ValueError):
    """The JSON is not a Jira webhook envelope; the sentence says what is missing."""


def check_jira_envelope(payload: Any) -> tuple[str, str | None]:
    """(event name, issue key) of a Jira webhook body; raise EnvelopeError when it is not one.

    The intake calls only this (cheap); the worker builds the full Event later.
    """
    if not isinstance(payload, dict):
        raise EnvelopeError("the body is not a JSON object")
    name = payload.get("webhookEvent")
    if not isinstance(name, str) or not name:
        raise EnvelopeError("the body has no 'webhookEvent' string")
    issue = payload.get("issue")
    if issue is not None and not isinstance(issue, dict):
        raise EnvelopeError("'issue' is not an object")
    if name.startswith(("jira:issue_", "comment_")) and not issue:
        raise EnvelopeError(f"a {name} event must carry an 'issue' object")
    return name, _str((issue or {}).get("key"))


def check_automation_payload(payload: Any) -> tuple[str, str | None]:
    """(event name, issue key) of an Automation web request; raise EnvelopeError otherwise."""
    if isinstance(payload, dict) and isinstance(payload.get("webhookEvent"), str):
        return check_jira_envelope(payload)
    if not isinstance(payload, dict):
        raise EnvelopeError("the body is not a JSON object")
    issue = payload.get("issue")
    if not isinstance(issue, dict) or not isinstance(issue.get("key"), str):
        raise EnvelopeError("an automation request must carry 'issue' with a 'key'")
    # An Automation-format request is a "look at this issue again": it is handled like an
    # update, and the worker re-reads the issue from Jira before routing it.
    name = payload.get("event") if isinstance(payload.get("event"), str) else AUTOMATION_EVENT
    return str(name), issue["key"]


def parse_jira_envelope(payload: Any, delivery_id: str) -> Event:
    """Build an Event from a Jira webhook body; raise EnvelopeError when it is not one."""
    name, _key = check_jira_envelope(payload)
    return _build_event(payload, payload.get("issue") or {}, delivery_id, source="jira", name=name)


def parse_automation_payload(payload: Any, delivery_id: str) -> Event:
    """Build an Event from an Automation "Send web request" body (Jira or Automation format)."""
    name, _key = check_automation_payload(payload)
    if isinstance(payload.get("webhookEvent"), str):
        event = parse_jira_envelope(payload, delivery_id)
        return event.model_copy(update={"source": "automation"})
    return _build_event(payload, payload["issue"], delivery_id, source="automation", name=name)


def _build_event(
    payload: dict[str, Any], issue: dict[str, Any], delivery_id: str, *, source: str, name: str
) -> Event:
    fields = _dict(issue.get("fields"))
    user = _dict(payload.get("user"))
    comment = _parse_comment(payload.get("comment"))
    actor_id = _str(user.get("accountId"))
    actor_type = _str(user.get("accountType"))
    if comment is not None and actor_id is None:
        # comment_created carries no `user`: the comment's author is the actor.
        actor_id, actor_type = comment.author_account_id, comment.author_type
    request_type = _find_request_type(fields)
    issuetype = _dict(fields.get("issuetype"))
    return Event.model_validate(
        {
            "delivery_id": delivery_id,
            "source": source,
            "name": name,
            "issue_event_type": _str(payload.get("issue_event_type_name")),
            "timestamp": _timestamp(payload.get("timestamp")),
            "issue_key": _str(issue.get("key")),
            "issue_id": _str(issue.get("id")),
            "project_key": _str(_dict(fields.get("project")).get("key")),
            "issue_type": _str(issuetype.get("name")),
            "is_subtask": issuetype.get("subtask") is True,
            "parent_key": _str(_dict(fields.get("parent")).get("key")),
            "summary": _str(fields.get("summary")) or "",
            "description": _text(fields.get("description")),
            "status": _str(_dict(fields.get("status")).get("name")),
            "labels": tuple(x for x in _list(fields.get("labels")) if isinstance(x, str)),
            "actor_account_id": actor_id,
            "actor_type": actor_type,
            "reporter_account_id": _str(_dict(fields.get("reporter")).get("accountId")),
            "request_type_id": _str(request_type.get("id")),
            "request_type_name": _str(request_type.get("name")),
            "changelog": _parse_changelog(payload.get("changelog")),
            "comment": comment,
            "attachments": _parse_attachments(fields.get("attachment")),
            "fields": fields,
        }
    )


def _find_request_type(fields: dict[str, Any]) -> dict[str, Any]:
    """The vp-origin field is recognised by its value's shape, so no site-specific id is needed."""
    for value in fields.values():
        if isinstance(value, dict) and isinstance(value.get("requestType"), dict):
            return dict(value["requestType"])
    return {}


def _parse_comment(raw: Any) -> Comment | None:
    if not isinstance(raw, dict) or _str(raw.get("id")) is None:
        return None
    author = _dict(raw.get("author"))
    public = raw.get("jsdPublic")
    return Comment(
        id=str(raw["id"]),
        body=_text(raw.get("body")),
        public=public is not False,
        author_account_id=_str(author.get("accountId")),
        author_type=_str(author.get("accountType")),
    )


def _parse_changelog(raw: Any) -> tuple[ChangeItem, ...]:
    items = _dict(raw).get("items")
    out = []
    for item in _list(items):
        if isinstance(item, dict) and isinstance(item.get("field"), str):
            out.append(
                ChangeItem(
                    field=item["field"],
                    field_id=_str(item.get("fieldId")),
                    from_value=_str(item.get("from")),
                    from_string=_str(item.get("fromString")),
                    to_value=_str(item.get("to")),
                    to_string=_str(item.get("toString")),
                )
            )
    return tuple(out)


def _parse_attachments(raw: Any) -> tuple[Attachment, ...]:
    out = []
    for item in _list(raw):
        if isinstance(item, dict) and _str(item.get("id")) and _str(item.get("filename")):
            size = item.get("size")
            out.append(
                Attachment(
                    id=str(item["id"]),
                    filename=str(item["filename"]),
                    size=size if isinstance(size, int) and not isinstance(size, bool) else 0,
                    mime_type=_str(item.get("mimeType")),
                )
            )
    return tuple(out)


def _timestamp(raw: Any) -> datetime | None:
    """Jira's epoch milliseconds; anything unusable (NaN, 1e30, a string) is no timestamp."""
    if not isinstance(raw, int | float) or isinstance(raw, bool):
        return None
    try:
        seconds = raw / 1000
        if not math.isfinite(seconds):
            return None
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _text(raw: Any) -> str:
    """Plain text from a v2 string or a v3 ADF document (text nodes joined)."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict):
        parts: list[str] = []
        _collect_adf_text(raw, parts)
        return "".join(parts).strip()
    return ""


def _collect_adf_text(root: dict[str, Any], parts: list[str]) -> None:
    """Depth-first text of an ADF tree, without recursion (a hostile tree may be deep)."""
    stack: list[dict[str, Any] | str] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, str):  # the line break queued after a block's children
            parts.append(node)
            continue
        if node.get("type") == "text" and isinstance(node.get("text"), str):
            parts.append(node["text"])
        if node.get("type") in {"paragraph", "heading", "listItem"}:
            stack.append("\n")
        stack.extend(reversed([c for c in _list(node.get("content")) if isinstance(c, dict)]))


def _list(raw: Any) -> list[Any]:
    return raw if isinstance(raw, list) else []


def _dict(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}


def _str(raw: Any) -> str | None:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    return None


def with_current_issue(payload: Any, issue: dict[str, Any]) -> dict[str, Any]:
    """The payload with its `issue` object completed by the issue as GET /issue returned it.

    Comment events and Automation requests carry only a few issue fields; the REST shape of
    an issue (key, id, fields) is the webhook's shape, so the parser reads either.
    """
    merged = dict(_dict(payload))
    merged["issue"] = {**_dict(merged.get("issue")), **issue}
    return merged
