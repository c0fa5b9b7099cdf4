"""The intake endpoints through the real app: every refusal, dedupe, rotation and concurrency."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from bot.signature import sign
from tests.fakejira import FakeJira
from tests.harness import NEW_SECRET, OLD_SECRET, load_fixture, make_harness, with_key

FIXTURE = "practice_change-abonneenummer-promedico"


def test_refused_deliveries_get_their_status_and_nothing_happens(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture(FIXTURE)
    body = json.dumps(payload).encode()
    assert h.post(payload, secret=None).status_code == 401
    assert h.post(payload, secret="not-the-secret").status_code == 401
    big = body + b" " * 70_000
    assert h.post(big).status_code == 413
    assert h.post(b"{not json").status_code == 400
    answer = h.post({"hello": "world"})
    assert answer.status_code == 422
    assert "webhookEvent" in answer.json()["error"]
    assert h.post({"webhookEvent": "jira:issue_created"}).status_code == 422
    assert h.services.store.counts() == {}
    assert h.drain() == 0
    assert fake_jira.count() == 0  # not a single Jira request for refused deliveries


def test_oversize_is_refused_from_content_length_before_reading(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    answer = h.client.post("/webhooks/jira", content=b"{}", headers={"Content-Length": "9999999"})
    assert answer.status_code == 413


def test_older_rotated_secret_is_accepted(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    answer = h.post(load_fixture(FIXTURE), secret=OLD_SECRET, delivery_id="d-old")
    assert answer.status_code == 202
    assert answer.json() == {"status": "accepted", "delivery": "d-old"}


def test_same_delivery_three_times_is_processed_once(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture(FIXTURE)
    h.seed(payload)
    codes = [h.post(payload, delivery_id="same-id").status_code for _ in range(3)]
    assert codes == [202, 200, 200]
    assert h.post(payload, delivery_id="same-id").json()["status"] == "duplicate"
    assert h.drain() == 1
    assert h.services.store.counts() == {"done": 1}
    assert len(fake_jira.subtasks(_tracking_key(fake_jira, payload))) == 4


def test_body_hash_dedupes_when_the_identifier_header_is_missing(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture(FIXTURE)
    first = h.post(payload)
    assert first.status_code == 202 and first.json()["delivery"].startswith("sha256:")
    assert h.post(payload).status_code == 200


def test_hundred_concurrent_distinct_deliveries_are_all_stored_and_processed(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    base = load_fixture(FIXTURE)
    payloads = [with_key(base, f"UZO-{500 + i}", str(20500 + i)) for i in range(100)]
    for p in payloads:
        h.seed(p)

    async def post_all() -> list[int]:
        transport = httpx.ASGITransport(app=h.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://uzibot") as client:

            async def one(i: int, p: dict[str, object]) -> int:
                body = json.dumps(p).encode()
                headers = {
                    "X-Hub-Signature": sign(body, NEW_SECRET.encode()),
                    "X-Atlassian-Webhook-Identifier": f"conc-{i}",
                    "Content-Type": "application/json",
                }
                r = await client.post("/webhooks/jira", content=body, headers=headers)
                return r.status_code

            return await asyncio.gather(*(one(i, p) for i, p in enumerate(payloads)))

    codes = asyncio.run(post_all())
    assert codes == [202] * 100
    assert h.services.store.counts() == {"pending": 100}
    assert h.drain() == 100
    assert h.services.store.counts() == {"done": 100}
    assert all(len(fake_jira.subtasks(_tracking_key(fake_jira, p))) == 4 for p in payloads)


def test_automation_endpoint_uses_the_secret_header(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture(FIXTURE)
    assert h.post(payload, path="/webhooks/automation", secret=None).status_code == 401
    wrong = {"X-Webhook-Secret": "nope"}
    assert (
        h.post(payload, path="/webhooks/automation", secret=None, headers=wrong).status_code == 401
    )
    right = {"X-Webhook-Secret": NEW_SECRET}
    answer = h.post(
        payload, path="/webhooks/automation", secret=None, headers=right, delivery_id="auto-1"
    )
    assert answer.status_code == 202
    assert h.services.store.get("auto-1").source == "automation"  # type: ignore[union-attr]


def test_health_readiness_and_metrics(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    h.post(load_fixture(FIXTURE), delivery_id="m1")
    assert h.client.get("/healthz").json() == {"status": "ok"}
    assert h.client.get("/readyz").status_code == 200
    text = h.client.get("/metrics").text
    assert 'uzibot_intake_total{endpoint="jira",status="202"} 1.0' in text


def _tracking_key(fake: FakeJira, payload: dict[str, object]) -> str:
    request_key = payload["issue"]["key"]  # type: ignore[index]
    links = fake.links(request_key)
    assert len(links) == 1, links
    link = links[0]
    return str(link.source if link.target == request_key else link.target)


def test_store_failure_answers_503_so_jira_retries(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = make_harness(fake_jira, tmp_path)

    def broken(_rows: object) -> list[bool]:
        raise OSError("disk full")

    # The intake's write on SQLite (on the event loop, never waiting for the lock).
    monkeypatch.setattr(h.services.store, "add_deliveries_nowait", broken)
    answer = h.post(load_fixture(FIXTURE), delivery_id="d503")
    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "delivery": "d503"}
    monkeypatch.undo()
    assert h.post(load_fixture(FIXTURE), delivery_id="d503").status_code == 202


def test_automation_format_request_reprocesses_the_issue(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture(FIXTURE)
    h.seed(payload)
    key = payload["issue"]["key"]
    answer = h.post(
        {"issue": {"key": key}},
        path="/webhooks/automation",
        secret=None,
        headers={"X-Webhook-Secret": NEW_SECRET},
        delivery_id="auto-format",
    )
    assert answer.status_code == 202
    assert h.drain() == 1
    assert h.services.store.get("auto-format").status == "done"  # type: ignore[union-attr]
    assert len(fake_jira.subtasks(_tracking_key(fake_jira, payload))) == 4
    bad = h.post(
        {"issue": {}},
        path="/webhooks/automation",
        secret=None,
        headers={"X-Webhook-Secret": NEW_SECRET},
    )
    assert bad.status_code == 422
