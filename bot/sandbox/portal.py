"""The sandbox's JSM customer side: raise a request on behalf of a customer, list customers."""

from __future__ import annotations

from typing import Any

from bot.sandbox.http import JiraError, SandboxRequest, SandboxResponse, json_response
from bot.sandbox.model import IssueState, Site
from bot.sandbox.seed import REQUEST_TYPES, STATUSES, ProjectSeed
from bot.sandbox.webhook import seed_issue

MAX_SUMMARY = 255
MAX_TEXT = 32_767
REQUEST_TYPE_FIELD = "customfield_10010"


def handle_create_request(site: Site, req: SandboxRequest, _: dict[str, str]) -> SandboxResponse:
    """POST /rest/servicedeskapi/request: 201 with the new customer request."""
    body = req.json_object()
    desk = _desk(site, str(body.get("serviceDeskId") or ""))
    type_id = str(body.get("requestTypeId") or "")
    names = dict(REQUEST_TYPES)
    if type_id not in names:
        raise JiraError.servicedesk(
            400, "The request type does not exist.", "sd.request.type.not.found"
        )
    values = body.get("requestFieldValues") or {}
    if not isinstance(values, dict):
        raise JiraError.servicedesk(400, "requestFieldValues must be an object.", "sd.bad.body")
    summary = values.get("summary")
    if not isinstance(summary, str) or not summary.strip() or len(summary) > MAX_SUMMARY:
        raise JiraError.servicedesk(
            400, "A summary of at most 255 characters is required.", "sd.request.summary"
        )
    description = values.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_TEXT:
        raise JiraError.servicedesk(400, "The description is invalid.", "sd.request.description")
    unknown = [
        k for k in values if k not in ("summary", "description") and site.field_seed(str(k)) is None
    ]
    if unknown:
        raise JiraError.servicedesk(
            400, f"Field {unknown[0]!r} is not on this request type.", "sd.request.field"
        )
    on_behalf = body.get("raiseOnBehalfOf")
    reporter = site.users.get(str(on_behalf)) if on_behalf else site.bot
    if reporter is None or (on_behalf and reporter.account_type != "customer"):
        raise JiraError.servicedesk(
            400, "The customer to raise the request for does not exist.", "sd.customer.unknown"
        )
    key = site.next_key(desk.key)
    issue = seed_issue(
        site,
        {
            "key": key,
            "fields": {
                "project": {"key": desk.key, "id": desk.id},
                "issuetype": {"name": "Service Request"},
                "summary": summary,
                "description": description,
                "reporter": {"accountId": reporter.account_id, "accountType": "customer"},
                REQUEST_TYPE_FIELD: {
                    "requestType": {"id": type_id, "name": names[type_id]},
                    "currentStatus": {"status": "Waiting for support"},
                },
                **{k: v for k, v in values.items() if str(k).startswith("customfield_")},
            },
        },
    )
    return json_response(201, _request_json(site, issue, desk, type_id))


def handle_list_requests(site: Site, req: SandboxRequest, _: dict[str, str]) -> SandboxResponse:
    """GET /rest/servicedeskapi/request (the agent sees every request of the desks)."""
    desk_id, type_id = req.param("serviceDeskId"), req.param("requestTypeId")
    state = req.param("requestStatus") or "ALL_REQUESTS"
    if type_id and not desk_id:
        raise JiraError.servicedesk(
            400, "requestTypeId needs serviceDeskId.", "sd.request.type.needs.desk"
        )
    chosen = []
    for issue in sorted(site.issues.values(), key=lambda i: i.seq):
        project = site.projects.get(issue.project_key)
        origin = issue.fields.get(REQUEST_TYPE_FIELD)
        if project is None or not project.service_desk_id or not isinstance(origin, dict):
            continue
        if desk_id and project.service_desk_id != desk_id:
            continue
        if type_id and str((origin.get("requestType") or {}).get("id")) != type_id:
            continue
        status = STATUSES.get(issue.status)
        closed = issue.resolution is not None or (status is not None and status.category == "done")
        if (state == "OPEN_REQUESTS" and closed) or (state == "CLOSED_REQUESTS" and not closed):
            continue
        chosen.append((issue, project, str((origin.get("requestType") or {}).get("id"))))
    start = max(0, req.param_int("start", 0))
    limit = max(1, min(req.param_int("limit", 50), 100))
    page = chosen[start : start + limit]
    values = [_request_json(site, issue, project, rid) for issue, project, rid in page]
    return json_response(
        200,
        {
            "size": len(values),
            "start": start,
            "limit": limit,
            "isLastPage": start + limit >= len(chosen),
            "values": values,
            "_links": {"base": f"{site.base_url}/rest/servicedeskapi", "context": ""},
        },
    )


def handle_customers(site: Site, req: SandboxRequest, params: dict[str, str]) -> SandboxResponse:
    """GET /rest/servicedeskapi/servicedesk/{serviceDeskId}/customer?query= (experimental)."""
    if req.headers.get("x-experimentalapi", "").lower() != "opt-in":
        raise JiraError.servicedesk(
            412, "This is an experimental API: send X-ExperimentalApi: opt-in.", "sd.experimental"
        )
    _desk(site, params["desk"])
    query = (req.param("query") or "").casefold()
    found = [
        u
        for u in site.users.values()
        if u.account_type == "customer"
        and (query in (u.email or "").casefold() or query in u.display_name.casefold())
    ]
    start = max(0, req.param_int("start", 0))
    limit = max(1, min(req.param_int("limit", 50), 50))
    page = found[start : start + limit]
    values = [
        {
            "accountId": u.account_id,
            "displayName": u.display_name,
            "emailAddress": u.email or "",
            "active": True,
            "_links": {"self": f"{site.base_url}/rest/api/3/user?accountId={u.account_id}"},
        }
        for u in page
    ]
    return json_response(
        200,
        {
            "size": len(values),
            "start": start,
            "limit": limit,
            "isLastPage": start + limit >= len(found),
            "values": values,
            "_links": {"base": f"{site.base_url}/rest/servicedeskapi", "context": ""},
        },
    )


def _desk(site: Site, desk_id: str) -> ProjectSeed:
    for project in site.projects.values():
        if project.service_desk_id and desk_id in (project.service_desk_id, project.key):
            return project
    raise JiraError.servicedesk(
        404, "The service desk does not exist.", "sd.service.desk.not.found"
    )


def _request_json(site: Site, issue: IssueState, desk: ProjectSeed, type_id: str) -> dict[str, Any]:
    reporter = site.user(issue.reporter_id)
    portal = f"{site.base_url}/servicedesk/customer/portal/{desk.service_desk_id}"
    fields = [
        {"fieldId": fid, "label": seed.name, "value": issue.fields[fid]}
        for fid in sorted(issue.fields)
        if fid.startswith("customfield_")
        and fid != REQUEST_TYPE_FIELD
        and (seed := site.field_seed(fid)) is not None
    ]
    summary = {"fieldId": "summary", "label": "Summary", "value": issue.fields.get("summary")}
    return {
        "issueId": issue.id,
        "issueKey": issue.key,
        "requestTypeId": type_id,
        "requestFieldValues": [summary, *fields],
        "serviceDeskId": desk.service_desk_id,
        "reporter": {
            "accountId": reporter.account_id,
            "displayName": reporter.display_name,
            "emailAddress": reporter.email or "",
            "active": True,
        },
        "_links": {
            "self": f"{site.base_url}/rest/servicedeskapi/request/{issue.id}",
            "web": f"{portal}/{issue.key}",
        },
    }
