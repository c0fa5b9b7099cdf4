"""Renders sandbox state in the JSON shapes Jira Cloud's REST APIs answer with."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from bot.sandbox.model import AttachmentState, CommentState, IssueState, Site, UserState
from bot.sandbox.seed import CATEGORIES, LINK_TYPES, PRIORITIES, STATUSES, IssueTypeSeed

NAVIGABLE_SKIP = frozenset({"comment"})
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


def fmt_time(moment: datetime) -> str:
    """Jira's timestamp format: `2024-05-01T10:00:00.000+0000`."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def text_to_adf(text: str) -> dict[str, Any]:
    """A plain string as an ADF document, one paragraph per line (empty lines dropped)."""
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}]}
        for line in text.splitlines()
        if line
    ]
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_to_text(node: Any) -> str:
    """The text of an ADF document, paragraphs separated by newlines."""
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    parts = [adf_to_text(child) for child in node.get("content") or ()]
    joiner = "\n" if node.get("type") == "doc" else ""
    return joiner.join(parts)


def user_json(site: Site, user: UserState) -> dict[str, Any]:
    """A user as the platform API shows it."""
    out: dict[str, Any] = {
        "self": f"{site.base_url}/rest/api/3/user?accountId={user.account_id}",
        "accountId": user.account_id,
        "displayName": user.display_name,
        "active": True,
        "timeZone": "Europe/Amsterdam",
        "accountType": user.account_type,
    }
    if user.email:
        out["emailAddress"] = user.email
    return out


def status_json(site: Site, name: str) -> dict[str, Any]:
    """A status with its category."""
    seed = STATUSES.get(name)
    status_id = seed.id if seed else "1"
    cat_id, cat_name, colour = CATEGORIES[seed.category if seed else "new"]
    return {
        "self": f"{site.base_url}/rest/api/3/status/{status_id}",
        "description": "",
        "iconUrl": f"{site.base_url}/images/icons/statuses/generic.png",
        "name": name,
        "id": status_id,
        "statusCategory": {
            "self": f"{site.base_url}/rest/api/3/statuscategory/{cat_id}",
            "id": cat_id,
            "key": seed.category if seed else "new",
            "colorName": colour,
            "name": cat_name,
        },
    }


def issuetype_json(site: Site, seed: IssueTypeSeed) -> dict[str, Any]:
    """An issue type."""
    return {
        "self": f"{site.base_url}/rest/api/3/issuetype/{seed.id}",
        "id": seed.id,
        "description": seed.description,
        "iconUrl": f"{site.base_url}/rest/api/2/universal_avatar/view/type/issuetype/avatar/1",
        "name": seed.name,
        "subtask": seed.subtask,
        "hierarchyLevel": seed.hierarchy_level,
    }


def priority_json(site: Site, name: str) -> dict[str, Any]:
    """A priority by name."""
    pid = next(p for p, n in PRIORITIES if n == name)
    return {
        "self": f"{site.base_url}/rest/api/3/priority/{pid}",
        "iconUrl": f"{site.base_url}/images/icons/priorities/{name.lower()}.svg",
        "name": name,
        "id": pid,
    }


def link_type_json(site: Site, name: str) -> dict[str, Any]:
    """An issue link type by name."""
    lid, lname, inward, outward = next(t for t in LINK_TYPES if t[1] == name)
    return {
        "id": lid,
        "name": lname,
        "inward": inward,
        "outward": outward,
        "self": f"{site.base_url}/rest/api/3/issueLinkType/{lid}",
    }


def project_ref_json(site: Site, key: str) -> dict[str, Any]:
    """A project as embedded in an issue."""
    project = site.projects[key]
    return {
        "self": f"{site.base_url}/rest/api/3/project/{project.id}",
        "id": project.id,
        "key": project.key,
        "name": project.name,
        "projectTypeKey": "service_desk" if project.service_desk_id else "software",
        "simplified": False,
    }


def issue_ref_json(site: Site, issue: IssueState) -> dict[str, Any]:
    """An issue as embedded in parent, subtasks and issuelinks (a few fields only)."""
    return {
        "id": issue.id,
        "key": issue.key,
        "self": f"{site.base_url}/rest/api/3/issue/{issue.id}",
        "fields": {
            "summary": issue.fields.get("summary", ""),
            "status": status_json(site, issue.status),
            "priority": priority_json(site, issue.fields.get("priority") or "Medium"),
            "issuetype": issuetype_json(site, issue.issuetype),
        },
    }


def attachment_json(site: Site, att: AttachmentState, *, numeric_id: bool = False) -> Any:
    """Attachment metadata (GET /attachment/{id} uses a numeric id, issue fields a string)."""
    return {
        "self": f"{site.base_url}/rest/api/3/attachment/{att.id}",
        "id": int(att.id) if numeric_id else att.id,
        "filename": att.filename,
        "author": user_json(site, site.user(att.author_id)),
        "created": fmt_time(att.created),
        "size": att.size,
        "mimeType": att.mime_type,
        "content": f"{site.base_url}/rest/api/3/attachment/content/{att.id}",
    }


def comment_json(site: Site, issue: IssueState, comment: CommentState) -> dict[str, Any]:
    """A comment as the platform API shows it (ADF body, `jsdPublic`)."""
    author = user_json(site, site.user(comment.author_id))
    return {
        "self": f"{site.base_url}/rest/api/3/issue/{issue.id}/comment/{comment.id}",
        "id": comment.id,
        "author": author,
        "body": comment.adf or text_to_adf(comment.body),
        "updateAuthor": author,
        "created": fmt_time(comment.created),
        "updated": fmt_time(comment.created),
        "jsdPublic": comment.public,
    }


def issue_fields(site: Site, issue: IssueState) -> dict[str, Any]:
    """Every field of an issue, v3 shapes."""
    values = issue.fields
    out: dict[str, Any] = {
        "summary": values.get("summary", ""),
        "description": values.get("description"),
        "labels": list(values.get("labels") or []),
        "duedate": values.get("duedate"),
        "priority": priority_json(site, values.get("priority") or "Medium"),
        "issuetype": issuetype_json(site, issue.issuetype),
        "project": project_ref_json(site, issue.project_key),
        "status": status_json(site, issue.status),
        "created": fmt_time(issue.created),
        "updated": fmt_time(issue.updated),
        "reporter": user_json(site, site.user(issue.reporter_id)),
        "creator": user_json(site, site.user(issue.reporter_id)),
        "assignee": None,
        "resolution": _resolution(site, issue),
        "resolutiondate": fmt_time(issue.resolved) if issue.resolved else None,
        "subtasks": [issue_ref_json(site, sub) for sub in site.subtasks_of(issue.key)],
        "issuelinks": _links(site, issue),
        "attachment": [attachment_json(site, site.attachments[a]) for a in issue.attachment_ids],
        "comment": {
            "comments": [comment_json(site, issue, c) for c in issue.comments],
            "self": f"{site.base_url}/rest/api/3/issue/{issue.id}/comment",
            "maxResults": len(issue.comments),
            "total": len(issue.comments),
            "startAt": 0,
        },
    }
    parent = site.find_issue(issue.parent_key) if issue.parent_key else None
    if parent is not None:
        out["parent"] = issue_ref_json(site, parent)
    for seed in site.fields:
        if seed.custom:
            out[seed.id] = None  # Jira lists every custom field in context, null when unset
    for fid, value in values.items():
        if fid.startswith("customfield_"):
            out[fid] = value
    return out


def issue_json(
    site: Site,
    issue: IssueState,
    wanted: Collection[str] | None = None,
    properties: Collection[str] = (),
) -> dict[str, Any]:
    """An issue bean; `wanted` as parsed by `select_fields` (None: all fields)."""
    fields = issue_fields(site, issue)
    if wanted is not None:
        fields = {k: v for k, v in fields.items() if k in wanted}
    out: dict[str, Any] = {
        "expand": ISSUE_EXPAND,
        "id": issue.id,
        "self": f"{site.base_url}/rest/api/3/issue/{issue.id}",
        "key": issue.key,
        "fields": fields,
    }
    if properties:
        everything = "*all" in properties
        out["properties"] = {
            k: v for k, v in issue.properties.items() if everything or k in properties
        }
    return out


def select_fields(site: Site, issue: IssueState, requested: list[str]) -> set[str] | None:
    """Field ids for a `fields` parameter (`*all`, `*navigable`, names, `-excluded`)."""
    if not requested:
        return None
    every = set(issue_fields(site, issue))
    chosen: set[str] = set()
    for name in requested:
        if name == "*all":
            chosen |= every
        elif name == "*navigable":
            chosen |= every - NAVIGABLE_SKIP
        elif not name.startswith("-"):
            chosen.add(name)
    chosen -= {name[1:] for name in requested if name.startswith("-")}
    return chosen


def _resolution(site: Site, issue: IssueState) -> dict[str, Any] | None:
    if issue.resolution is None:
        return None
    return {
        "self": f"{site.base_url}/rest/api/3/resolution/10000",
        "id": "10000",
        "description": "Work has been completed on this issue.",
        "name": issue.resolution,
    }


def _links(site: Site, issue: IssueState) -> list[dict[str, Any]]:
    out = []
    for link in site.links_of(issue.key):
        outward = link.source == issue.key
        other = site.find_issue(link.target if outward else link.source)
        if other is None:
            continue
        out.append(
            {
                "id": link.id,
                "self": f"{site.base_url}/rest/api/3/issueLink/{link.id}",
                "type": link_type_json(site, link.type_name),
                ("outwardIssue" if outward else "inwardIssue"): issue_ref_json(site, other),
            }
        )
    return out
