"""The sandbox Jira's route table: method and path pattern to endpoint handler."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.sandbox import comments as comments
from bot.sandbox import issues as issues
from bot.sandbox import portal as portal
from bot.sandbox import site_api as site_api
from bot.sandbox import workflow as workflow
from bot.sandbox.http import SandboxRequest, SandboxResponse
from bot.sandbox.model import Site

Handler = Callable[[Site, SandboxRequest, dict[str, str]], SandboxResponse]

_I = r"(?P<issue>[^/]+)"
_ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", r"/rest/api/3/myself", site_api.handle_myself),
    ("GET", r"/rest/api/3/field", site_api.handle_fields),
    ("GET", r"/rest/api/3/serverInfo", site_api.handle_server_info),
    ("GET", r"/rest/api/3/project/(?P<project>[^/]+)", site_api.handle_project),
    ("GET", r"/rest/api/3/issueLinkType", site_api.handle_link_types),
    ("POST", r"/rest/api/3/issueLink", issues.handle_link),
    ("POST", r"/rest/api/3/issue", issues.handle_create),
    ("POST", r"/rest/api/3/issue/bulk", issues.handle_bulk),
    ("GET", rf"/rest/api/3/issue/{_I}", issues.handle_get),
    ("PUT", rf"/rest/api/3/issue/{_I}", issues.handle_edit),
    ("GET", rf"/rest/api/3/issue/{_I}/properties", workflow.handle_property_keys),
    ("GET", rf"/rest/api/3/issue/{_I}/properties/(?P<key>[^/]+)", workflow.handle_property_get),
    ("PUT", rf"/rest/api/3/issue/{_I}/properties/(?P<key>[^/]+)", workflow.handle_property_put),
    (
        "DELETE",
        rf"/rest/api/3/issue/{_I}/properties/(?P<key>[^/]+)",
        workflow.handle_property_delete,
    ),
    ("GET", rf"/rest/api/3/issue/{_I}/transitions", workflow.handle_transitions),
    ("POST", rf"/rest/api/3/issue/{_I}/transitions", workflow.handle_transition),
    ("GET", rf"/rest/api/3/issue/{_I}/comment", comments.handle_comment_list),
    ("POST", rf"/rest/api/3/issue/{_I}/comment", comments.handle_comment_post),
    ("GET", r"/rest/api/3/attachment/content/(?P<id>[^/]+)", site_api.handle_attachment_content),
    ("GET", r"/rest/api/3/attachment/(?P<id>\d+)", site_api.handle_attachment_meta),
    ("GET", rf"/rest/servicedeskapi/request/{_I}/comment", comments.handle_sd_comment_list),
    ("POST", rf"/rest/servicedeskapi/request/{_I}/comment", comments.handle_sd_comment_post),
    ("POST", r"/rest/servicedeskapi/request", portal.handle_create_request),
    ("GET", r"/rest/servicedeskapi/request", portal.handle_list_requests),
    ("GET", r"/rest/servicedeskapi/servicedesk", site_api.handle_service_desks),
    (
        "GET",
        r"/rest/servicedeskapi/servicedesk/(?P<desk>[^/]+)/customer",
        portal.handle_customers,
    ),
    (
        "GET",
        r"/rest/servicedeskapi/servicedesk/(?P<desk>[^/]+)/requesttype",
        site_api.handle_request_types,
    ),
)
ROUTES = tuple((m, re.compile(p + "/?"), h) for m, p, h in _ROUTES)
