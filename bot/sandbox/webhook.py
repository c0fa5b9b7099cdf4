"""Stores an issue in the sandbox from the `issue` object of a Jira webhook payload (v2 shape)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.sandbox.model import (
    AttachmentState,
    CommentState,
    IssueState,
    Site,
    UserState,
    priority_by,
)
from bot.sandbox.render import adf_to_text, text_to_adf
from bot.sandbox.seed import IssueTypeSeed, ProjectSeed

SYSTEM_COPIED = ("summary", "labels", "duedate")


def seed_issue(
    site: Site, issue_json: Mapping[str, Any], attachments: Mapping[str, bytes] | None = None
) -> IssueState:
    """Store (or refresh) an issue as a webhook describes it; keeps its key, id and fields.

    `attachments` supplies bytes by attachment id or filename (webhooks carry metadata only).
    """
    key = str(issue_json["key"]).upper()
    fields: dict[str, Any] = dict(issue_json.get("fields") or {})
    project = _project(site, key, fields)
    itype = _issue_type(site, fields)
    if itype.name not in project.issue_types:
        project = ProjectSeed(
            project.id,
            project.key,
            project.name,
            (*project.issue_types, itype.name),
            project.service_desk_id,
        )
        site.projects[project.key] = project
    reporter = _user(site, fields.get("reporter")) or site.bot.account_id
    existing = site.issues.get(key)
    now = site.now()
    created = _time(fields.get("created")) or now
    status = _name(fields.get("status")) or site.workflows[itype.workflow].initial
    issue = existing or IssueState(
        id=str(issue_json.get("id") or site.next_issue_id()),
        key=key,
        project_key=project.key,
        issuetype=itype,
        status=status,
        created=created,
        updated=_time(fields.get("updated")) or created,
        seq=site.next_seq(),
        reporter_id=reporter,
    )
    issue.issuetype, issue.status = itype, status
    issue.fields.update(_values(fields))
    parent = fields.get("parent")
    if isinstance(parent, dict) and parent.get("key"):
        issue.parent_key = str(parent["key"]).upper()
    site.issues[key] = issue
    site.note_key(key)
    if issue.id.isdigit():
        site.next_issue_id(at_least=int(issue.id) + 1)
    _attachments(site, issue, fields.get("attachment"), attachments or {})
    _comments(site, issue, fields.get("comment"))
    return issue


def _values(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: fields[k] for k in SYSTEM_COPIED if k in fields}
    description = fields.get("description")
    if isinstance(description, str):
        out["description"] = text_to_adf(description) if description else None
    elif isinstance(description, dict) or description is None:
        out["description"] = description
    priority = fields.get("priority")
    if isinstance(priority, dict):
        out["priority"] = priority_by(priority.get("name"), priority.get("id")) or "Medium"
    out.update({k: v for k, v in fields.items() if k.startswith("customfield_")})
    return out


def _project(site: Site, key: str, fields: dict[str, Any]) -> ProjectSeed:
    raw: dict[str, Any] = fields["project"] if isinstance(fields.get("project"), dict) else {}
    project_key = str(raw.get("key") or key.rsplit("-", 1)[0]).upper()
    project = site.projects.get(project_key)
    if project is None:
        project_id = str(raw.get("id") or 10000 + len(site.projects))
        is_request = any(isinstance(v, dict) and "requestType" in v for v in fields.values())
        desk = str(1 + len(site.projects)) if is_request else None
        project = ProjectSeed(
            project_id, project_key, str(raw.get("name") or project_key), (), service_desk_id=desk
        )
        site.projects[project_key] = project
    return project


def _issue_type(site: Site, fields: dict[str, Any]) -> IssueTypeSeed:
    raw: dict[str, Any] = fields["issuetype"] if isinstance(fields.get("issuetype"), dict) else {}
    name, type_id = raw.get("name"), raw.get("id")
    for candidate in (
        site.find_issue_type_or_none(name=name),
        site.find_issue_type_or_none(id_=type_id),
    ):
        if candidate is not None:
            return candidate
    is_request = any(isinstance(v, dict) and "requestType" in v for v in fields.values())
    seed = IssueTypeSeed(
        str(type_id or 10100 + len(site.issue_types)),
        str(name or "Service Request"),
        bool(raw.get("subtask")),
        "request" if is_request else "task",
    )
    site.issue_types.append(seed)
    return seed


def _user(site: Site, raw: Any) -> str | None:
    if not isinstance(raw, dict) or not raw.get("accountId"):
        return None
    account_id = str(raw["accountId"])
    if account_id not in site.users:
        site.users[account_id] = UserState(
            account_id,
            str(raw.get("displayName") or account_id),
            str(raw.get("accountType") or "customer"),
            raw.get("emailAddress") if isinstance(raw.get("emailAddress"), str) else None,
        )
    return account_id


def _attachments(site: Site, issue: IssueState, raw: Any, data: Mapping[str, bytes]) -> None:
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or item.get("id") is None:
            continue
        att_id, filename = str(item["id"]), str(item.get("filename") or "attachment")
        content = data.get(att_id, data.get(filename, b""))
        site.attachments[att_id] = AttachmentState(
            att_id,
            issue.key,
            filename,
            str(item.get("mimeType") or "application/octet-stream"),
            content,
            len(content) if content else int(item.get("size") or 0),
            _user(site, item.get("author")) or issue.reporter_id,
            _time(item.get("created")) or site.now(),
            str(uuid.uuid4()),
        )
        if att_id not in issue.attachment_ids:
            issue.attachment_ids.append(att_id)


def _comments(site: Site, issue: IssueState, raw: Any) -> None:
    items = raw.get("comments") if isinstance(raw, dict) else None
    known = {c.id for c in issue.comments}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or str(item.get("id")) in known:
            continue
        body = item.get("body")
        issue.comments.append(
            CommentState(
                str(item.get("id") or site.next_object_id()),
                issue.key,
                body if isinstance(body, str) else adf_to_text(body),
                item.get("jsdPublic") is not False,
                _user(site, item.get("author")) or issue.reporter_id,
                _time(item.get("created")) or site.now(),
                adf=body if isinstance(body, dict) else None,
            )
        )


def _name(raw: Any) -> str | None:
    return str(raw["name"]) if isinstance(raw, dict) and raw.get("name") else None


def _time(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            continue
    return None
