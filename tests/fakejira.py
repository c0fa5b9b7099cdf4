"""FakeJira: the sandbox Jira behind `responses`, every request checked against the OpenAPI docs.

The checks use the official documents in ../shared/jira-openapi where they are beside the
project, else the committed cut of them in tests/fixtures/jira-openapi (the operations the
sandbox serves, with their schemas; see tests/jira_spec_subset.py), so a plain clone checks
every request the bot makes too.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses
from atlassian import Jira
from jsonschema import Draft4Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4

from bot.sandbox.site import JiraSandbox, SandboxResponse

OFFICIAL_SPEC_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "jira-openapi"
SUBSET_SPEC_DIR = Path(__file__).resolve().parent / "fixtures" / "jira-openapi"
SPEC_FILES = {
    "/rest/api/3/": "jira-platform-v3.json",
    "/rest/servicedeskapi/": "jira-servicemanagement.json",
}


def official_spec_available() -> bool:
    """True when the official OpenAPI documents are beside the project (../shared)."""
    return all((OFFICIAL_SPEC_DIR / name).is_file() for name in SPEC_FILES.values())


SPEC_DIR = OFFICIAL_SPEC_DIR if official_spec_available() else SUBSET_SPEC_DIR
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
# Statuses any operation may answer (auth, throttling, outages) even when a doc omits them.
GENERIC_STATUSES = frozenset({401, 403, 429, 500, 502, 503, 504})


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def _nullable_to_jsonschema(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` becomes `anyOf [..., {type: null}]` for jsonschema."""
    if isinstance(node, list):
        return [_nullable_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable_to_jsonschema(v) for k, v in node.items()}
    if out.get("nullable") is True:
        out.pop("nullable")
        return {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def load_spec(name: str, spec_dir: Path = SPEC_DIR) -> dict[str, Any]:
    """One OpenAPI document, parsed once per test session."""
    with (spec_dir / name).open(encoding="utf-8") as handle:
        doc: dict[str, Any] = json.load(handle)
    doc["components"] = _nullable_to_jsonschema(doc.get("components", {}))
    doc["paths"] = _nullable_to_jsonschema(doc["paths"])
    return doc


@functools.cache
def _registry(name: str, spec_dir: Path) -> Registry:
    return Registry().with_resource(
        f"urn:{name}", DRAFT4.create_resource(load_spec(name, spec_dir))
    )


@functools.cache
def _path_methods(name: str, spec_dir: Path) -> dict[str, frozenset[str]]:
    """Every documented path template with its methods (a cut document lists them apart)."""
    doc = load_spec(name, spec_dir)
    listed = doc.get("x-path-methods")
    if listed is not None:
        return {t: frozenset(methods) for t, methods in listed.items()}
    return {
        t: frozenset(m for m in item if m.upper() in METHODS) for t, item in doc["paths"].items()
    }


@functools.cache
def _routes(name: str, spec_dir: Path) -> dict[int, list[tuple[re.Pattern[str], str, int]]]:
    """Path templates by segment count: (pattern, template, number of literal segments)."""
    out: dict[int, list[tuple[re.Pattern[str], str, int]]] = {}
    for template in _path_methods(name, spec_dir):
        segments = template.strip("/").split("/")
        regex = "/".join("[^/]+" if s.startswith("{") else re.escape(s) for s in segments)
        literal = sum(1 for s in segments if not s.startswith("{"))
        out.setdefault(len(segments), []).append((re.compile(regex), template, literal))
    for entries in out.values():
        entries.sort(key=lambda e: -e[2])
    return out


@functools.cache
def _validator(name: str, spec_dir: Path, *pointer: str) -> Draft4Validator:
    schema = {"$ref": f"urn:{name}#{_pointer(*pointer)}"}
    return Draft4Validator(schema, registry=_registry(name, spec_dir))


def find_operation(
    path: str, method: str, spec_dir: Path = SPEC_DIR
) -> tuple[str, str, dict[str, Any]] | str:
    """(document, path template, operation) for a request, or why there is none."""
    name = next((f for prefix, f in SPEC_FILES.items() if path.startswith(prefix)), None)
    if name is None:
        return f"no OpenAPI document covers {path} (only /rest/api/3 and /rest/servicedeskapi)"
    paths = load_spec(name, spec_dir)["paths"]
    methods = _path_methods(name, spec_dir)
    segments = path.strip("/").split("/")
    candidates = [
        template
        for pattern, template, _ in _routes(name, spec_dir).get(len(segments), [])
        if pattern.fullmatch("/".join(segments))
    ]
    if not candidates:
        return f"{path} is not a path in {name}"
    for template in candidates:
        if method.lower() not in methods[template]:
            continue
        operation = paths.get(template, {}).get(method.lower())
        if operation is None:
            return (
                f"{method} {template} is documented in {name} but not in the committed cut "
                f"{spec_dir}: serve it in bot/sandbox/routes.py and run "
                "`python -m tests.jira_spec_subset` beside ../shared"
            )
        return name, template, operation
    return f"{method} is not documented for {candidates[0]} in {name}"


class FakeJira:
    """A JiraSandbox reached through `responses`; every request is checked against the spec."""

    def __init__(
        self,
        sandbox: JiraSandbox | None = None,
        *,
        spec_dir: Path = SPEC_DIR,
        check_responses: bool = True,
        **sandbox_kwargs: Any,
    ) -> None:
        self.sandbox = sandbox or JiraSandbox(**sandbox_kwargs)
        self.base_url = self.sandbox.base_url
        self.spec_dir = spec_dir
        self.check_responses = check_responses
        self.violations: list[str] = []

    def __getattr__(self, name: str) -> Any:
        """Everything else (issues, comments, inject, seed_*...) is the sandbox's."""
        return getattr(self.sandbox, name)

    @property
    def outage(self) -> bool:
        """While True, every request answers 503 (the sandbox's switch)."""
        return self.sandbox.outage

    @outage.setter
    def outage(self, on: bool) -> None:
        self.sandbox.outage = on

    def install(self, rsps: responses.RequestsMock) -> FakeJira:
        """Send all traffic for the site's base URL (any method) to the sandbox."""
        pattern = re.compile(re.escape(self.base_url) + r"(?:[/?#].*)?$")
        for method in METHODS:
            rsps.add_callback(method, pattern, callback=self._callback, content_type=None)
        return self

    def client(self, **kwargs: Any) -> Jira:
        """An atlassian-python-api client for the site (REST v3, no hidden retries)."""
        options: dict[str, Any] = {
            "url": self.base_url,
            "username": "bot@example.com",
            "password": "token",
            "cloud": True,
            "api_version": "3",
            "backoff_and_retry": False,
            "retry_with_header": False,
        }
        options.update(kwargs)
        return Jira(**options)

    def _callback(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        answer = self.handle(request.method, request.url, dict(request.headers), body)
        return answer.status, answer.headers, answer.body

    def handle(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> SandboxResponse:
        """Check the request; on a violation answer 400, else let the sandbox answer."""
        problems = self.check_request(method, url, headers, body)
        if problems:
            self.violations.extend(problems)
            message = "OpenAPI violation: " + "; ".join(problems)
            payload = json.dumps({"errorMessages": [message], "errors": {}}).encode()
            return SandboxResponse(400, {"Content-Type": "application/json"}, payload)
        answer = self.sandbox.handle(method, url, headers, body)
        if self.check_responses:
            self.violations.extend(self.check_response(method, url, answer))
        return answer

    def check_request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> list[str]:
        """What is wrong with a request according to the OpenAPI documents (empty: fine)."""
        parts = urlsplit(url)
        where = f"{method} {parts.path}"
        found = find_operation(parts.path, method, self.spec_dir)
        if isinstance(found, str):
            return [f"{where}: {found}"]
        name, template, operation = found
        problems = _check_query(
            load_spec(name, self.spec_dir)["paths"][template], operation, parts.query
        )
        problems += self._check_body(name, template, method, operation, headers, body)
        return [f"{where}: {p}" for p in problems]

    def _check_body(
        self,
        name: str,
        template: str,
        method: str,
        operation: dict[str, Any],
        headers: Mapping[str, str],
        body: bytes | None,
    ) -> list[str]:
        spec = operation.get("requestBody")
        if spec is None:
            return ["the operation takes no request body"] if body else []
        if not body:
            return ["the request body is required"] if spec.get("required") else []
        content = spec.get("content", {})
        if "application/json" not in content:
            return []
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        if "json" not in content_type:
            return [f"a JSON body needs Content-Type application/json (got {content_type!r})"]
        try:
            payload = json.loads(body)
        except ValueError:
            return ["the request body is not valid JSON"]
        validator = _validator(
            name,
            self.spec_dir,
            "paths",
            template,
            method.lower(),
            "requestBody",
            "content",
            "application/json",
            "schema",
        )
        return [_describe(e) for e in validator.iter_errors(payload)]

    def check_response(self, method: str, url: str, answer: SandboxResponse) -> list[str]:
        """Problems with the sandbox's own answer: undocumented status or a body off-schema."""
        path = urlsplit(url).path
        found = find_operation(path, method, self.spec_dir)
        if isinstance(found, str) or answer.status in GENERIC_STATUSES:
            return []
        name, template, operation = found
        documented = operation.get("responses", {})
        if str(answer.status) not in documented and "default" not in documented:
            return [f"sandbox answered {answer.status} to {method} {path}, not documented"]
        content = documented.get(str(answer.status), {}).get("content", {})
        if not (200 <= answer.status < 300 and answer.body and "application/json" in content):
            return []
        if "schema" not in content["application/json"]:
            return []
        validator = _validator(
            name,
            self.spec_dir,
            "paths",
            template,
            method.lower(),
            "responses",
            str(answer.status),
            "content",
            "application/json",
            "schema",
        )
        return [
            f"sandbox response to {method} {path}: {_describe(e)}"
            for e in validator.iter_errors(json.loads(answer.body))
        ]

    def assert_no_violations(self) -> None:
        """Raise AssertionError listing every recorded violation."""
        if self.violations:
            raise AssertionError("OpenAPI violations:\n" + "\n".join(self.violations))


def _check_query(path_item: dict[str, Any], operation: dict[str, Any], query: str) -> list[str]:
    declared = {
        p["name"]: p
        for p in [*path_item.get("parameters", []), *operation.get("parameters", [])]
        if p.get("in") == "query"
    }
    given = parse_qs(query, keep_blank_values=True)
    problems = [
        f"required query parameter '{n}' is missing"
        for n, p in declared.items()
        if p.get("required") and n not in given
    ]
    for name, values in given.items():
        if name not in declared:
            problems.append(f"query parameter '{name}' is not documented")
            continue
        schema = declared[name].get("schema", {})
        for value in _split(values, schema):
            problem = _scalar_problem(value, schema.get("items", schema))
            if problem:
                problems.append(f"query parameter '{name}': {problem}")
    return problems


def _split(values: list[str], schema: dict[str, Any]) -> Iterator[str]:
    for value in values:
        if schema.get("type") == "array":
            yield from (v for v in value.split(",") if v)
        else:
            yield value


def _scalar_problem(value: str, schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        return f"{value!r} is not an integer"
    if kind == "boolean" and value not in {"true", "false"}:
        return f"{value!r} is not a boolean"
    if "enum" in schema and value not in schema["enum"]:
        return f"{value!r} is not one of {schema['enum']}"
    return None


def _describe(error: Any) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(body)"
    return f"{where}: {error.message}"
