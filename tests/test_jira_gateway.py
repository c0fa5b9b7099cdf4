"""Tests for the Jira gateway: the real atlassian client over HTTP, mocked at the transport."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import atlassian.rest_client
import pytest
import requests
import responses
import urllib3.exceptions
from atlassian import Jira

from bot.jira.gateway import (
    AttachmentTooLarge,
    IssueLink,
    IssueRef,
    JiraGateway,
    JiraNotFound,
    JiraPermanent,
    JiraRetryable,
    RetryPolicy,
)

URL = "https://example.atlassian.net"
USER = "bot@example.org"
TOKEN = "tok-SECRET-1234567890"
API = f"{URL}/rest/api/3"
SD = f"{URL}/rest/servicedeskapi"
ISSUE_URL = f"{API}/issue"


@pytest.fixture(autouse=True)
def library_never_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    """atlassian.rest_client must never sleep: all waiting belongs to bot.jira.retry."""

    def forbidden(seconds: float) -> None:
        raise AssertionError(f"atlassian.rest_client slept {seconds} s")

    monkeypatch.setattr(atlassian.rest_client, "time", SimpleNamespace(sleep=forbidden))


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def gateway(waits: list[float]) -> JiraGateway:
    policy = RetryPolicy(max_attempts=4, max_wait=30.0, base=1.0, sleep=waits.append)
    return JiraGateway(f"{URL}/", USER, TOKEN, retry=policy, timeout=5)


def sent_json(rsps: responses.RequestsMock, index: int = -1) -> Any:
    body = rsps.calls[index].request.body
    return json.loads(body if isinstance(body, str | bytes) else b"")


def created(key: str = "UZI-7", issue_id: str = "10007") -> dict[str, Any]:
    return {"id": issue_id, "key": key, "self": f"{ISSUE_URL}/{issue_id}"}


# --- retry behaviour ---------------------------------------------------------------------------


def test_429_with_retry_after_then_created_is_applied_once(
    gateway: JiraGateway, rsps: responses.RequestsMock, waits: list[float]
) -> None:
    rsps.post(ISSUE_URL, status=429, headers={"Retry-After": "2"}, json={"errorMessages": []})
    rsps.post(ISSUE_URL, status=201, json=created())
    ref = gateway.create_issue({"summary": "x"})
    assert ref == IssueRef("10007", "UZI-7")
    assert [c.request.method for c in rsps.calls] == ["POST", "POST"]
    assert waits == [2.0]
    assert gateway.stats == {"POST": 2}


@pytest.mark.parametrize(("header", "expected"), [("0", 1.0), ("9999", 30.0)])
def test_retry_after_is_clamped(
    gateway: JiraGateway,
    rsps: responses.RequestsMock,
    waits: list[float],
    header: str,
    expected: float,
) -> None:
    rsps.get(f"{API}/myself", status=429, headers={"Retry-After": header})
    rsps.get(f"{API}/myself", json={"accountId": "bot-1"})
    assert gateway.myself() == "bot-1"
    assert waits == [expected]


def test_503_without_header_backs_off_exponentially_with_jitter(
    gateway: JiraGateway, rsps: responses.RequestsMock, waits: list[float]
) -> None:
    for _ in range(3):
        rsps.get(f"{API}/serverInfo", status=503, body="<html>unavailable</html>")
    rsps.get(f"{API}/serverInfo", json={"deploymentType": "Cloud"})
    assert gateway.server_info() == {"deploymentType": "Cloud"}
    assert len(waits) == 3
    for wait, cap in zip(waits, [1.0, 2.0, 4.0], strict=True):
        assert 0.0 <= wait <= cap


def test_connection_error_then_success(
    gateway: JiraGateway, rsps: responses.RequestsMock, waits: list[float]
) -> None:
    rsps.get(f"{API}/myself", body=requests.ConnectionError("connection reset"))
    rsps.get(f"{API}/myself", json={"accountId": "bot-1"})
    assert gateway.myself() == "bot-1"
    assert len(rsps.calls) == 2
    assert len(waits) == 1
    assert gateway.stats == {"GET": 2}


def test_post_that_never_reached_jira_is_retried(
    gateway: JiraGateway, rsps: responses.RequestsMock
) -> None:
    refused = urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    rsps.post(ISSUE_URL, body=requests.ConnectionError(refused))
    rsps.post(ISSUE_URL, status=201, json=created())
    assert gateway.create_issue({"summary": "x"}).key == "UZI-7"
    assert len(rsps.calls) == 2


@pytest.mark.parametrize(
    ("status", "body"),
    [(None, requests.ReadTimeout("read timed out")), (500, '{"errorMessages":["Oops"]}')],
)
def test_post_that_may_have_been_applied_is_not_retried(
    gateway: JiraGateway, rsps: responses.RequestsMock, waits: list[float], status: Any, body: Any
) -> None:
    rsps.post(ISSUE_URL, status=status or 200, body=body)
    with pytest.raises(JiraRetryable) as info:
        gateway.create_issue({"summary": "x"})
    assert info.value.maybe_applied
    assert len(rsps.calls) == 1
    assert waits == []


def test_500_on_a_read_is_retried(gateway: JiraGateway, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/myself", status=500, json={"errorMessages": ["Internal"]})
    rsps.get(f"{API}/myself", json={"accountId": "bot-1"})
    assert gateway.myself() == "bot-1"


@pytest.mark.parametrize(
    ("status", "body", "kind", "text"),
    [
        (
            400,
            {"errorMessages": [], "errors": {"summary": "Field is required."}},
            JiraPermanent,
            "summary: Field is required.",
        ),
        (
            403,
            {"message": "Client must be authenticated"},
            JiraPermanent,
            "Client must be authenticated",
        ),
        (
            403,
            {"errorMessage": "You do not have permission"},
            JiraPermanent,
            "You do not have permission",
        ),
        (
            404,
            {"errorMessages": ["Issue does not exist"], "errors": {}},
            JiraNotFound,
            "Issue does not exist",
        ),
    ],
)
def test_client_errors_are_never_retried(
    gateway: JiraGateway,
    rsps: responses.RequestsMock,
    waits: list[float],
    status: int,
    body: dict[str, Any],
    kind: type[Exception],
    text: str,
) -> None:
    rsps.post(f"{SD}/request/SD-1/comment", status=status, json=body)
    with pytest.raises(kind) as info:
        gateway.comment_on_request("SD-1", "hallo", public=True)
    error = info.value
    assert isinstance(error, JiraPermanent)
    assert error.status == status and text in error.message and text in str(error)
    assert "POST /rest/servicedeskapi/request/SD-1/comment" in str(error)
    assert len(rsps.calls) == 1 and waits == []


def test_persistent_429_raises_retryable_with_retry_after(
    gateway: JiraGateway, rsps: responses.RequestsMock, waits: list[float]
) -> None:
    rsps.post(ISSUE_URL, status=429, headers={"Retry-After": "5"}, json={"message": "Rate limit"})
    with pytest.raises(JiraRetryable) as info:
        gateway.create_issue({"summary": "x"})
    assert len(rsps.calls) == 4
    assert waits == [5.0, 5.0, 5.0]
    assert info.value.retry_after == 5.0 and info.value.status == 429
    assert "Rate limit" in str(info.value)


def test_library_does_not_retry_by_itself(rsps: responses.RequestsMock) -> None:
    policy = RetryPolicy(max_attempts=1, sleep=lambda _: None)
    gateway = JiraGateway(URL, USER, TOKEN, retry=policy)
    rsps.get(f"{API}/myself", status=429, headers={"Retry-After": "3"})
    rsps.get(f"{API}/myself", json={"accountId": "bot-1"})
    with pytest.raises(JiraRetryable):
        gateway.myself()
    assert len(rsps.calls) == 1


def test_the_sleep_guard_catches_the_library_default(rsps: responses.RequestsMock) -> None:
    """Control: atlassian's defaults would sleep on 429 + Retry-After (the pitfall)."""
    client = Jira(url=URL, username=USER, password=TOKEN, cloud=True)
    rsps.get(f"{API}/myself", status=429, headers={"Retry-After": "3"})
    with pytest.raises(AssertionError, match="slept"):
        client.request("GET", "rest/api/3/myself", advanced_mode=True)


def test_token_never_appears_in_errors(gateway: JiraGateway, rsps: responses.RequestsMock) -> None:
    rsps.get(f"{API}/myself", status=401, body=f"bad credentials {USER}:{TOKEN}")
    with pytest.raises(JiraPermanent) as info:
        gateway.myself()
    assert TOKEN not in str(info.value) and TOKEN not in info.value.body
    assert TOKEN not in repr(gateway)


# --- auth and session --------------------------------------------------------------------------


def test_a_session_passed_in_is_used_and_authenticated(rsps: responses.RequestsMock) -> None:
    session = requests.Session()
    session.headers["X-Demo"] = "sandbox"
    gateway = JiraGateway(URL, USER, TOKEN, session=session)
    rsps.get(f"{API}/myself", json={"accountId": "bot-1"})
    gateway.myself()
    headers = rsps.calls[0].request.headers
    expected = base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()
    assert headers["Authorization"] == f"Basic {expected}"
    assert headers["X-Demo"] == "sandbox"
    assert session.auth == (USER, TOKEN)


# --- operations --------------------------------------------------------------------------------


def test_create_with_links_and_properties_in_one_request(
    gateway: JiraGateway, rsps: responses.RequestsMock
) -> None:
    rsps.post(ISSUE_URL, status=201, json=created())
    fields = {"project": {"key": "UZI"}, "summary": "Wijziging", "labels": ["uzibot"]}
    gateway.create_issue(
        fields,
        links=[IssueLink("Relates", "SD-1"), IssueLink("Blocks", "UZI-2", direction="inward")],
        properties={"uzibot": {"workflow": "practice_change", "request": "SD-1"}},
    )
    assert len(rsps.calls) == 1
    assert sent_json(rsps) == {
        "fields": fields,
        "update": {
            "issuelinks": [
                {"add": {"type": {"name": "Relates"}, "outwardIssue": {"key": "SD-1"}}},
                {"add": {"type": {"name": "Blocks"}, "inwardIssue": {"key": "UZI-2"}}},
            ]
        },
        "properties": [
            {"key": "uzibot", "value": {"workflow": "practice_change", "request": "SD-1"}}
        ],
    }


def test_create_without_extras_sends_only_fields(
    gateway: JiraGateway, rsps: responses.RequestsMock
) -> None:
    rsps.post(ISSUE_URL, status=201, json=created())
    gateway.create_issue({"summary": "x"})
    assert sent_json(rsps) == {"fields": {"summary": "x"}}


def test_bulk_create_chunks_at_50_and_maps_partial_failures(
    gateway: JiraGateway, rsps: responses.RequestsMock
) -> None:
    element_error = {
        "elementErrors": {"errorMessages": [], "errors": {"issuetype": "Invalid type."}},
        "failedElementNumber": 3,
        "status": 400,
    }
    first = [created(f"UZI-{i}", str(1000 + i)) for i in range(50) if i != 3]
    second = [created(f"UZI-{i}", str(1000 + i)) for i in range(50, 100)]
    all_failed = [
        {
            "elementErrors": {"errorMessages": ["No parent."]},
            "failedElementNumber": n,
            "status": 400,
        }
        for n in range(20)
    ]
    rsps.post(f"{ISSUE_URL}/bulk", status=201, json={"issues": first, "errors": [element_error]})
    rsps.post(f"{ISSUE_URL}/bulk", status=201, json={"issues": second, "errors": []})
    rsps.post(f"{ISSUE_URL}/bulk", status=400, json={"issues": [], "errors": all_failed})
    result = gateway.bulk_create([{"summary": f"task {i}"} for i in range(120)])
    assert [len(sent_json(rsps, i)["issueUpdates"]) for i in range(3)] == [50, 50, 20]
    assert sent_json(rsps, 2)["issueUpdates"][0] == {"fields": {"summary": "task 100"}}
    assert len(result.created) == 120
    assert result.created[3] is None and result.errors[3] == "issuetype: Invalid type."
    assert result.created[4] == IssueRef("1004", "UZI-4")
    assert result.created[99] == IssueRef("1099", "UZI-99")
    assert result.created[100:] == [None] * 20
    assert sorted(result.errors) == [3, *range(100, 120)]
    assert result.errors[100] == "No parent."


def test_bulk_create_raises_when_nothing_was_created(
    gateway: JiraGateway, rsps: responses.RequestsMock
) -> None:
    rsps.post(f"{ISSUE_URL}/bulk", status=403, json={"errorMessages": ["No permission"]})
    result = gateway.bulk_create([{"summary": "a"}])
    assert result.created == [None] and "No permission" in result.errors[0]
    rsps.post(f"{ISSUE_URL}/bulk", status=503, headers={"Retry-After": "1"})
    with pytest.raises(JiraRetryable):
        gateway.bulk_create([{"summary": "a"}])


def test_transition_by_name_case_insensitive(
    gateway: JiraGateway, rsps: responses.RequestsMock
) -> None:
    url = f"{API}/issue/UZI-1/transitions"
    options = {"transitions": [{"id": "11", "name": "Start"}, {"id": "31", "name": "Done"}]}
    rsps.get(url, json=options)
    rsps.post(url, status=204)
    assert gateway.transition("UZI-1", "  done ") is True
    assert sent_json(rsps) == {"transition": {"id": "31"}}


def test_missing_transition_returns_false_without_posting(
    gateway: JiraGateway, rsps: responses.RequestsMock
) -> None:
    rsps.get(
        f"{API}/issue/UZI-1/transitions", json={"transitions": [{"id": "11", "name": "Start"}]}
    )
    assert gateway.transition("UZI-1", "Resolve") is False
    assert [c.request.method for c in rsps.calls] == ["GET"]


def test_field_ids_are_resolved_once_and_cached(
    gateway: JiraGateway, rsps: responses.RequestsMock
) -> None:
    rsps.get(
        f"{API}/field",
        json=[
            {"id": "summary", "name": "Summary", "schema": {"type": "string"}},
            {"id": "customfield_10042", "name": "Abonneenummer", "custom": True},
            {
                "id": "customfield_10010",
                "name": "Request Type",
                "schema": {"custom": "com.atlassian.servicedesk:vp-origin"},
            },
        ],
    )
    assert gateway.field_ids(["Abonneenummer", "Praktijknaam", "summary"]) == {
        "Abonneenummer": "customfield_10042",
        "summary": "summary",
    }
    assert gateway.field_ids(["abonneenummer"]) == {"abonneenummer": "customfield_10042"}
    assert gateway.request_type_field_id() == "customfield_10010"
    assert len(rsps.calls) == 1


def test_comments_on_request_and_all_pages(
    gateway: JiraGateway, rsps: responses.RequestsMock
) -> None:
    url = f"{SD}/request/SD-1/comment"
    rsps.post(url, status=201, json={"id": "1000", "body": "b", "public": False})
    assert gateway.comment_on_request("SD-1", "Interne notitie", public=False) == "1000"
    assert sent_json(rsps) == {"body": "Interne notitie", "public": False}
    rsps.get(url, json={"values": [{"id": "1"}, {"id": "2"}], "isLastPage": False})
    rsps.get(url, json={"values": [{"id": "3"}], "isLastPage": True})
    assert [c["id"] for c in gateway.request_comments("SD-1")] == ["1", "2", "3"]
    assert "start=2" in (rsps.calls[-1].request.url or "")


def test_properties_issues_and_projects(gateway: JiraGateway, rsps: responses.RequestsMock) -> None:
    prop = f"{API}/issue/UZI-1/properties/uzibot"
    rsps.put(prop, status=200)
    gateway.set_property("UZI-1", "uzibot", {"workflow": "renewal"})
    assert sent_json(rsps) == {"workflow": "renewal"}
    rsps.get(prop, json={"key": "uzibot", "value": {"workflow": "renewal"}})
    assert gateway.get_property("UZI-1", "uzibot") == {"workflow": "renewal"}
    rsps.get(f"{API}/issue/UZI-1/properties/other", status=404, json={"errorMessages": ["none"]})
    assert gateway.get_property("UZI-1", "other") is None
    rsps.get(f"{API}/issue/UZI-404", status=404, json={"errorMessages": ["Issue does not exist"]})
    assert gateway.get_issue("UZI-404") is None
    rsps.get(f"{API}/issue/UZI-1", json={"key": "UZI-1", "fields": {"summary": "s"}})
    assert gateway.get_issue("UZI-1", ["summary", "labels"]) == {
        "key": "UZI-1",
        "fields": {"summary": "s"},
    }
    assert "fields=summary,labels" in (rsps.calls[-1].request.url or "")
    rsps.put(f"{API}/issue/UZI-1", status=204)
    gateway.edit_issue("UZI-1", {"duedate": "2025-03-01"})
    assert sent_json(rsps) == {"fields": {"duedate": "2025-03-01"}}
    rsps.get(f"{API}/project/NOPE", status=404, json={"errorMessages": ["No project"]})
    assert gateway.project("NOPE") is None
    assert gateway.stats == {"PUT": 2, "GET": 5}


def test_path_segments_from_payloads_are_encoded(
    gateway: JiraGateway, rsps: responses.RequestsMock
) -> None:
    rsps.get(f"{API}/issue/..%2Fmyself", status=404, json={"errorMessages": ["no"]})
    assert gateway.get_issue("../myself") is None


# --- attachments -------------------------------------------------------------------------------


def test_attachment_bytes_are_intact(gateway: JiraGateway, rsps: responses.RequestsMock) -> None:
    payload = bytes(range(256)) * 4
    rsps.get(
        f"{API}/attachment/content/10500",
        body=payload,
        content_type="application/x-x509-ca-cert",
    )
    assert gateway.attachment_bytes("10500", max_bytes=4096) == payload
    request = rsps.calls[0].request
    assert request.url == f"{API}/attachment/content/10500?redirect=false"
    assert request.headers["Accept"] == "*/*"
    assert request.headers["Authorization"].startswith("Basic ")


def test_attachment_over_the_cap_is_refused(
    gateway: JiraGateway, rsps: responses.RequestsMock, waits: list[float]
) -> None:
    rsps.get(f"{API}/attachment/content/7", body=b"x" * 101, auto_calculate_content_length=True)
    with pytest.raises(AttachmentTooLarge):
        gateway.attachment_bytes("7", max_bytes=100)
    assert gateway.attachment_bytes("7", max_bytes=101) == b"x" * 101
    assert waits == []


def test_attachment_over_the_cap_without_content_length(
    gateway: JiraGateway, rsps: responses.RequestsMock
) -> None:
    def stream(_: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        return 200, {}, b"y" * 5000

    rsps.add_callback(responses.GET, f"{API}/attachment/content/8", callback=stream)
    with pytest.raises(AttachmentTooLarge):
        gateway.attachment_bytes("8", max_bytes=1000)


def test_attachment_redirect_is_not_followed(
    gateway: JiraGateway, rsps: responses.RequestsMock
) -> None:
    elsewhere = "https://evil.example.com/file"
    rsps.get(f"{API}/attachment/content/9", status=303, headers={"Location": elsewhere})
    rsps.get(elsewhere, body=b"never")
    with pytest.raises(JiraPermanent) as info:
        gateway.attachment_bytes("9", max_bytes=100)
    assert info.value.status == 303 and "not followed" in str(info.value)
    assert len(rsps.calls) == 1


def test_attachment_id_must_be_numeric(gateway: JiraGateway, rsps: responses.RequestsMock) -> None:
    with pytest.raises(JiraPermanent):
        gateway.attachment_bytes("../../myself", max_bytes=100)
    assert len(rsps.calls) == 0
