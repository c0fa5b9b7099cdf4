"""Questions: one public acknowledgement on creation, nothing on later updates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.mappings import load_mappings
from handlers.question import ACK_SLUG, plan_question
from tests.fakejira import FakeJira
from tests.harness import load_fixture, make_harness
from tests.plan_support import handler_context, load_event


def test_a_question_gets_an_acknowledgement() -> None:
    ctx = handler_context(load_mappings(), today=date(2026, 11, 28))
    plan = plan_question(load_event("question-vraag-stellen"), ctx)
    assert plan is not None
    [ack] = plan.comments
    assert ack.slug == ACK_SLUG and ack.public
    assert "Dank u wel voor uw vraag" in ack.body
    assert plan.case is None


def test_other_requests_are_not_acknowledged_as_questions() -> None:
    ctx = handler_context(load_mappings(), today=date(2026, 11, 28))
    for name in (
        "practice_change-abonneenummer-promedico",
        "renewal-request-type",
        "undecided-nothing",
    ):
        assert plan_question(load_event(name), ctx) is None, name


def test_question_through_the_app_once(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture("question-vraag-stellen")
    h.seed(payload)
    h.post(payload, delivery_id="q1")
    updated = dict(payload, webhookEvent="jira:issue_updated")
    h.post(updated, delivery_id="q2")
    assert h.drain() == 2
    key = payload["issue"]["key"]
    assert len(fake_jira.comments(key, public=True)) == 1
    assert fake_jira.comments(key, public=False) == []
    assert fake_jira.links(key) == []
