"""The sandbox Jira behind FakeJira behaves like Jira Cloud and catches off-spec requests."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from atlassian import Jira

from bot.sandbox.site import Fault, JiraSandbox
from tests.fakejira import FakeJira

AUTH = ("bot@example.com", "token")


def adf(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


def task(summary: str, **fields: Any) -> dict[str, Any]:
    return {
        "fields": {
            "project": {"key": "UZO"},
            "issuetype": {"name": "Task"},
            "summary": summary,
            **fields,
        }
    }


def post(fake: FakeJira, path: str, body: Any, **kwargs: Any) -> requests.Response:
    return requests.post(f"{fake.base_url}{path}", json=body, auth=AUTH, timeout=5, **kwargs)


def get(fake: FakeJira, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(f"{fake.base_url}{path}", auth=AUTH, timeout=5, **kwargs)


@pytest.fixture
def jira(fake_jira: FakeJira) -> Jira:
    return Jira(
        url=fake_jira.base_url,
        username="bot@example.com",
        password="token",
        cloud=True,
        api_version="3",
        backoff_and_retry=False,
        retry_with_header=False,
    )


def test_site_seed_is_served(fake_jira: FakeJira, jira: Jira) -> None:
    assert jira.myself()["accountId"] == "557058:uzibot-bot"
    fields = {f["name"]: f for f in jira.get_all_fields()}
    assert fields["Request Type"]["schema"]["custom"] == "com.atlassian.servicedesk:vp-origin"
    assert fields["HIS/AIS-leverancier"]["id"] == "customfield_10052"
    project = jira.get_project("UZO")
    assert [t["name"] for t in project["issueTypes"]] == ["Service Request", "Task", "Sub-task"]
    assert jira.get("rest/api/3/serverInfo")["deploymentType"] == "Cloud"


def test_create_with_link_and_property_in_one_call(fake_jira: FakeJira, jira: Jira) -> None:
    request = fake_jira.seed_request(summary="Nieuw abonneenummer")
    created = jira.post(
        "rest/api/3/issue",
        data={
            **task("Case", labels=["uzibot"], duedate="2026-02-01", description=adf("Feiten")),
            "update": {
                "issuelinks": [
                    {"add": {"type": {"name": "Relates"}, "outwardIssue": {"key": request.key}}}
                ]
            },
            "properties": [{"key": "uzibot", "value": {"request": request.key}}],
        },
    )
    assert created["key"] == "UZO-2"
    assert fake_jira.property("UZO-2", "uzibot") == {"request": request.key}
    (link,) = fake_jira.links("UZO-2")
    assert (link.type_name, link.source, link.target) == ("Relates", "UZO-2", request.key)
    issue = jira.issue("UZO-2")
    assert issue["fields"]["issuelinks"][0]["outwardIssue"]["key"] == request.key
    assert issue["fields"]["status"]["name"] == "To Do"
    other_side = jira.issue(request.key, fields="issuelinks")["fields"]["issuelinks"]
    assert other_side[0]["inwardIssue"]["key"] == "UZO-2"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fields": {"project": {"key": "UZO"}, "issuetype": {"name": "Task"}}}, "summary"),
        (task("x", project={"key": "NOPE"}), "project"),
        (task("x", issuetype={"name": "Epic"}), "issuetype"),
        (task("x", description="plain text"), "description"),
        (task("x", issuetype={"name": "Sub-task"}), "parent"),
        (task("x", parent={"key": "UZO-99"}), "parent"),
        (task("x", duedate="31-01-2026"), "duedate"),
        (task("x", labels=["two words"]), "labels"),
        (task("x", customfield_10052={"value": "Onbekend"}), "customfield_10052"),
        (task("x", customfield_99999="?"), "customfield_99999"),
        (
            {
                **task("x"),
                "update": {
                    "issuelinks": [
                        {"add": {"type": {"name": "Relates"}, "inwardIssue": {"key": "UZO-42"}}}
                    ]
                },
            },
            "issuelinks",
        ),
    ],
)
def test_create_is_validated_like_jira(fake_jira: FakeJira, body: Any, field: str) -> None:
    answer = post(fake_jira, "/rest/api/3/issue", body)
    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert fake_jira.issues == {}


def test_bulk_create_reports_partial_failures(fake_jira: FakeJira) -> None:
    parent = post(fake_jira, "/rest/api/3/issue", task("Case")).json()["key"]
    subtask = {"issuetype": {"name": "Sub-task"}}
    answer = post(
        fake_jira,
        "/rest/api/3/issue/bulk",
        {
            "issueUpdates": [
                task("first sub-task", parent={"key": parent}, **subtask),
                task("broken", issuetype={"name": "Epic"}),
                task("new parent"),
                task("child of new parent", parent={"key": "UZO-4"}, **subtask),
            ]
        },
    )
    assert answer.status_code == 201
    result = answer.json()
    assert [i["key"] for i in result["issues"]] == ["UZO-2", "UZO-3"]
    assert [e["failedElementNumber"] for e in result["errors"]] == [1, 3]
    assert "issuetype" in result["errors"][0]["elementErrors"]["errors"]
    assert fake_jira.subtasks(parent) == ["UZO-2"]

    none_ok = post(fake_jira, "/rest/api/3/issue/bulk", {"issueUpdates": [task("")]})
    assert none_ok.status_code == 400 and none_ok.json()["issues"] == []


def test_public_comment_and_internal_note(fake_jira: FakeJira, jira: Jira) -> None:
    key = fake_jira.seed_request().key
    path = f"rest/servicedeskapi/request/{key}/comment"
    reply = jira.post(path, data={"body": "Wij hebben uw verzoek ontvangen.", "public": True})
    jira.post(path, data={"body": "Abonneenummer klopt niet.", "public": False})
    assert reply["public"] is True and reply["author"]["accountId"] == "557058:uzibot-bot"
    assert [c.body for c in fake_jira.comments(key, public=False)] == ["Abonneenummer klopt niet."]
    public_only = jira.get(path, params={"public": "true", "internal": "false"})
    assert [v["public"] for v in public_only["values"]] == [True]
    paged = jira.get(path, params={"start": 1, "limit": 1})
    assert paged["size"] == 1 and paged["isLastPage"] is True
    platform = jira.get(f"rest/api/3/issue/{key}/comment")
    assert [c["jsdPublic"] for c in platform["comments"]] == [True, False]

    case = post(fake_jira, "/rest/api/3/issue", task("not a request")).json()["key"]
    answer = post(
        fake_jira, f"/rest/servicedeskapi/request/{case}/comment", {"body": "x", "public": True}
    )
    assert answer.status_code == 404 and "errorMessage" in answer.json()


def test_transitions_by_id(fake_jira: FakeJira, jira: Jira) -> None:
    key = post(fake_jira, "/rest/api/3/issue", task("Case")).json()["key"]
    assert [(t["id"], t["name"]) for t in jira.get_issue_transitions(key)] == [
        (21, "Start"),
        (31, "Done"),
    ]
    jira.set_issue_status_by_transition_id(key, "21")
    assert fake_jira.issue(key).status == "In Progress"
    refused = post(fake_jira, f"/rest/api/3/issue/{key}/transitions", {"transition": {"id": "41"}})
    assert refused.status_code == 400
    jira.set_issue_status_by_transition_id(key, "31")
    fields = jira.issue(key, fields="status,resolution")["fields"]
    assert fields["status"]["name"] == "Done" and fields["resolution"]["name"] == "Done"

    request = fake_jira.seed_request().key
    names = {t["name"]: t["id"] for t in jira.get_issue_transitions(request)}
    assert names == {"In progress": 11, "Resolve this issue": 761}
    jira.set_issue_status_by_transition_id(request, "761")
    assert fake_jira.issue(request).status == "Resolved"


def test_attachment_redirects_to_another_host(fake_jira: FakeJira) -> None:
    key = fake_jira.seed_request().key
    att = fake_jira.add_attachment(key, "cert.pem", b"-----BEGIN CERTIFICATE-----", "text/plain")
    path = f"/rest/api/3/attachment/content/{att}"
    redirect = get(fake_jira, path, allow_redirects=False)
    assert redirect.status_code == 303
    assert redirect.headers["Location"].startswith("https://api.media.atlassian.com/file/")
    with pytest.raises(requests.ConnectionError):
        get(fake_jira, path)  # following it leaves the site: nothing answers in tests
    content = get(fake_jira, path, params={"redirect": "false"})
    assert content.status_code == 200
    assert content.content == b"-----BEGIN CERTIFICATE-----"
    assert content.headers["Content-Type"] == "text/plain"
    assert get(fake_jira, f"/rest/api/3/attachment/{att}").json()["filename"] == "cert.pem"
    assert get(fake_jira, "/rest/api/3/attachment/content/999?redirect=false").status_code == 404


def test_property_put_get_delete_and_size_limit(fake_jira: FakeJira) -> None:
    key = post(fake_jira, "/rest/api/3/issue", task("Case")).json()["key"]
    url = f"{fake_jira.base_url}/rest/api/3/issue/{key}/properties/uzibot"
    assert requests.put(url, json={"v": 1}, auth=AUTH, timeout=5).status_code == 201
    assert requests.put(url, json={"v": 2}, auth=AUTH, timeout=5).status_code == 200
    assert requests.get(url, auth=AUTH, timeout=5).json() == {"key": "uzibot", "value": {"v": 2}}
    too_big = {"blob": "x" * 32768}
    assert requests.put(url, json=too_big, auth=AUTH, timeout=5).status_code == 400
    assert fake_jira.property(key, "uzibot") == {"v": 2}
    assert requests.delete(url, auth=AUTH, timeout=5).status_code == 204
    assert requests.get(url, auth=AUTH, timeout=5).status_code == 404


def test_rate_limit_is_answered_with_retry_after(fake_jira: FakeJira, jira: Jira) -> None:
    fake_jira.inject(Fault.rate_limited(retry_after=2, method="POST"))
    with pytest.raises(requests.HTTPError) as raised:
        jira.post("rest/api/3/issue", data=task("Case"))
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "2"
    assert fake_jira.issues == {}
    assert jira.post("rest/api/3/issue", data=task("Case"))["key"] == "UZO-1"
    fake_jira.inject((503, {"Retry-After": "1"}, "busy"))
    assert get(fake_jira, "/rest/api/3/myself").status_code == 503


def test_lost_response_still_applies_the_write(fake_jira: FakeJira, jira: Jira) -> None:
    fake_jira.inject(Fault.lost_response(method="POST", path=r"/issue$"))
    with pytest.raises(requests.ConnectionError):
        jira.post("rest/api/3/issue", data=task("Case"))
    assert list(fake_jira.issues) == ["UZO-1"]
    assert fake_jira.count("POST", "/rest/api/3/issue", writes_only=True) == 1

    fake_jira.inject(Fault.connection_error(times=2))
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            jira.post("rest/api/3/issue", data=task("Case"))
    assert list(fake_jira.issues) == ["UZO-1"]
    assert fake_jira.count("POST", "/rest/api/3/issue", ok_only=True) == 1
    fake_jira.outage = True
    assert get(fake_jira, "/rest/api/3/myself").status_code == 503
    fake_jira.outage = False
    assert get(fake_jira, "/rest/api/3/myself").status_code == 200


def test_off_spec_requests_are_recorded(fake_jira: FakeJira) -> None:
    answer = post(fake_jira, "/rest/api/3/issue", {"fields": [{"summary": "x"}]})
    assert answer.status_code == 400
    assert "OpenAPI violation" in answer.json()["errorMessages"][0]
    assert get(fake_jira, "/rest/api/3/nonsense").status_code == 400
    assert get(fake_jira, "/rest/api/2/issue/UZO-1").status_code == 400
    assert get(fake_jira, "/rest/api/3/myself", params={"expnd": "groups"}).status_code == 400
    transition = post(fake_jira, "/rest/api/3/issue/UZO-1/transitions", {"transition": {"id": 5}})
    assert transition.status_code == 400
    assert len(fake_jira.violations) == 5
    assert any("'fields' " in v or "fields:" in v for v in fake_jira.violations)
    fake_jira.violations.clear()


def test_requests_without_auth_are_refused(fake_jira: FakeJira) -> None:
    answer = requests.get(f"{fake_jira.base_url}/rest/api/3/myself", timeout=5)
    assert answer.status_code == 401
    assert fake_jira.request_log[-1].status == 401


def test_issue_seeded_from_webhook_keeps_its_identity(fake_jira: FakeJira, jira: Jira) -> None:
    fake_jira.seed_issue_from_webhook(
        {
            "id": "10321",
            "key": "UZO-57",
            "fields": {
                "project": {"key": "UZO", "id": "10000"},
                "issuetype": {"id": "10003", "name": "Service Request", "subtask": False},
                "status": {"name": "Waiting for support"},
                "summary": "Certificaat verloopt",
                "description": "Ons certificaat verloopt in maart.",
                "reporter": {"accountId": "qm:abc", "accountType": "customer"},
                "customfield_10010": {"requestType": {"id": "12", "name": "Vernieuwen"}},
                "customfield_10051": "01234567",
                "attachment": [
                    {
                        "id": "777",
                        "filename": "server.cer",
                        "size": 3,
                        "mimeType": "application/pkix-cert",
                    }
                ],
            },
        },
        attachments={"777": b"DER"},
    )
    issue = jira.issue("UZO-57")
    assert issue["id"] == "10321"
    assert issue["fields"]["customfield_10051"] == "01234567"
    assert issue["fields"]["description"]["type"] == "doc"
    assert issue["fields"]["attachment"][0]["id"] == "777"
    jira.post("rest/servicedeskapi/request/UZO-57/comment", data={"body": "Dank", "public": True})
    assert get(fake_jira, "/rest/api/3/attachment/content/777?redirect=false").content == b"DER"
    created = jira.post("rest/api/3/issue", data=task("Next"))
    assert created["key"] == "UZO-58" and int(created["id"]) > 10321


def test_adapter_serves_a_plain_session_and_the_media_host() -> None:
    sandbox = JiraSandbox()
    session = sandbox.mount(requests.Session())
    key = sandbox.seed_request().key
    att = sandbox.add_attachment(key, "a.txt", b"hello", "text/plain")
    url = f"{sandbox.base_url}/rest/api/3/attachment/content/{att}"
    followed = session.get(url, auth=AUTH, timeout=5)
    assert followed.status_code == 200 and followed.content == b"hello"
    assert [r.status for r in sandbox.request_log] == [303, 200]


def test_spec_check_is_cheap_after_warm_up(fake_jira: FakeJira) -> None:
    body = (
        b'{"fields": {"project": {"key": "UZO"}, "issuetype": {"name": "Task"},'
        b' "summary": "x"}, "update": {"issuelinks": [{"add": {"type": {"name": "Relates"},'
        b' "outwardIssue": {"key": "UZO-1"}}}]}, "properties": [{"key": "k", "value": {}}]}'
    )
    url = f"{fake_jira.base_url}/rest/api/3/issue?updateHistory=false"
    headers = {"Content-Type": "application/json"}
    assert fake_jira.check_request("POST", url, headers, body) == []
    rounds = 200
    started = time.perf_counter()
    for _ in range(rounds):
        fake_jira.check_request("POST", url, headers, body)
    assert (time.perf_counter() - started) / rounds < 0.005
