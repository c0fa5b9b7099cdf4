"""Worker, reconciler and gateway together: crashes, lost responses, 429s, outages, echoes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import HANDLED_EVENTS, IGNORED_EVENTS
from bot.cli.main import main as cli_main
from bot.context import HandlerContext
from bot.events import Event
from bot.router import Router
from bot.sandbox.faults import Fault
from bot.sandbox.site import DEFAULT_BOT_ACCOUNT
from handlers.classify import Classification
from handlers.routing import build_router
from tests.fakejira import FakeJira
from tests.harness import FIXTURES, load_fixture, make_harness

FIXTURE = "practice_change-abonneenummer-promedico"


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the worker catches it."""


def jira_state(fake: FakeJira, request_key: str) -> dict[str, Any]:
    """What a person looking at Jira would count for one request."""
    links = fake.links(request_key)
    tracking = [lk.source if lk.target == request_key else lk.target for lk in links]
    subtasks = [fake.issue(s).fields["summary"] for t in tracking for s in fake.subtasks(t)]
    return {
        "tracking": len(tracking),
        "subtasks": sorted(subtasks),
        "public": len(fake.comments(request_key, public=True)),
        "internal": len(fake.comments(request_key, public=False)),
    }


EXPECTED = {
    "tracking": 1,
    "public": 1,
    "internal": 1,
}


def assert_one_complete_case(fake: FakeJira, key: str, subtasks: int = 4) -> None:
    state = jira_state(fake, key)
    assert {k: state[k] for k in EXPECTED} == EXPECTED
    assert len(state["subtasks"]) == subtasks and len(set(state["subtasks"])) == subtasks


@pytest.mark.parametrize("crash_after", [1, 2, 3, 4, 5])
def test_worker_dying_between_two_effects_completes_without_duplicates(
    fake_jira: FakeJira, tmp_path: Path, crash_after: int
) -> None:
    seen: list[str] = []

    def die(effect_id: str) -> None:
        seen.append(effect_id)
        if len(seen) == crash_after:
            raise Crash(effect_id)

    first = make_harness(fake_jira, tmp_path, on_effect=die)
    payload = load_fixture(FIXTURE)
    first.seed(payload)
    first.post(payload, delivery_id="crashy")
    with pytest.raises(Crash):
        first.drain()
    assert first.services.store.get("crashy").status == "processing"  # type: ignore[union-attr]

    restarted = make_harness(fake_jira, tmp_path)
    restarted.clock.now = first.clock.now + restarted.settings.lease_seconds + 1
    assert restarted.drain() == 1
    assert restarted.services.store.get("crashy").status == "done"  # type: ignore[union-attr]
    assert_one_complete_case(fake_jira, payload["issue"]["key"])


@pytest.mark.parametrize("path", [r"/rest/api/3/issue$", r"/rest/api/3/issue/bulk$", r"/comment$"])
def test_lost_response_on_a_write_is_verified_not_repeated(
    fake_jira: FakeJira, tmp_path: Path, path: str
) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture(FIXTURE)
    h.seed(payload)
    fake_jira.inject(Fault.lost_response(method="POST", path=path, times=1))
    h.post(payload, delivery_id="lost")
    h.drain()
    assert h.services.store.get("lost").status == "pending"  # type: ignore[union-attr]
    h.clock.now += 3600
    h.drain()
    assert h.services.store.get("lost").status == "done"  # type: ignore[union-attr]
    assert_one_complete_case(fake_jira, payload["issue"]["key"])


def test_429_with_retry_after_is_honoured_and_applied_once(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture(FIXTURE)
    h.seed(payload)
    fake_jira.inject(Fault.rate_limited(retry_after=2, method="POST", path=r"/comment$", times=1))
    h.post(payload, delivery_id="limited")
    assert h.drain() == 1
    assert h.sleeps == [2.0]
    assert h.services.store.get("limited").status == "done"  # type: ignore[union-attr]
    assert_one_complete_case(fake_jira, payload["issue"]["key"])
    comment_posts = [
        r for r in fake_jira.request_log if r.method == "POST" and r.path.endswith("/comment")
    ]
    assert [r.status for r in comment_posts] == [429, 201, 201]


def test_outage_parks_the_delivery_and_replay_completes_it(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"WORKER_MAX_ATTEMPTS": "3", "JIRA_MAX_ATTEMPTS": "2"}
    h = make_harness(fake_jira, tmp_path, env=env)
    payload = load_fixture(FIXTURE)
    h.seed(payload)
    h.post(payload, delivery_id="outage-1")
    fake_jira.outage = True
    for _ in range(5):
        h.drain()
        h.clock.now += 7 * 24 * 3600
    parked = h.services.store.get("outage-1")
    assert parked is not None and parked.status == "failed" and parked.attempts == 3
    assert "gave up after 3 attempts" in (parked.last_error or "")
    assert "503" in (parked.last_error or "")
    assert jira_state(fake_jira, payload["issue"]["key"])["tracking"] == 0

    out = io.StringIO()
    for name, value in {**h.settings.model_dump(mode="json"), **env}.items():
        if isinstance(value, str | int | float) and value != "":
            monkeypatch.setenv(name.upper(), str(value))
    monkeypatch.setenv("JIRA_API_TOKEN", "api-token-for-tests")
    monkeypatch.setenv("WEBHOOK_SECRET", "new-secret-2026")
    monkeypatch.chdir(tmp_path)
    assert cli_main(["deliveries", "--failed"], out=out) == 0
    row = out.getvalue().splitlines()[2].split()
    assert row[:5] == ["outage-1", "jira:issue_created", "UZO-400", "failed", "3"]
    fake_jira.outage = False
    assert cli_main(["replay", "outage-1"], out=out) == 0
    assert "outage-1: done" in out.getvalue()
    assert_one_complete_case(fake_jira, payload["issue"]["key"])


def test_replay_of_a_done_delivery_writes_nothing(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture(FIXTURE)
    h.seed(payload)
    h.post(payload, delivery_id="once")
    h.drain()
    writes = h.writes()
    assert h.services.store.requeue("once")
    assert h.drain() == 1
    assert h.writes() == writes
    assert_one_complete_case(fake_jira, payload["issue"]["key"])


def test_events_caused_by_the_bot_itself_do_nothing(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture(FIXTURE)
    payload["user"] = {"accountId": DEFAULT_BOT_ACCOUNT, "accountType": "atlassian"}
    h.seed(payload)
    h.post(payload, delivery_id="echo")
    assert h.drain() == 1
    delivery = h.services.store.get("echo")
    assert delivery is not None and delivery.status == "done"
    assert delivery.outcome == "ignored:echo" and delivery.last_error is None
    assert h.writes() == 0
    assert jira_state(fake_jira, payload["issue"]["key"])["tracking"] == 0


def test_event_catalog_is_honest() -> None:
    routed = {name for name, _workflow in build_router().routes()}
    assert routed == HANDLED_EVENTS
    assert not HANDLED_EVENTS & IGNORED_EVENTS
    for fixture in FIXTURES.glob("*.json"):
        name = json.loads(fixture.read_text())["webhookEvent"]
        assert name in HANDLED_EVENTS | IGNORED_EVENTS, fixture.name


def test_an_ignored_event_is_stored_and_marked_without_jira(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = {"timestamp": 1, "webhookEvent": "worklog_created", "worklog": {"id": "1"}}
    assert h.post(payload, delivery_id="wl").status_code == 202
    assert h.drain() == 1
    stored = h.services.store.get("wl")
    assert stored is not None and stored.outcome == "ignored:event" and stored.last_error is None
    assert fake_jira.count() == 0


def test_a_route_for_an_undeclared_event_is_refused() -> None:
    with pytest.raises(ValueError, match="not declared handled"):
        Router().register("worklog_created", "renewal")


def test_each_event_is_classified_once(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import handlers.routing

    calls: list[str] = []
    real = handlers.routing.classify

    def counting(event: Event, ctx: HandlerContext) -> Classification:
        calls.append(event.delivery_id)
        return real(event, ctx)

    monkeypatch.setattr(handlers.routing, "classify", counting)
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture(FIXTURE)
    h.seed(payload)
    h.post(payload, delivery_id="once")
    assert h.drain() == 1
    assert calls == ["once"]


def test_applied_jira_effects_are_counted_by_kind(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture(FIXTURE)
    h.seed(payload)
    h.post(payload, delivery_id="counted")
    assert h.drain() == 1
    registry = h.services.metrics.registry

    def effects(kind: str) -> float | None:
        return registry.get_sample_value("uzibot_jira_effects_total", {"kind": kind})

    assert (effects("case"), effects("subtask"), effects("comment")) == (1.0, 4.0, 2.0)
