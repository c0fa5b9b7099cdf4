"""Jira's size limits: the fake enforces them, the gateway keeps every write under them."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from bot.jira.gateway import CaseLayout, JiraGateway, JiraPermanent, RetryPolicy
from bot.jira.limits import (
    INTERNAL_CUT,
    PUBLIC_CUT,
    TEXT_LIMIT,
    fit_comment,
    fit_text,
    property_bytes,
    units,
)
from bot.plan import CaseSpec
from tests.fakejira import FakeJira

AUTH = ("bot@example.com", "token")


@pytest.fixture
def gateway(fake_jira: FakeJira) -> JiraGateway:
    policy = RetryPolicy(max_attempts=1, max_wait=1.0, base=0.1, sleep=lambda _s: None)
    return JiraGateway(fake_jira.base_url, "bot@example.com", "token", retry=policy, timeout=5)


def long_list(lines: int) -> str:
    return "\n".join(f"* bestand-{i:05d}.cer kon niet worden gelezen \\" for i in range(lines))


def test_a_body_under_the_limit_is_left_alone() -> None:
    body = long_list(10)
    assert fit_comment(body, public=True) == body
    assert fit_text("x" * TEXT_LIMIT) == "x" * TEXT_LIMIT


def test_a_long_body_is_cut_at_a_line_end_with_a_note_in_the_readers_language() -> None:
    body = long_list(2_000)
    public = fit_comment(body, public=True)
    internal = fit_comment(body, public=False)
    assert units(public) <= TEXT_LIMIT and units(internal) <= TEXT_LIMIT
    assert public.endswith(PUBLIC_CUT) and "ingekort" in public
    head = public[: -len(PUBLIC_CUT)]
    assert body.startswith(head) and not head.endswith("\\")
    assert body[len(head) :].lstrip(" \\").startswith("\n")  # cut where a line ends
    assert "more characters of this note are not shown" in internal
    shown = internal[: internal.index("\n\n(…) Cut here")]
    assert f"{len(body) - len(shown):,} more" in internal
    assert INTERNAL_CUT.split("{")[0] in internal
    assert fit_comment(body, public=True) == public  # the same body, the same cut


def test_characters_beyond_the_basic_plane_count_twice() -> None:
    text = "\U0001f600" * 20_000  # 40,000 UTF-16 units in 20,000 characters
    fitted = fit_text(text)
    assert units(text) == 40_000 and units(fitted) <= TEXT_LIMIT


def test_the_fake_refuses_text_over_the_limit(fake_jira: FakeJira) -> None:
    key = fake_jira.seed_request().key
    url = f"{fake_jira.base_url}/rest/servicedeskapi/request/{key}/comment"
    too_long = {"body": "x" * (TEXT_LIMIT + 1), "public": True}
    assert requests.post(url, json=too_long, auth=AUTH, timeout=5).status_code == 400
    ok = {"body": "x" * TEXT_LIMIT, "public": True}
    assert requests.post(url, json=ok, auth=AUTH, timeout=5).status_code == 201
    issue = {
        "fields": {
            "project": {"key": "UZO"},
            "issuetype": {"name": "Task"},
            "summary": "Case",
            "description": _adf("y" * TEXT_LIMIT),
        }
    }
    answer = requests.post(
        f"{fake_jira.base_url}/rest/api/3/issue", json=issue, auth=AUTH, timeout=5
    )
    assert answer.status_code == 400
    assert "too long" in json.dumps(answer.json())


def test_the_gateway_posts_an_over_long_comment_cut_and_finds_it_again(
    fake_jira: FakeJira, gateway: JiraGateway
) -> None:
    key = fake_jira.seed_request().key
    body = long_list(2_000)
    comment_id = gateway.comment(key, body, public=True)
    (posted,) = fake_jira.comments(key)
    assert str(posted.body) == fit_comment(body, public=True)
    assert gateway.find_comment(key, body) == comment_id


def test_the_gateway_fits_a_long_description_into_jiras_limit(
    fake_jira: FakeJira, gateway: JiraGateway
) -> None:
    request = fake_jira.seed_request().key
    case = CaseSpec(
        workflow="renewal",
        request_key=request,
        summary="Vernieuwing",
        description=long_list(3_000),
        facts={"workflow": "renewal"},
    )
    key = gateway.create_case(case, CaseLayout(tracking_project="UZO"), {"workflow": "renewal"})
    stored = fake_jira.issue(key).fields["description"]
    assert len(json.dumps(stored, ensure_ascii=False)) <= TEXT_LIMIT
    assert "Cut at Jira's limit" in json.dumps(stored)


def test_an_over_large_property_is_refused_by_the_fake(
    fake_jira: FakeJira, gateway: JiraGateway
) -> None:
    request = fake_jira.seed_request().key
    case = CaseSpec(workflow="renewal", request_key=request, summary="Vernieuwing")
    doc: dict[str, Any] = {"files": ["x" * 100] * 400}
    assert property_bytes(doc) > 32_768
    with pytest.raises(JiraPermanent):
        gateway.create_case(case, CaseLayout(tracking_project="UZO"), doc)


def _adf(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }
