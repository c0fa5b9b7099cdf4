"""Value types the Jira gateway returns, and the payload shapes of links and bulk create."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import requests

from bot.jira.errors import describe_errors

JSONDict = dict[str, Any]


@dataclass(frozen=True)
class IssueRef:
    """A created issue: its numeric id and its key."""

    id: str
    key: str


@dataclass(frozen=True)
class IssueLink:
    """A link to add on create; `direction` names the JSON side `key` goes to (`outwardIssue`)."""

    type: str
    key: str
    direction: Literal["outward", "inward"] = "outward"


@dataclass(frozen=True)
class BulkResult:
    """Bulk create outcome: refs in request order (None where it failed) and errors by index."""

    created: list[IssueRef | None]
    errors: dict[int, str]


def link_operation(link: IssueLink) -> JSONDict:
    """The `update.issuelinks` entry that adds `link` to an issue being created."""
    return {"add": {"type": {"name": link.type}, f"{link.direction}Issue": {"key": link.key}}}


def is_bulk_refusal(response: requests.Response) -> bool:
    """A 400 from bulk create that lists per-element errors (every element failed)."""
    if response.status_code != 400:
        return False
    try:
        data = response.json()
    except ValueError:
        return False
    return isinstance(data, dict) and isinstance(data.get("errors"), list) and bool(data["errors"])


def bulk_outcome(data: JSONDict, size: int) -> tuple[list[IssueRef | None], dict[int, str]]:
    """Map a bulk answer onto the chunk: created issues fill the indices that did not fail."""
    errors: dict[int, str] = {}
    for item in data.get("errors") or []:
        index = item.get("failedElementNumber") if isinstance(item, dict) else None
        if isinstance(index, int) and 0 <= index < size:
            fallback = f"HTTP {item.get('status', '?')}"
            errors[index] = describe_errors(item.get("elementErrors"), fallback)
    issues = iter(data.get("issues") or [])
    refs: list[IssueRef | None] = []
    for index in range(size):
        issue = None if index in errors else next(issues, None)
        if issue is None and index not in errors:
            errors[index] = "Jira returned no issue for this element"
        refs.append(IssueRef(str(issue["id"]), str(issue["key"])) if issue else None)
    return refs, errors
