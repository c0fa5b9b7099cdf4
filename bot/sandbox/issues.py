"""Sandbox endpoints that create, edit, read and link issues (issue, issue/bulk, issueLink)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from bot.sandbox.fields import (
    apply_update_ops,
    normalise_fields,
    property_problem,
)
from bot.sandbox.http import JiraError, SandboxRequest, SandboxResponse, json_response
from bot.sandbox.model import IssueState, LinkState, Site
from bot.sandbox.render import issue_json, select_fields
from bot.sandbox.seed import DEFAULT_PRIORITY, LINK_TYPES, IssueTypeSeed, ProjectSeed

MAX_BULK = 50


def create_issue(
    site: Site, body: dict[str, Any], *, parents: Collection[str] | None = None
) -> IssueState:
    """Validate a create request like Jira and store the issue; JiraError (400) otherwise.

    `parents` limits which issues may serve as parent (bulk create: only pre-existing ones).
    """
    raw = body.get("fields")
    if raw is not None and not isinstance(raw, dict):
        raise JiraError.bad_request("'fields' must be an object.")
    fields: dict[str, Any] = raw or {}
    errors: dict[str, str] = {}
    project = _project(site, fields.get("project"), errors)
    itype = _issue_type(site, fields.get("issuetype"), project, errors)
    values = normalise_fields(site, fields, errors, creating=True)
    update = body.get("update") or {}
    values.update(apply_update_ops(site, values, update, errors))
    parent = _parent(site, fields.get("parent"), itype, project, parents, errors)
    links = _link_ops(site, update.get("issuelinks", []), errors)
    properties = _properties(body.get("properties") or [], errors)
    if errors:
        raise JiraError.fields(errors)
    assert project is not None and itype is not None
    now = site.now()
    key = site.next_key(project.key)
    issue = IssueState(
        id=site.next_issue_id(),
        key=key,
        project_key=project.key,
        issuetype=itype,
        status=site.workflows[itype.workflow].initial,
        created=now,
        updated=now,
        seq=site.next_seq(),
        reporter_id=site.bot.account_id,
        fields={"priority": DEFAULT_PRIORITY, **values},
        parent_key=parent,
        properties=properties,
    )
    site.issues[key] = issue
    for type_name, other, outward in links:
        add_link(site, type_name, key if outward else other, other if outward else key)
    return issue


def add_link(site: Site, type_name: str, source: str, target: str) -> None:
    """Store a link unless the same one exists (Jira ignores duplicates)."""
    for link in site.links:
        if (link.type_name, link.source, link.target) == (type_name, source, target):
            return
    site.links.append(LinkState(site.next_object_id(), type_name, source, target))


def handle_create(site: Site, req: SandboxRequest, _: dict[str, str]) -> SandboxResponse:
    """POST /rest/api/3/issue."""
    issue = create_issue(site, req.json_object())
    return json_response(201, _created(site, issue))


def handle_bulk(site: Site, req: SandboxRequest, _: dict[str, str]) -> SandboxResponse:
    """POST /rest/api/3/issue/bulk: 201 when any issue was created, 400 when none."""
    updates = req.json_object().get("issueUpdates")
    if not isinstance(updates, list) or not updates:
        raise JiraError.bad_request("Nothing to create: 'issueUpdates' is empty.")
    if len(updates) > MAX_BULK:
        raise JiraError.bad_request(f"The number of issues is greater than {MAX_BULK}.")
    before = set(site.issues)
    created: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for number, update in enumerate(updates):
        try:
            if not isinstance(update, dict):
                raise JiraError.bad_request("Each issue update must be an object.")
            created.append(_created(site, create_issue(site, update, parents=before)))
        except JiraError as exc:
            failed.append(
                {"status": exc.status, "elementErrors": exc.payload, "failedElementNumber": number}
            )
    return json_response(201 if created else 400, {"issues": created, "errors": failed})


def handle_get(site: Site, req: SandboxRequest, params: dict[str, str]) -> SandboxResponse:
    """GET /rest/api/3/issue/{issueIdOrKey}."""
    issue = site.require_issue(params["issue"])
    wanted = select_fields(site, issue, req.param_list("fields"))
    return json_response(200, issue_json(site, issue, wanted, req.param_list("properties")))


def handle_edit(site: Site, req: SandboxRequest, params: dict[str, str]) -> SandboxResponse:
    """PUT /rest/api/3/issue/{issueIdOrKey}: 204."""
    issue = site.require_issue(params["issue"])
    body = req.json_object()
    raw = body.get("fields") or {}
    update = body.get("update") or {}
    if not isinstance(raw, dict) or not isinstance(update, dict):
        raise JiraError.bad_request("'fields' and 'update' must be objects.")
    errors: dict[str, str] = {}
    for fid in ("project", "issuetype", "parent"):
        if fid in raw:
            errors[fid] = f"Field '{fid}' cannot be changed by editing the issue."
    values = normalise_fields(site, raw, errors, creating=False)
    values.update(apply_update_ops(site, {**issue.fields, **values}, update, errors))
    links = _link_ops(site, update.get("issuelinks", []), errors)
    properties = _properties(body.get("properties") or [], errors)
    if errors:
        raise JiraError.fields(errors)
    issue.fields.update(values)
    issue.properties.update(properties)
    for type_name, other, outward in links:
        add_link(site, type_name, issue.key if outward else other, other if outward else issue.key)
    site.touch(issue)
    if req.param_bool("returnIssue", False):
        return json_response(200, issue_json(site, issue))
    return SandboxResponse(204)


def handle_link(site: Site, req: SandboxRequest, _: dict[str, str]) -> SandboxResponse:
    """POST /rest/api/3/issueLink: 201 without a body, also for a duplicate."""
    body = req.json_object()
    type_name = _link_type(body.get("type"))
    if type_name is None:
        raise JiraError.not_found("No issue link type with name or id given was found.")
    ends = []
    for side in ("inwardIssue", "outwardIssue"):
        ref = body.get(side)
        issue = site.find_issue(_ref(ref) or "") if isinstance(ref, dict) else None
        if issue is None:
            raise JiraError.not_found(f"The {side} does not exist.")
        ends.append(issue.key)
    # The spec calls outwardIssue the "from" issue: it shows the inward one as its outwardIssue.
    add_link(site, type_name, ends[1], ends[0])
    return SandboxResponse(201)


def _created(site: Site, issue: IssueState) -> dict[str, Any]:
    return {
        "id": issue.id,
        "key": issue.key,
        "self": f"{site.base_url}/rest/api/3/issue/{issue.id}",
    }


def _ref(raw: Any) -> str | None:
    """The key or id in `{"key": ...}` / `{"id": ...}`."""
    if not isinstance(raw, dict):
        return None
    value = raw.get("key", raw.get("id"))
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def _project(site: Site, raw: Any, errors: dict[str, str]) -> ProjectSeed | None:
    ref = _ref(raw)
    project = site.find_project(ref) if ref else None
    if project is None:
        errors["project"] = "Specify a valid project ID or key"
    return project


def _issue_type(
    site: Site, raw: Any, project: ProjectSeed | None, errors: dict[str, str]
) -> IssueTypeSeed | None:
    if not isinstance(raw, dict) or not (raw.get("name") or raw.get("id")):
        errors["issuetype"] = "Specify an issue type"
        return None
    try:
        itype = site.find_issue_type(name=raw.get("name"), id_=raw.get("id"))
    except KeyError:
        errors["issuetype"] = "Specify a valid issue type"
        return None
    if project is not None and itype.name not in project.issue_types:
        errors["issuetype"] = "The issue type selected is invalid."
        return None
    return itype


def _parent(
    site: Site,
    raw: Any,
    itype: IssueTypeSeed | None,
    project: ProjectSeed | None,
    allowed: Collection[str] | None,
    errors: dict[str, str],
) -> str | None:
    if itype is None:
        return None
    if raw is None:
        if itype.subtask:
            errors["parent"] = "Parent is required for a sub-task."
        return None
    ref = _ref(raw)
    parent = site.find_issue(ref) if ref else None
    if parent is None or (allowed is not None and parent.key not in allowed):
        errors["parent"] = f"Could not find issue by id or key: {ref}."
        return None
    if not itype.subtask or parent.issuetype.subtask:
        errors["parent"] = "Given parent work item does not belong to appropriate hierarchy."
        return None
    if project is not None and parent.project_key != project.key:
        errors["project"] = "Sub-tasks must be created in the same project as the parent."
        return None
    return parent.key


def _link_type(raw: Any) -> str | None:
    if not isinstance(raw, dict):
        return None
    for lid, name, _inward, _outward in LINK_TYPES:
        if raw.get("id") == lid or raw.get("name") == name:
            return name
    return None


def _link_ops(site: Site, ops: Any, errors: dict[str, str]) -> list[tuple[str, str, bool]]:
    """Parse `update.issuelinks` add operations into (type, other key, this-is-outward)."""
    out: list[tuple[str, str, bool]] = []
    for op in ops if isinstance(ops, list) else [ops]:
        add = op.get("add") if isinstance(op, dict) else None
        if not isinstance(add, dict):
            errors["issuelinks"] = "Only 'add' operations are supported for issue links."
            continue
        type_name = _link_type(add.get("type"))
        if type_name is None:
            errors["issuelinks"] = "No issue link type with name or id given was found."
            continue
        outward = "outwardIssue" in add
        ref = _ref(add.get("outwardIssue" if outward else "inwardIssue"))
        other = site.find_issue(ref) if ref else None
        if other is None:
            errors["issuelinks"] = f"Issue '{ref}' does not exist or you lack permission."
            continue
        out.append((type_name, other.key, outward))
    return out


def _properties(raw: Any, errors: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in raw if isinstance(raw, list) else [raw]:
        key = item.get("key") if isinstance(item, dict) else None
        value = item.get("value") if isinstance(item, dict) else None
        problem = property_problem(key, value)
        if problem:
            errors["properties"] = problem
        else:
            out[str(key)] = value
    return out
