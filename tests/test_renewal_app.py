"""A renewal through the real app and the fake Jira: the case, then a certificate added later."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests import certgen as g
from tests.fakejira import FakeJira
from tests.harness import load_fixture, make_harness

KEY = "UZO-436"
# The harness's today is 28 November 2026: this certificate leaves a tight deadline.
NOT_AFTER = datetime(2027, 1, 5, 10, 0, tzinfo=UTC)


def tracking_key(fake: FakeJira) -> str:
    keys = [lk.source if lk.target == KEY else lk.target for lk in fake.links(KEY)]
    assert len(keys) == 1
    return keys[0]


def test_request_then_certificate_later_updates_one_case_and_answers_once(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    harness = make_harness(fake_jira, tmp_path)
    created = load_fixture("renewal-cgm-huisarts-no-attachment")
    harness.seed(created)
    assert harness.post(created, delivery_id="r1").status_code == 202
    harness.drain()
    tracking = tracking_key(fake_jira)
    case = fake_jira.issue(tracking)
    assert case.fields.get("duedate") is None
    assert sorted(fake_jira.issue(s).fields["summary"] for s in fake_jira.subtasks(tracking)) == [
        "Controle door DICTU",
        "Nieuw UZI-servercertificaat ontvangen (via CGM Huisarts)",
        "Vernieuwing afronden",
    ]
    assert (
        len(fake_jira.comments(KEY, public=True)),
        len(fake_jira.comments(KEY, public=False)),
    ) == (1, 1)

    updated = load_fixture("renewal-cgm-huisarts-attachment-added")
    leaf = g.server_cert(not_before=datetime(2024, 1, 5, tzinfo=UTC), not_after=NOT_AFTER)
    harness.seed(updated, attachments={"10836": g.pem(leaf)})
    for delivery in ("r2", "r3"):  # a second, different delivery of the same state adds nothing
        assert harness.post(updated, delivery_id=delivery).status_code == 202
        harness.drain()

    assert tracking_key(fake_jira) == tracking
    case = fake_jira.issue(tracking)
    assert str(case.fields.get("duedate")) == "2026-12-29"
    assert case.fields.get("priority") == "High"
    facts = fake_jira.property(tracking, "uzibot")
    assert facts["deadline_state"] == "tight" and facts["certificate"]["attachment_id"] == "10836"
    public = fake_jira.comments(KEY, public=True)
    assert len(public) == 2 and len(fake_jira.comments(KEY, public=False)) == 2
    assert "op 29 december 2026 automatisch tijdelijk uit" in str(public[-1].body)
    assert "uiterlijk op 8 december 2026" in str(public[-1].body)
    assert len(fake_jira.subtasks(tracking)) == 3
