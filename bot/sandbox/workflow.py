"""Sandbox endpoints for workflow transitions and issue entity properties."""

from __future__ import annotations

from typing import Any

from bot.sandbox.fields import MAX_PROPERTY_BYTES, adf_problem, normalise_fields
from bot.sandbox.http import JiraError, SandboxRequest, SandboxResponse, json_response
from bot.sandbox.model import CommentState, IssueState, Site
from bot.sandbox.render import status_json
from bot.sandbox.seed import STATUSES, TransitionSeed


def transition_json(site: Site, seed: TransitionSeed) -> dict[str, Any]:
    """One available transition, as GET transitions lists it."""
    return {
        "id": seed.id,
        "name": seed.name,
        "to": status_json(site, seed.to),
        "hasScreen": False,
        "isGlobal": False,
        "isInitial": False,
        "isAvailable": True,
        "isConditional": False,
        "isLooped": False,
    }


def handle_transitions(site: Site, req: SandboxRequest, params: dict[str, str]) -> SandboxResponse:
    """GET /rest/api/3/issue/{issueIdOrKey}/transitions (optionally one `transitionId`)."""
    issue = site.require_issue(params["issue"])
    available = site.workflow(issue).available(issue.status)
    only = req.param("transitionId")
    if only:
        available = [t for t in available if t.id == only]
    return json_response(
        200, {"expand": "transitions", "transitions": [transition_json(site, t) for t in available]}
    )


def handle_transition(site: Site, req: SandboxRequest, params: dict[str, str]) -> SandboxResponse:
    """POST /rest/api/3/issue/{issueIdOrKey}/transitions: 204, 400 when not available."""
    issue = site.require_issue(params["issue"])
    body = req.json_object()
    transition = body.get("transition")
    wanted = transition.get("id") if isinstance(transition, dict) else None
    if wanted is None or str(wanted) == "":
        raise JiraError.bad_request("Missing 'transition' identifier.")
    seed = next(
        (t for t in site.workflow(issue).available(issue.status) if t.id == str(wanted)), None
    )
    if seed is None:
        raise JiraError.bad_request(f"Transition id '{wanted}' is not valid for this issue.")
    raw_fields = dict(body.get("fields") or {})
    resolution = raw_fields.pop("resolution", None)
    errors: dict[str, str] = {}
    values = normalise_fields(site, raw_fields, errors, creating=False)
    comments = _transition_comments(body.get("update") or {}, errors)
    if errors:
        raise JiraError.fields(errors)
    issue.fields.update(values)
    move(site, issue, seed.to, resolution.get("name") if isinstance(resolution, dict) else None)
    for adf in comments:
        issue.comments.append(
            CommentState(
                site.next_object_id(), issue.key, "", True, site.bot.account_id, site.now(), adf=adf
            )
        )
    return SandboxResponse(204)


def move(site: Site, issue: IssueState, status: str, resolution: str | None = None) -> None:
    """Put an issue in a status; done statuses set a resolution, others clear it."""
    issue.status = status
    done = STATUSES[status].category == "done" if status in STATUSES else False
    issue.resolution = (resolution or "Done") if done else None
    issue.resolved = site.now() if done else None
    request_type = issue.fields.get("customfield_10010")
    if isinstance(request_type, dict):
        request_type["currentStatus"] = {"status": status}
    site.touch(issue)


def _transition_comments(update: Any, errors: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for op in update.get("comment", []) if isinstance(update, dict) else []:
        body = op.get("add", {}).get("body") if isinstance(op, dict) else None
        problem = adf_problem(body)
        if problem or not isinstance(body, dict):
            errors["comment"] = problem or "INVALID_INPUT"
        else:
            out.append(body)
    return out


def handle_property_keys(site: Site, _: SandboxRequest, params: dict[str, str]) -> SandboxResponse:
    """GET /rest/api/3/issue/{issueIdOrKey}/properties."""
    issue = site.require_issue(params["issue"])
    keys = [
        {"key": k, "self": f"{site.base_url}/rest/api/3/issue/{issue.id}/properties/{k}"}
        for k in issue.properties
    ]
    return json_response(200, {"keys": keys})


def handle_property_get(site: Site, _: SandboxRequest, params: dict[str, str]) -> SandboxResponse:
    """GET /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}."""
    issue = site.require_issue(params["issue"])
    key = params["key"]
    if key not in issue.properties:
        raise JiraError.not_found(f"The property with key '{key}' does not exist.")
    return json_response(200, {"key": key, "value": issue.properties[key]})


def handle_property_put(site: Site, req: SandboxRequest, params: dict[str, str]) -> SandboxResponse:
    """PUT a property: 201 created, 200 updated; the value must be non-empty JSON <= 32 KB."""
    issue = site.require_issue(params["issue"])
    key = params["key"]
    if len(key) > 255:
        raise JiraError.bad_request("The property key cannot be longer than 255 characters.")
    if not req.body or not req.body.strip():
        raise JiraError.bad_request("The property value cannot be empty.")
    if len(req.body) > MAX_PROPERTY_BYTES:
        raise JiraError.bad_request(
            f"The property value cannot be longer than {MAX_PROPERTY_BYTES} bytes."
        )
    value = req.json_body()
    created = key not in issue.properties
    issue.properties[key] = value
    site.touch(issue)
    return SandboxResponse(201 if created else 200)


def handle_property_delete(
    site: Site, _: SandboxRequest, params: dict[str, str]
) -> SandboxResponse:
    """DELETE a property: 204, 404 when absent."""
    issue = site.require_issue(params["issue"])
    if issue.properties.pop(params["key"], None) is None:
        raise JiraError.not_found(f"The property with key '{params['key']}' does not exist.")
    site.touch(issue)
    return SandboxResponse(204)
