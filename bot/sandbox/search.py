"""Sandbox /rest/api/3/search/jql: a small JQL subset (AND of clauses, ORDER BY), token paging."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from bot.sandbox.http import JiraError, SandboxRequest, SandboxResponse, json_response
from bot.sandbox.model import IssueState, Site
from bot.sandbox.render import issue_json, select_fields

TOKEN_RE = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|=|\(|\)|,)|(?P<word>[^\s=!(),"']+))"""
)
PROPERTY_RE = re.compile(r"^issue\.property\[(?P<name>[^\]]+)\]\.(?P<path>[^\s]+)$", re.I)
ORDER_FIELDS = {"created": "seq", "key": "seq", "id": "seq", "updated": "updated"}
Matcher = Callable[[IssueState], bool]


@dataclass(frozen=True)
class Token:
    """A JQL token: `str` (quoted), `op` or `word`; `pos` for error messages."""

    kind: str
    text: str
    pos: int


def handle_search_post(site: Site, req: SandboxRequest, _: dict[str, str]) -> SandboxResponse:
    """POST /rest/api/3/search/jql."""
    body = req.json_object()
    return _search(
        site,
        str(body.get("jql") or ""),
        [str(f) for f in body.get("fields") or []],
        int(body.get("maxResults") or 50),
        body.get("nextPageToken"),
        [str(p) for p in body.get("properties") or []],
        [int(i) for i in body.get("reconcileIssues") or []],
    )


def handle_search_get(site: Site, req: SandboxRequest, _: dict[str, str]) -> SandboxResponse:
    """GET /rest/api/3/search/jql."""
    return _search(
        site,
        req.param("jql") or "",
        req.param_list("fields"),
        req.param_int("maxResults", 50),
        req.param("nextPageToken"),
        req.param_list("properties"),
        [int(i) for i in req.param_list("reconcileIssues") if i.isdigit()],
    )


def _search(
    site: Site,
    jql: str,
    fields: list[str],
    max_results: int,
    token: Any,
    properties: list[str],
    reconcile: list[int],
) -> SandboxResponse:
    matchers, order = parse_jql(site, jql)
    offset = _decode_token(token)
    wants_fields = bool([f for f in fields if f != "id"])
    limit = max(1, min(max_results, 100 if wants_fields else 5000))
    visible = [
        i
        for i in site.issues.values()
        if (i.visible_from <= site.request_no or int(i.id) in reconcile)
        and all(m(i) for m in matchers)
    ]
    for attr, descending in reversed(order):
        visible.sort(key=attrgetter(attr), reverse=descending)
    page = visible[offset : offset + limit]
    issues = []
    for issue in page:
        if wants_fields or properties:
            issues.append(
                issue_json(site, issue, select_fields(site, issue, fields) or set(), properties)
            )
        else:
            issues.append({"id": issue.id})
    out: dict[str, Any] = {"issues": issues, "isLast": offset + limit >= len(visible)}
    if not out["isLast"]:
        out["nextPageToken"] = _encode_token(offset + limit)
    return json_response(200, out)


def parse_jql(site: Site, jql: str) -> tuple[list[Matcher], list[tuple[str, bool]]]:
    """Matchers for the clauses and (attribute, descending) pairs for ORDER BY."""
    tokens = _tokenize(jql)
    if not tokens:
        raise JiraError.bad_request(
            "Unbounded JQL queries are not allowed here. Please add a search restriction."
        )
    matchers: list[Matcher] = []
    order: list[tuple[str, bool]] = [("seq", True)]
    pos = 0
    while pos < len(tokens):
        if tokens[pos].text.upper() == "ORDER":
            order = _parse_order(tokens, pos)
            break
        matcher, pos = _parse_clause(site, tokens, pos)
        matchers.append(matcher)
        if pos < len(tokens):
            word = tokens[pos].text.upper()
            if word == "AND":
                pos += 1
            elif word != "ORDER":
                _syntax(tokens[pos], "Expecting 'AND' or 'ORDER BY' (the sandbox has no OR)")
    if not matchers:
        raise JiraError.bad_request(
            "Unbounded JQL queries are not allowed here. Please add a search restriction."
        )
    return matchers, order


def _tokenize(jql: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(jql.rstrip()):
        match = TOKEN_RE.match(jql, pos)
        if match is None or match.end() == pos:
            raise JiraError.bad_request(f"Error in the JQL Query: unexpected character at {pos}.")
        kind = match.lastgroup or "word"
        text = match.group(kind)
        if kind == "str":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        tokens.append(Token(kind, text, match.start(kind)))
        pos = match.end()
    return tokens


def _syntax(token: Token, what: str) -> None:
    raise JiraError.bad_request(
        f"Error in the JQL Query: {what} but got '{token.text}'. "
        f"The error occurred at or around character {token.pos}."
    )


def _parse_clause(site: Site, tokens: list[Token], pos: int) -> tuple[Matcher, int]:
    field = tokens[pos].text
    if pos + 1 >= len(tokens):
        raise JiraError.bad_request(
            f"Error in the JQL Query: Expecting operator after '{field}' at the end."
        )
    op_token = tokens[pos + 1]
    negate = False
    op = op_token.text.upper()
    pos += 2
    if op == "NOT" and pos < len(tokens) and tokens[pos].text.upper() == "IN":
        op, negate, pos = "IN", True, pos + 1
    elif op == "!=":
        op, negate = "=", True
    if op not in {"=", "IN"}:
        _syntax(op_token, "Expecting one of the operators '=', '!=', 'in', 'not in'")
    values, pos = _parse_values(tokens, pos, many=op == "IN")
    test = _field_test(site, field, values)
    return ((lambda i: not test(i)) if negate else test), pos


def _parse_values(tokens: list[Token], pos: int, *, many: bool) -> tuple[list[str], int]:
    if pos >= len(tokens):
        raise JiraError.bad_request("Error in the JQL Query: Expecting a value at the end.")
    if not many:
        return [tokens[pos].text], pos + 1
    if tokens[pos].text != "(":
        _syntax(tokens[pos], "Expecting '('")
    values, pos = [], pos + 1
    while pos < len(tokens) and tokens[pos].text != ")":
        if tokens[pos].text != ",":
            values.append(tokens[pos].text)
        pos += 1
    return values, pos + 1


def _parse_order(tokens: list[Token], pos: int) -> list[tuple[str, bool]]:
    if pos + 2 > len(tokens) or tokens[pos + 1].text.upper() != "BY":
        _syntax(tokens[min(pos + 1, len(tokens) - 1)], "Expecting 'BY'")
    order, pos = [], pos + 2
    while pos < len(tokens):
        name = tokens[pos].text.lower()
        if name not in ORDER_FIELDS:
            raise JiraError.bad_request(f"Error in the JQL Query: cannot order by '{name}'.")
        descending = False
        if pos + 1 < len(tokens) and tokens[pos + 1].text.upper() in {"ASC", "DESC"}:
            descending = tokens[pos + 1].text.upper() == "DESC"
            pos += 1
        order.append((ORDER_FIELDS[name], descending))
        pos += 1
        if pos < len(tokens) and tokens[pos].text == ",":
            pos += 1
    return order


def _field_test(site: Site, field: str, values: list[str]) -> Matcher:
    name = field.lower()
    if name == "project":
        keys = {_project_key(site, v) for v in values}
        return lambda i: i.project_key in keys
    if name in {"key", "issuekey", "id", "issue", "parent"}:
        wanted = {_issue_key(site, v, name) for v in values}
        if name == "parent":
            return lambda i: i.parent_key in wanted
        return lambda i: i.key in wanted
    if name == "labels":
        labels = set(values)
        return lambda i: bool(labels & set(i.fields.get("labels") or ()))
    if name in {"issuetype", "type"}:
        types = {_issue_type_id(site, v) for v in values}
        return lambda i: i.issuetype.id in types
    if name == "status":
        statuses = {v.lower() for v in values}
        return lambda i: i.status.lower() in statuses
    match = PROPERTY_RE.match(field)
    if match:
        return _property_test(site, match.group("name"), match.group("path").split("."), values)
    raise JiraError.bad_request(
        f"Error in the JQL Query: Field '{field}' does not exist or the sandbox does not know it."
    )


def _property_test(site: Site, prop: str, path: list[str], values: list[str]) -> Matcher:
    def test(issue: IssueState) -> bool:
        if site.indexed_properties is not None and prop not in site.indexed_properties:
            return False  # real Jira only indexes properties an app declared
        node: Any = issue.properties.get(prop)
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        leaves = node if isinstance(node, list) else [node]
        return any(_leaf_text(leaf) in values for leaf in leaves if leaf is not None)

    return test


def _leaf_text(leaf: Any) -> str:
    if isinstance(leaf, bool):
        return "true" if leaf else "false"
    return leaf if isinstance(leaf, str) else json.dumps(leaf)


def _project_key(site: Site, value: str) -> str:
    project = site.find_project(value)
    if project is None:
        raise JiraError.bad_request(f"The value '{value}' does not exist for the field 'project'.")
    return project.key


def _issue_key(site: Site, value: str, field: str) -> str:
    issue = site.find_issue(value)
    if issue is None:
        raise JiraError.bad_request(
            f"An issue with key '{value}' does not exist for field '{field}'."
        )
    return issue.key


def _issue_type_id(site: Site, value: str) -> str:
    try:
        return site.find_issue_type(name=value, id_=value).id
    except KeyError:
        raise JiraError.bad_request(
            f"The value '{value}' does not exist for the field 'issuetype'."
        ) from None


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_token(token: Any) -> int:
    if token in (None, ""):
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(str(token).encode()))["offset"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise JiraError.bad_request("The nextPageToken is invalid or expired.") from None
    if not isinstance(offset, int) or offset < 0:
        raise JiraError.bad_request("The nextPageToken is invalid or expired.")
    return int(offset)
