"""Sandbox site-level endpoints: myself, fields, projects, server info, link types, attachments."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from bot.sandbox.http import JiraError, SandboxRequest, SandboxResponse, json_response
from bot.sandbox.model import AttachmentState, Site
from bot.sandbox.render import attachment_json, fmt_time, issuetype_json, link_type_json, user_json
from bot.sandbox.seed import LINK_TYPES, REQUEST_TYPES

MEDIA_HOST = "https://api.media.atlassian.com"


def _avatars(url: str) -> dict[str, str]:
    return {f"{n}x{n}": f"{url}?size={n}" for n in (16, 24, 32, 48)}


def handle_myself(site: Site, _: SandboxRequest, __: dict[str, str]) -> SandboxResponse:
    """GET /rest/api/3/myself: the bot's own account."""
    out = user_json(site, site.bot)
    out.update(
        {
            "avatarUrls": _avatars(f"{site.base_url}/secure/useravatar"),
            "locale": "en_US",
            "groups": {"size": 1, "items": []},
            "applicationRoles": {"size": 1, "items": []},
            "expand": "groups,applicationRoles",
        }
    )
    return json_response(200, out)


def handle_fields(site: Site, _: SandboxRequest, __: dict[str, str]) -> SandboxResponse:
    """GET /rest/api/3/field."""
    return json_response(200, [f.as_json() for f in site.fields])


def handle_project(site: Site, _: SandboxRequest, params: dict[str, str]) -> SandboxResponse:
    """GET /rest/api/3/project/{projectIdOrKey}."""
    project = site.find_project(params["project"])
    if project is None:
        raise JiraError.not_found(f"No project could be found with key '{params['project']}'.")
    types = [issuetype_json(site, site.find_issue_type(name=n)) for n in project.issue_types]
    return json_response(
        200,
        {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            "self": f"{site.base_url}/rest/api/3/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "description": "",
            "lead": user_json(site, site.bot),
            "components": [],
            "issueTypes": types,
            "assigneeType": "UNASSIGNED",
            "versions": [],
            "roles": {},
            "avatarUrls": _avatars(f"{site.base_url}/secure/projectavatar"),
            "projectTypeKey": "service_desk" if project.service_desk_id else "software",
            "simplified": False,
            "style": "classic",
            "isPrivate": False,
            "properties": {},
        },
    )


def handle_server_info(site: Site, _: SandboxRequest, __: dict[str, str]) -> SandboxResponse:
    """GET /rest/api/3/serverInfo."""
    return json_response(
        200,
        {
            "baseUrl": site.base_url,
            "displayUrl": site.base_url,
            "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0],
            "deploymentType": "Cloud",
            "buildNumber": 100295,
            "buildDate": "2025-12-01T00:00:00.000+0000",
            "serverTime": fmt_time(site.now()),
            "scmInfo": "0" * 40,
            "serverTitle": "Jira",
        },
    )


def handle_link_types(site: Site, _: SandboxRequest, __: dict[str, str]) -> SandboxResponse:
    """GET /rest/api/3/issueLinkType."""
    return json_response(200, {"issueLinkTypes": [link_type_json(site, t[1]) for t in LINK_TYPES]})


def handle_service_desks(site: Site, _: SandboxRequest, __: dict[str, str]) -> SandboxResponse:
    """GET /rest/servicedeskapi/servicedesk."""
    desks = [
        {
            "id": p.service_desk_id,
            "projectId": p.id,
            "projectName": p.name,
            "projectKey": p.key,
            "_links": {
                "self": f"{site.base_url}/rest/servicedeskapi/servicedesk/{p.service_desk_id}"
            },
        }
        for p in site.projects.values()
        if p.service_desk_id
    ]
    return json_response(200, _page(site, desks))


def handle_request_types(site: Site, _: SandboxRequest, params: dict[str, str]) -> SandboxResponse:
    """GET /rest/servicedeskapi/servicedesk/{serviceDeskId}/requesttype."""
    desk = params["desk"]
    if not any(p.service_desk_id == desk for p in site.projects.values()):
        raise JiraError.servicedesk(
            404, "The service desk does not exist.", "sd.service.desk.not.found"
        )
    request_type = site.find_issue_type(name="Service Request")
    values = [
        {
            "id": rid,
            "name": name,
            "description": "",
            "helpText": "",
            "issueTypeId": request_type.id,
            "serviceDeskId": desk,
            "groupIds": [],
            "_links": {
                "self": f"{site.base_url}/rest/servicedeskapi/servicedesk/{desk}/requesttype/{rid}"
            },
        }
        for rid, name in REQUEST_TYPES
    ]
    return json_response(200, _page(site, values))


def handle_attachment_meta(
    site: Site, _: SandboxRequest, params: dict[str, str]
) -> SandboxResponse:
    """GET /rest/api/3/attachment/{id}."""
    att = _attachment(site, params["id"])
    return json_response(200, attachment_json(site, att, numeric_id=True))


def handle_attachment_content(
    site: Site, req: SandboxRequest, params: dict[str, str]
) -> SandboxResponse:
    """GET /rest/api/3/attachment/content/{id}: 303 to the media host unless redirect=false."""
    att = _attachment(site, params["id"])
    if req.param_bool("redirect", True):
        return SandboxResponse(303, {"Location": media_url(att)}, b"")
    return SandboxResponse(
        200,
        {
            "Content-Type": att.mime_type,
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(att.filename)}",
        },
        att.data,
    )


def media_url(att: AttachmentState) -> str:
    """A presigned-looking URL on the media host (not the Jira site) for an attachment."""
    return (
        f"{MEDIA_HOST}/file/{att.media_id}/binary?token={media_token(att)}"
        f"&client=sandbox&name={quote(att.filename)}"
    )


def media_token(att: AttachmentState) -> str:
    """The token a media URL carries (stable per attachment)."""
    return hashlib.sha256(f"{att.media_id}:{att.id}".encode()).hexdigest()[:40]


def serve_media(site: Site, req: SandboxRequest) -> SandboxResponse:
    """GET on the media host (for the requests adapter): the bytes, no Jira auth needed."""
    for att in site.attachments.values():
        if req.path == f"/file/{att.media_id}/binary":
            if req.param("token") != media_token(att):
                return json_response(401, {"error": "invalid token"})
            return SandboxResponse(200, {"Content-Type": att.mime_type}, att.data)
    return json_response(404, {"error": "file not found"})


def _attachment(site: Site, att_id: str) -> AttachmentState:
    att = site.attachments.get(att_id)
    if att is None:
        raise JiraError.not_found(f"The attachment with id '{att_id}' does not exist")
    return att


def _page(site: Site, values: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "_expands": [],
        "size": len(values),
        "start": 0,
        "limit": 50,
        "isLastPage": True,
        "_links": {"base": f"{site.base_url}/rest/servicedeskapi", "context": ""},
        "values": values,
    }
