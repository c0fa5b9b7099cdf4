"""Sandbox comment endpoints: JSM public comments and internal notes, platform comments."""

from __future__ import annotations

from typing import Any

from bot.sandbox.fields import TEXT_TOO_LONG, adf_problem, text_too_long
from bot.sandbox.http import JiraError, SandboxRequest, SandboxResponse, json_response
from bot.sandbox.model import CommentState, IssueState, Site, UserState
from bot.sandbox.render import adf_to_text, comment_json, fmt_time


def handle_sd_comment_post(
    site: Site, req: SandboxRequest, params: dict[str, str]
) -> SandboxResponse:
    """POST /rest/servicedeskapi/request/{issueIdOrKey}/comment: 201 with the comment."""
    issue = _request(site, params["issue"])
    body = req.json_object()
    text, public = body.get("body"), body.get("public")
    if not isinstance(text, str) or not text.strip():
        raise JiraError.servicedesk(
            400, "The comment body must not be empty.", "sd.comment.body.empty"
        )
    if text_too_long(text):
        raise JiraError.servicedesk(400, "The comment is too long.", "sd.comment.body.too.long")
    if not isinstance(public, bool):
        raise JiraError.servicedesk(
            400, "You must say whether the comment is public.", "sd.comment.public.required"
        )
    comment = CommentState(
        site.next_object_id(), issue.key, text, public, site.bot.account_id, site.now()
    )
    issue.comments.append(comment)
    site.touch(issue)
    return json_response(201, sd_comment_json(site, issue, comment))


def handle_sd_comment_list(
    site: Site, req: SandboxRequest, params: dict[str, str]
) -> SandboxResponse:
    """GET /rest/servicedeskapi/request/{issueIdOrKey}/comment (public/internal, start/limit)."""
    issue = _request(site, params["issue"])
    want_public = req.param_bool("public", True)
    want_internal = req.param_bool("internal", True)
    chosen = [
        c for c in issue.comments if (c.public and want_public) or (not c.public and want_internal)
    ]
    start = max(0, req.param_int("start", 0))
    limit = max(1, min(req.param_int("limit", 50), 100))
    page = chosen[start : start + limit]
    base = f"{site.base_url}/rest/servicedeskapi"
    links: dict[str, str] = {
        "base": base,
        "context": "",
        "self": f"{base}/request/{issue.id}/comment",
    }
    if start + limit < len(chosen):
        links["next"] = f"{base}/request/{issue.id}/comment?start={start + limit}&limit={limit}"
    if start > 0:
        links["prev"] = (
            f"{base}/request/{issue.id}/comment?start={max(0, start - limit)}&limit={limit}"
        )
    return json_response(
        200,
        {
            "_expands": [],
            "size": len(page),
            "start": start,
            "limit": limit,
            "isLastPage": start + limit >= len(chosen),
            "_links": links,
            "values": [sd_comment_json(site, issue, c) for c in page],
        },
    )


def handle_comment_list(site: Site, req: SandboxRequest, params: dict[str, str]) -> SandboxResponse:
    """GET /rest/api/3/issue/{issueIdOrKey}/comment: every comment, with `jsdPublic`."""
    issue = site.require_issue(params["issue"])
    order = req.param("orderBy") or "created"
    comments = sorted(issue.comments, key=lambda c: int(c.id), reverse=order == "-created")
    start = max(0, req.param_int("startAt", 0))
    limit = max(1, req.param_int("maxResults", 100))
    page = comments[start : start + limit]
    return json_response(
        200,
        {
            "comments": [comment_json(site, issue, c) for c in page],
            "startAt": start,
            "maxResults": limit,
            "total": len(comments),
        },
    )


def handle_comment_post(site: Site, req: SandboxRequest, params: dict[str, str]) -> SandboxResponse:
    """POST /rest/api/3/issue/{issueIdOrKey}/comment: ADF body; public unless marked internal."""
    issue = site.require_issue(params["issue"])
    body = req.json_object()
    problem = adf_problem(body.get("body"))
    if problem:
        raise JiraError.fields({"comment": problem})
    if text_too_long(body["body"]):
        raise JiraError.fields({"comment": TEXT_TOO_LONG})
    internal = any(
        isinstance(p, dict)
        and p.get("key") == "sd.public.comment"
        and isinstance(p.get("value"), dict)
        and p["value"].get("internal") is True
        for p in body.get("properties") or []
    )
    adf: dict[str, Any] = body["body"]
    comment = CommentState(
        site.next_object_id(),
        issue.key,
        adf_to_text(adf),
        not internal,
        site.bot.account_id,
        site.now(),
        adf=adf,
    )
    issue.comments.append(comment)
    site.touch(issue)
    return json_response(201, comment_json(site, issue, comment))


def sd_comment_json(site: Site, issue: IssueState, comment: CommentState) -> dict[str, Any]:
    """A comment as the service management API shows it (plain body, `public`)."""
    created = comment.created
    return {
        "_expands": ["attachment", "renderedBody"],
        "id": comment.id,
        "body": comment.body,
        "public": comment.public,
        "author": sd_user_json(site, site.user(comment.author_id)),
        "created": {
            "iso8601": created.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "jira": fmt_time(created),
            "friendly": created.strftime("%d/%b/%y %I:%M %p"),
            "epochMillis": int(created.timestamp() * 1000),
        },
        "_links": {
            "self": f"{site.base_url}/rest/servicedeskapi/request/{issue.id}/comment/{comment.id}"
        },
    }


def sd_user_json(site: Site, user: UserState) -> dict[str, Any]:
    """A user in the service management API's UserDTO shape."""
    out: dict[str, Any] = {
        "accountId": user.account_id,
        "displayName": user.display_name,
        "active": True,
        "timeZone": "Europe/Amsterdam",
        "_links": {
            "jiraRest": f"{site.base_url}/rest/api/2/user?accountId={user.account_id}",
            "self": f"{site.base_url}/rest/api/2/user?accountId={user.account_id}",
        },
    }
    if user.email:
        out["emailAddress"] = user.email
    return out


def _request(site: Site, id_or_key: str) -> IssueState:
    issue = site.find_issue(id_or_key)
    if issue is None or not site.is_request(issue):
        raise JiraError.servicedesk(
            404,
            "The request does not exist or you do not have permission to see it.",
            "sd.customer.request.not.found",
        )
    return issue
