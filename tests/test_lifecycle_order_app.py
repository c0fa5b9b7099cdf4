"""The lifecycle from Jira's current state, through the real app and the fake Jira.

Sub-task webhooks arrive reordered, duplicated, replayed and together, mixed with the bot's own
events; the practice reads each step once, in the workflow's order, and the request is
resolved only when every sub-task is done. Sites whose resolving transition has another name,
or none at all, and reopened sub-tasks are covered too.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.sandbox.seed import TransitionSeed
from bot.sandbox.site import DEFAULT_BOT_ACCOUNT
from tests import certgen as g
from tests.fakejira import FakeJira
from tests.harness import Harness, make_harness
from tests.test_lifecycle_app import STEP_WORDS, open_case, subtask_webhook, tracking_of

PRACTICE_STEPS = ("digid_off", "new_certificate", "dictu_approval", "digid_on")
RENEWAL_STEPS = ("receive_certificate", "dictu_check", "complete_renewal")


def steps_told(h: Harness, key: str) -> list[str]:
    """The steps the practice was told about, in the order of the public comments."""
    told = []
    comments = h.fake.comments(key, public=True)
    steps = RENEWAL_STEPS if "vernieuw" in str(comments[0].body) else PRACTICE_STEPS
    for comment in comments[1:]:
        body = str(comment.body)
        slugs = [slug for slug in steps if STEP_WORDS[slug] in body]
        assert len(slugs) == 1, body[:200]
        told.append(slugs[0])
    return told


def notes(h: Harness, key: str) -> list[str]:
    return [str(c.body) for c in h.fake.comments(key, public=False)]


def finish(h: Harness, sub: str, status: str = "Done") -> dict[str, Any]:
    """An agent moves a sub-task; the webhook is built now and may be posted later."""
    before = h.fake.issue(sub).status
    h.fake.set_status(sub, status)
    return subtask_webhook(h.fake, sub, before, status)


def deliver(h: Harness, payload: dict[str, Any], delivery: str) -> str:
    """Post a webhook (a duplicate delivery id is accepted again: 200) and run the worker."""
    assert h.post(payload, delivery_id=delivery).status_code in (200, 202)
    h.drain()
    found = h.services.store.get(delivery)
    assert found is not None
    return found.status


def bot_echo(h: Harness, tracking: str, delivery: str) -> None:
    """The bot's own change of its tracking issue comes back as a webhook: ignored."""
    sub = h.fake.subtasks(tracking)[0]
    payload = copy.deepcopy(subtask_webhook(h.fake, sub, "To Do", "Done"))
    payload["user"] = {"accountId": DEFAULT_BOT_ACCOUNT, "accountType": "atlassian"}
    assert deliver(h, payload, delivery) == "done"
    assert h.services.store.get(delivery).outcome == "ignored:echo"  # type: ignore[union-attr]


def test_practice_change_steps_reordered_duplicated_and_reopened(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    key = open_case(h, "practice_change-abonneenummer-promedico")
    tracking = tracking_of(fake_jira, key)
    off, cert, dictu, on = fake_jira.subtasks(tracking)

    # The second step is finished first: nothing public, one note for the agents.
    cert_done = finish(h, cert)
    deliver(h, cert_done, "cert-done")
    assert steps_told(h, key) == []
    assert sum("earlier steps are not" in n for n in notes(h, key)) == 1
    # The first step's webhook, then the same delivery again and a replay: both told once.
    off_done = finish(h, off)
    deliver(h, off_done, "off-done")
    deliver(h, off_done, "off-done")
    assert h.services.store.requeue("cert-done")
    h.drain()
    bot_echo(h, tracking, "echo-1")
    assert steps_told(h, key) == ["digid_off", "new_certificate"]

    # The confirmation step done while DICTU is still open: nothing closes, nothing public.
    deliver(h, finish(h, on), "on-done-early")
    assert steps_told(h, key) == ["digid_off", "new_certificate"]
    assert fake_jira.issue(key).status == "Waiting for support"
    assert fake_jira.issue(tracking).status != "Done"

    # The first step moved back out of done: one note, nothing public; later steps wait.
    before = len(notes(h, key))
    deliver(h, finish(h, off, "To Do"), "off-reopened")
    assert len(notes(h, key)) == before + 1 and "moved back out of done" in notes(h, key)[-1]
    deliver(h, finish(h, dictu), "dictu-done")
    assert steps_told(h, key) == ["digid_off", "new_certificate"]
    assert fake_jira.issue(key).status == "Waiting for support"

    # Done again: the rest goes out in order, the case closes, the confirmation comes last.
    deliver(h, finish(h, off), "off-done-again")
    assert steps_told(h, key) == list(PRACTICE_STEPS)
    assert fake_jira.issue(key).status == "Resolved"
    assert fake_jira.issue(tracking).status == "Done"

    # Late copies and replays of everything add nothing.
    writes = h.writes()
    for delivery in ("cert-done", "off-done", "on-done-early", "dictu-done", "off-reopened"):
        assert h.services.store.requeue(delivery)
        h.drain()
    deliver(h, off_done, "off-done-late-copy")
    bot_echo(h, tracking, "echo-2")
    assert h.writes() == writes
    assert steps_told(h, key) == list(PRACTICE_STEPS)


def _renewal(h: Harness) -> tuple[str, str, list[str]]:
    leaf = g.server_cert(
        not_before=datetime(2024, 1, 5, tzinfo=UTC),
        not_after=datetime(2027, 1, 5, 10, 0, tzinfo=UTC),
        abonneenummer="07654321",
    )
    key = open_case(h, "renewal-cgm-huisarts", {"10812": g.pem(leaf)})
    tracking = tracking_of(h.fake, key)
    return key, tracking, h.fake.subtasks(tracking)


def test_renewal_steps_finished_together_arrive_in_reverse(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    key, tracking, subs = _renewal(h)
    payloads = [finish(h, sub) for sub in subs]  # all three done at once
    for index in reversed(range(len(subs))):
        deliver(h, payloads[index], f"done-{index}")
        # Already after the first (the last step's) webhook, everything was told in order.
        assert steps_told(h, key) == list(RENEWAL_STEPS)
        bot_echo(h, tracking, f"echo-{index}")
    public = [str(c.body) for c in fake_jira.comments(key, public=True)]
    assert "wij hebben de vernieuwing afgerond" in public[-1]
    assert fake_jira.issue(key).status == "Resolved"
    assert fake_jira.issue(tracking).status == "Done"
    # Nothing waited: when the webhooks came, every step was already done.
    assert [n for n in notes(h, key) if "earlier steps are not" in n or "could not" in n] == []


def test_resolved_through_the_done_category_transition_when_the_name_differs(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.set_transitions(
        "request",
        (
            TransitionSeed("11", "In behandeling", "In Progress", ("Waiting for support",)),
            TransitionSeed("781", "Won't do", "Declined", ("Waiting for support", "In Progress")),
            TransitionSeed("771", "Afronden", "Closed", ("Waiting for support", "In Progress")),
        ),
    )
    h = make_harness(fake_jira, tmp_path)
    key, _tracking, subs = _renewal(h)
    for index, sub in enumerate(subs):
        deliver(h, finish(h, sub), f"done-{index}")
    assert fake_jira.issue(key).status == "Closed"  # "Afronden", not "Won't do"
    assert steps_told(h, key) == list(RENEWAL_STEPS)
    assert not [n for n in notes(h, key) if "could not move" in n]


def test_no_resolving_transition_is_noted_retried_parked_and_never_claimed(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    default = fake_jira.sandbox.site.workflows["request"].transitions
    fake_jira.set_transitions(
        "request", (TransitionSeed("11", "In progress", "In Progress", ("Waiting for support",)),)
    )
    h = make_harness(fake_jira, tmp_path, env={"WORKER_MAX_ATTEMPTS": "3"})
    key, tracking, subs = _renewal(h)
    for index, sub in enumerate(subs[:-1]):
        deliver(h, finish(h, sub), f"done-{index}")
    assert deliver(h, finish(h, subs[-1]), "done-last") == "pending"  # failed: to be retried
    assert steps_told(h, key) == list(RENEWAL_STEPS[:-1])  # no "complete" message
    assert fake_jira.issue(key).status == "Waiting for support"
    [stuck] = [n for n in notes(h, key) if "could not move" in n]
    assert "resolve_transition" in stuck and "Resolve this issue" in stuck
    assert h.services.store.effect(f"transition:{key}:lifecycle:resolve") is None
    for _ in range(3):
        h.clock.now += 7 * 24 * 3600
        h.drain()
    delivery = h.services.store.get("done-last")
    assert delivery is not None and delivery.status == "failed"
    # One note, not one per attempt.
    assert len([n for n in notes(h, key) if "could not move" in n]) == 1
    assert steps_told(h, key) == list(RENEWAL_STEPS[:-1])
    # The admin gives the workflow its transition back; the parked delivery is replayed.
    fake_jira.set_transitions("request", default)
    assert h.services.store.requeue("done-last")
    h.drain()
    assert fake_jira.issue(key).status == "Resolved"
    assert steps_told(h, key) == list(RENEWAL_STEPS)
    assert fake_jira.issue(tracking).status == "Done"


def test_tracking_issue_that_cannot_close_keeps_the_request_open(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.set_transitions("task", (TransitionSeed("21", "Start", "In Progress", ("To Do",)),))
    h = make_harness(fake_jira, tmp_path)
    key, tracking, subs = _renewal(h)
    for index, sub in enumerate(subs):
        deliver(h, finish(h, sub), f"done-{index}")
    # The note is on the tracking issue (a platform comment: it is no portal request).
    [stuck] = [str(c.body) for c in fake_jira.comments(tracking) if "could not move" in str(c.body)]
    assert "tracking_done_transition" in stuck
    assert fake_jira.issue(key).status == "Waiting for support"  # not resolved before the case
    assert steps_told(h, key) == list(RENEWAL_STEPS[:-1])
    assert h.services.store.effect(f"transition:{tracking}:lifecycle:tracking_done") is None
