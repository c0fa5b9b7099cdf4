"""The committed cut of the Jira OpenAPI documents: complete for the sandbox, true to the docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakejira import (
    OFFICIAL_SPEC_DIR,
    SPEC_FILES,
    SUBSET_SPEC_DIR,
    FakeJira,
    find_operation,
    official_spec_available,
)
from tests.jira_spec_subset import build, sandbox_operations

NO_OFFICIAL = (
    f"the official Jira OpenAPI documents are not at {OFFICIAL_SPEC_DIR} (a plain clone): "
    "requests are checked against the committed cut in tests/fixtures/jira-openapi only, "
    "and the cut is not compared with the documents (CI does both)"
)
needs_official = pytest.mark.skipif(not official_spec_available(), reason=NO_OFFICIAL)

SPEC_DIRS = [
    pytest.param(SUBSET_SPEC_DIR, id="committed-cut"),
    pytest.param(OFFICIAL_SPEC_DIR, id="official", marks=needs_official),
]


@needs_official
def test_committed_cut_is_what_the_official_documents_give() -> None:
    expected = build(OFFICIAL_SPEC_DIR)
    assert sorted(expected) == sorted(SPEC_FILES.values())
    for name, text in expected.items():
        committed = (SUBSET_SPEC_DIR / name).read_text(encoding="utf-8")
        assert committed == text, (
            f"tests/fixtures/jira-openapi/{name} is stale: run `python -m tests.jira_spec_subset`"
        )


@pytest.mark.parametrize(("method", "path"), sandbox_operations())
def test_every_sandbox_route_is_in_the_cut(method: str, path: str) -> None:
    found = find_operation(path, method.upper(), SUBSET_SPEC_DIR)
    assert not isinstance(found, str), found


@pytest.mark.parametrize("spec_dir", SPEC_DIRS)
def test_off_spec_requests_are_caught_alike(spec_dir: Path) -> None:
    fake = FakeJira(spec_dir=spec_dir)
    base = fake.base_url
    json_header = {"Content-Type": "application/json"}

    def check(method: str, path: str, body: bytes | None = None) -> list[str]:
        return fake.check_request(method, base + path, json_header, body)

    assert check("POST", "/rest/api/3/issue", b'{"fields": [{"summary": "x"}]}') == [
        "POST /rest/api/3/issue: fields: [{'summary': 'x'}] is not of type 'object'"
    ]
    assert check("POST", "/rest/api/3/issue/UZO-1/transitions", b'{"transition": {"id": 5}}') == [
        "POST /rest/api/3/issue/UZO-1/transitions: transition/id: 5 is not of type 'string'"
    ]
    assert check("GET", "/rest/api/3/myself?expnd=groups") == [
        "GET /rest/api/3/myself: query parameter 'expnd' is not documented"
    ]
    assert check("GET", "/rest/api/3/issue/UZO-1/comment?maxResults=ten") == [
        "GET /rest/api/3/issue/UZO-1/comment: query parameter 'maxResults': 'ten' is not an integer"
    ]
    assert check("GET", "/rest/api/3/nonsense") == [
        "GET /rest/api/3/nonsense: /rest/api/3/nonsense is not a path in jira-platform-v3.json"
    ]
    assert check("PATCH", "/rest/api/3/issue/UZO-1") == [
        "PATCH /rest/api/3/issue/UZO-1: PATCH is not documented for /rest/api/3/issue/"
        "{issueIdOrKey} in jira-platform-v3.json"
    ]
    bad = b'{"body": 5, "public": "yes", "x": 1}'
    assert check("POST", "/rest/servicedeskapi/request/UZO-1/comment", bad) == [
        "POST /rest/servicedeskapi/request/UZO-1/comment: (body): Additional properties are "
        "not allowed ('x' was unexpected)",
        "POST /rest/servicedeskapi/request/UZO-1/comment: body: 5 is not of type 'string'",
        "POST /rest/servicedeskapi/request/UZO-1/comment: public: 'yes' is not of type 'boolean'",
    ]
    good = b'{"body": "Goedendag", "public": true}'
    assert check("POST", "/rest/servicedeskapi/request/UZO-1/comment", good) == []
    assert check("GET", "/rest/api/3/issue/UZO-1?fields=summary,labels") == []


def test_an_operation_outside_the_cut_says_how_to_add_it() -> None:
    fake = FakeJira(spec_dir=SUBSET_SPEC_DIR)
    problems = fake.check_request("DELETE", fake.base_url + "/rest/api/3/issue/UZO-1", {}, None)
    assert len(problems) == 1
    assert "documented in jira-platform-v3.json but not in the committed cut" in problems[0]
    assert "python -m tests.jira_spec_subset" in problems[0]


@needs_official
def test_an_operation_outside_the_cut_is_fine_by_the_official_documents() -> None:
    fake = FakeJira(spec_dir=OFFICIAL_SPEC_DIR)
    assert fake.check_request("DELETE", fake.base_url + "/rest/api/3/issue/UZO-1", {}, None) == []
