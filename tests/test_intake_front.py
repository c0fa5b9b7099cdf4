"""The ASGI front: webhook POSTs reach the intake directly, everything else reaches FastAPI."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from bot import intake
from bot.signature import sign
from tests.fakejira import FakeJira
from tests.harness import NEW_SECRET, load_fixture, make_harness

FIXTURE = "practice_change-abonneenummer-promedico"


def test_other_methods_on_a_webhook_path_get_405_with_allow(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    for path in ("/webhooks/jira", "/webhooks/automation"):
        answer = h.client.get(path)
        assert answer.status_code == 405
        assert answer.headers["allow"] == "POST"
        assert answer.json()["status"] == "rejected"
    assert h.services.store.counts() == {}


def test_a_trailing_slash_reaches_the_same_endpoint(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    answer = h.post(load_fixture(FIXTURE), delivery_id="slash-1", path="/webhooks/jira/")
    assert answer.status_code == 202
    assert answer.json() == {"status": "accepted", "delivery": "slash-1"}
    assert answer.headers["content-type"] == "application/json"
    assert int(answer.headers["content-length"]) == len(answer.content)


def test_behind_a_path_prefix_the_webhook_is_routed_without_it(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    """uvicorn --root-path /bot puts the prefix into the path; routes match without it."""
    h = make_harness(fake_jira, tmp_path)
    body = json.dumps(load_fixture(FIXTURE)).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"x-hub-signature", sign(body, NEW_SECRET.encode()).encode()),
        (b"x-atlassian-webhook-identifier", b"prefixed-1"),
    ]
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/bot/webhooks/jira",
        "root_path": "/bot",
        "headers": headers,
    }
    sent = _call(h.app, scope, [{"type": "http.request", "body": body}])
    assert sent[0]["status"] == 202
    assert h.services.store.get("prefixed-1") is not None


def test_the_other_routes_still_go_through_fastapi(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    assert h.client.get("/healthz").json() == {"status": "ok"}
    assert h.client.get("/readyz").status_code == 200
    for n in range(3):
        h.post(load_fixture(FIXTURE), delivery_id=f"m-{n}")
    h.post(load_fixture(FIXTURE), secret=None)
    metrics = h.client.get("/metrics").text
    assert 'uzibot_intake_total{endpoint="jira",status="202"} 3.0' in metrics
    assert 'uzibot_intake_total{endpoint="jira",status="401"} 1.0' in metrics
    assert h.client.get("/webhooks").status_code == 404
    assert h.client.get("/nowhere").status_code == 404


def test_a_bug_in_the_intake_is_a_logged_500_and_the_next_delivery_is_served(
    fake_jira: FakeJira,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = make_harness(fake_jira, tmp_path)
    real = intake.row_problem
    calls: list[str | None] = []

    def broken_once(event_name: str, issue_key: str | None) -> str | None:
        calls.append(issue_key)
        if len(calls) == 1:
            raise KeyError("a bug")
        return real(event_name, issue_key)

    monkeypatch.setattr(intake, "row_problem", broken_once)
    with caplog.at_level(logging.ERROR, logger="uzibot.intake"):
        first = h.post(load_fixture(FIXTURE), delivery_id="bug-1")
    assert first.status_code == 500
    assert first.json() == {"status": "error", "error": "internal error"}
    logged = [r for r in caplog.records if "the intake failed" in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert h.post(load_fixture(FIXTURE), delivery_id="bug-2").status_code == 202
    assert h.services.store.counts() == {"pending": 1}


def test_a_client_that_leaves_mid_body_gets_400_and_nothing_is_stored(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/webhooks/jira",
        "headers": [(b"content-type", b"application/json")],
    }
    messages = [
        {"type": "http.request", "body": b'{"webhookEvent"', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent = _call(h.app, scope, messages)
    assert sent[0]["status"] == 400
    assert b"left before the body" in sent[1]["body"]
    assert h.services.store.counts() == {}


def _call(app: Any, scope: dict[str, Any], messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run one ASGI request scope with these receive messages; what the app sent."""
    incoming = iter(messages)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent
