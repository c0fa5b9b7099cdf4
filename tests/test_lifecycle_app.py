"""Sub-tasks moving through the real app and the fake Jira: a message per step, then closed."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.sandbox.render import adf_to_text, status_json
from tests import certgen as g
from tests.fakejira import FakeJira
from tests.harness import Harness, load_fixture, make_harness

STEP_WORDS = {
    "digid_off": "staat vanaf nu uit",
    "new_certificate": "is bij ons binnen",
    "dictu_approval": "DICTU heeft de wijziging goedgekeurd",
    "digid_on": "De DigiD-koppeling van uw praktijk werkt weer",
    "receive_certificate": "sturen het certificaat nu door naar DICTU",
    "dictu_check": "DICTU heeft het nieuwe UZI-servercertificaat",
    "complete_renewal": "wij hebben de vernieuwing afgerond",
}


def subtask_webhook(fake: FakeJira, key: str, before: str, after: str) -> dict[str, Any]:
    """A `jira:issue_updated` webhook for a status change, filled from the sandbox's issue."""
    payload = copy.deepcopy(load_fixture("lifecycle-subtask-done"))
    issue = fake.issue(key)
    parent = fake.issue(issue.parent_key)
    site = fake.sandbox.site
    fields = payload["issue"]["fields"]
    fields["summary"] = issue.fields["summary"]
    fields["description"] = adf_to_text(issue.fields.get("description"))
    fields["labels"] = list(issue.fields.get("labels") or [])
    fields["status"] = status_json(site, issue.status)
    fields["project"]["key"] = issue.project_key
    fields["issuetype"].update(name=issue.issuetype.name, subtask=issue.issuetype.subtask)
    fields["parent"].update(key=parent.key, id=parent.id)
    fields["parent"]["fields"]["summary"] = parent.fields["summary"]
    payload["issue"].update(key=issue.key, id=issue.id)
    payload["changelog"]["items"] = [
        {
            "field": "status",
            "fieldtype": "jira",
            "fieldId": "status",
            "from": status_json(site, before)["id"],
            "fromString": before,
            "to": status_json(site, after)["id"],
            "toString": after,
        }
    ]
    return payload


def open_case(h: Harness, fixture: str, attachments: dict[str, bytes] | None = None) -> str:
    """Create the case through the app; return the request key."""
    payload = load_fixture(fixture)
    h.seed(payload, attachments)
    assert h.post(payload, delivery_id=f"created-{fixture}").status_code == 202
    assert h.drain() == 1
    return str(payload["issue"]["key"])


def tracking_of(fake: FakeJira, request_key: str) -> str:
    (link,) = fake.links(request_key)
    return str(link.source if link.target == request_key else link.target)


def move(h: Harness, key: str, after: str, delivery: str) -> None:
    """An agent moves the sub-task; Jira sends the webhook; the worker handles it."""
    before = h.fake.issue(key).status
    h.fake.set_status(key, after)
    assert (
        h.post(subtask_webhook(h.fake, key, before, after), delivery_id=delivery).status_code == 202
    )
    assert h.drain() == 1
    assert h.services.store.get(delivery).status == "done"  # type: ignore[union-attr]


def walk_every_step(h: Harness, request_key: str) -> list[str]:
    """Finish each sub-task in order; check one new public comment per step."""
    tracking = tracking_of(h.fake, request_key)
    deliveries = []
    for sub in h.fake.subtasks(tracking):
        slug = h.fake.property(sub, "uzibot")["slug"]
        before = len(h.fake.comments(request_key, public=True))
        internal = len(h.fake.comments(request_key, public=False))
        assert h.fake.issue(request_key).status == "Waiting for support"
        move(h, sub, "Done", f"done-{sub}")
        deliveries.append(f"done-{sub}")
        public = h.fake.comments(request_key, public=True)
        assert len(public) == before + 1, slug
        assert STEP_WORDS[slug] in str(public[-1].body), slug
        assert len(h.fake.comments(request_key, public=False)) == internal
    assert h.fake.issue(request_key).status == "Resolved"
    assert h.fake.issue(tracking).status == "Done"
    return deliveries


def test_practice_change_is_followed_to_the_end(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    key = open_case(h, "practice_change-abonneenummer-promedico")
    tracking = tracking_of(fake_jira, key)
    first = fake_jira.subtasks(tracking)[0]
    move(h, first, "In Progress", "started")  # not done yet: nothing
    assert len(fake_jira.comments(key, public=True)) == 1
    deliveries = walk_every_step(h, key)
    public = [str(c.body) for c in fake_jira.comments(key, public=True)]
    assert len(public) == 5
    assert "gebruikersnaam en wachtwoord" in public[1] and "oude koppelmethode" in public[1]
    assert "de wijziging van uw abonneenummer" in public[-1]

    writes = h.writes()
    for delivery in ["created-practice_change-abonneenummer-promedico", "started", *deliveries]:
        assert h.services.store.requeue(delivery)
        h.drain()
    move(h, first, "To Do", "reopened")  # reopened: one note for the agents, nothing public
    move(h, first, "Done", "done-again")  # done again: nothing new
    assert h.writes() == writes + 1
    [note] = fake_jira.comments(key, public=False)[-1:]
    assert "moved back out of done" in str(note.body)
    assert len(fake_jira.comments(key, public=True)) == 5
    assert fake_jira.issue(key).status == "Resolved"


def test_bricks_practice_is_told_there_is_no_alternative(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    key = open_case(h, "practice_change-card_holder-bricks")
    first = fake_jira.subtasks(tracking_of(fake_jira, key))[0]
    assert fake_jira.property(first, "uzibot")["slug"] == "digid_off"
    move(h, first, "Done", "bricks-off")
    message = str(fake_jira.comments(key, public=True)[-1].body)
    assert "Met Bricks is er geen andere manier om in te loggen" in message
    assert "gebruikersnaam en wachtwoord" not in message
    assert fake_jira.issue(key).status == "Waiting for support"


def test_renewal_is_confirmed_and_closed(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    leaf = g.server_cert(
        not_before=datetime(2024, 1, 5, tzinfo=UTC),
        not_after=datetime(2027, 1, 5, 10, 0, tzinfo=UTC),
        abonneenummer="07654321",
    )
    key = open_case(h, "renewal-cgm-huisarts", {"10812": g.pem(leaf)})
    walk_every_step(h, key)
    public = [str(c.body) for c in fake_jira.comments(key, public=True)]
    assert len(public) == 4
    assert "CGM Huisarts heeft het ons toegestuurd" in public[1]
    assert "waarschuwing verdwijnt vanzelf" in public[-1]
    writes = h.writes()
    for sub in fake_jira.subtasks(tracking_of(fake_jira, key)):
        assert h.services.store.requeue(f"done-{sub}")
        h.drain()
    assert h.writes() == writes
