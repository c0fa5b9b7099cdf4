"""The expiry watch against the fake Jira: raise on behalf, remind, catch up, stop, agents-only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from prometheus_client import generate_latest

from bot.certs.registry import record_certificates
from bot.inbox.claims import steps_with_prefix
from bot.jira.adf import adf_to_text
from bot.plan import CertificateRecord
from tests.fakejira import FakeJira
from tests.harness import Harness, load_fixture, make_harness

LINDE = "01234567"
EXPIRES = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # DigiD off 22 Feb 2027, start by 1 Feb 2027


def register(
    h: Harness,
    *,
    number: str = LINDE,
    fingerprint: str = "aa" * 32,
    not_after: datetime = EXPIRES,
    contact: str | None = "qm:linde",
    environment: str = "production",
) -> None:
    record_certificates(
        h.services.store,
        [
            CertificateRecord(
                fingerprint=fingerprint,
                abonneenummer=number,
                uzi_number="123456789",
                not_before="2024-03-01T09:00:00+00:00",
                not_after=not_after.isoformat(),
                practice="Huisartsenpraktijk De Linde",
                vendor="CGM Huisarts",
                contact=contact,
                environment=environment,
            )
        ],
    )


def raised_requests(fake: FakeJira) -> list[str]:
    return [
        i.key
        for i in fake.issues.values()
        if i.project_key == "UZO" and i.reporter_id != "557058:uzibot-bot"
    ]


def test_first_threshold_raises_a_request_on_behalf_of_the_contact_once(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.add_customer("qm:linde", "linde@example.nl")
    h = make_harness(fake_jira, tmp_path)
    register(h)
    assert h.services.watch.scan(date(2026, 12, 30)).wrote() == 0  # 61 days: nothing yet
    found = h.services.watch.scan(date(2026, 12, 31))  # 60 days before expiry
    assert (found.raised, found.reminders, found.failed) == (1, 0, 0), found.lines
    [key] = raised_requests(fake_jira)
    request = fake_jira.issue(key)
    assert request.reporter_id == "qm:linde"
    assert request.fields["customfield_10010"]["requestType"]["id"] == "103"
    assert request.fields["summary"].startswith("UZI-servercertificaat verloopt op 1 maart 2027")
    assert request.fields["customfield_10051"] == LINDE  # the Abonneenummer field
    writes = h.writes()
    again = h.services.watch.scan(date(2026, 12, 31))
    assert again.wrote() == 0 and h.writes() == writes
    assert h.services.watch.scan(date(2027, 1, 2)).wrote() == 0  # no threshold crossed
    assert len(raised_requests(fake_jira)) == 1
    metrics = generate_latest(h.services.metrics.registry).decode()
    assert 'uzibot_watch_steps_total{kind="open-request"} 1.0' in metrics
    assert 'uzibot_certificates{days_to_switch_off="36-60"} 1.0' in metrics
    assert 'uzibot_jira_effects_total{kind="request"} 1.0' in metrics


def test_a_later_date_crossing_two_thresholds_gives_one_reminder_and_a_raised_priority(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.add_customer("qm:linde", "linde@example.nl")
    h = make_harness(fake_jira, tmp_path)
    register(h)
    h.services.watch.scan(date(2026, 12, 31))
    [key] = raised_requests(fake_jira)
    # Down from 60 days to 21 days (35 and 28 and 21 crossed), past the latest start.
    found = h.services.watch.scan(date(2027, 2, 8))
    assert (found.reminders, found.priorities, found.raised) == (1, 1, 0), found.lines
    public = fake_jira.comments(key, public=True)
    [reminder] = [c for c in public if c.body.startswith("Goedendag,\n\nEen herinnering")]
    assert "over 21 dagen, op 1 maart 2027" in reminder.body
    assert "22 februari 2027" in reminder.body
    assert "uiterste datum om het nieuwe certificaat aan te leveren (1 februari 2027)" in (
        reminder.body
    )
    assert fake_jira.issue(key).fields["priority"] == "Highest"
    assert h.services.watch.scan(date(2027, 2, 8)).wrote() == 0
    assert h.services.watch.scan(date(2027, 2, 9)).wrote() == 0
    steps = steps_with_prefix(h.services.store, "watch:")
    assert sorted(s.rsplit(":", 1)[1] for s in steps) == ["open", "priority", "remind-21"]
    found = h.services.watch.scan(date(2027, 2, 15))  # 14 days: the next threshold
    assert found.reminders == 1 and found.priorities == 0


def test_a_newer_certificate_stops_the_reminders_and_is_mentioned_on_the_case(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.add_customer("qm:linde", "linde@example.nl")
    h = make_harness(fake_jira, tmp_path)
    register(h)
    h.services.watch.scan(date(2026, 12, 31))
    [key] = raised_requests(fake_jira)
    register(h, fingerprint="bb" * 32, not_after=datetime(2030, 1, 20, tzinfo=UTC), contact=None)
    found = h.services.watch.scan(date(2027, 1, 25))  # 35 days for the old one
    assert (found.newer, found.reminders) == (1, 0), found.lines
    [notice] = [c for c in fake_jira.comments(key, public=True) if "nieuw UZI" in c.body]
    assert "geldig tot 20 januari 2030" in notice.body
    for day in (date(2027, 1, 25), date(2027, 2, 1), date(2027, 2, 15), date(2027, 2, 22)):
        assert h.services.watch.scan(day).wrote() == 0


def test_without_a_contact_an_agents_only_tracking_issue_is_opened(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path, env={"TRACKING_PROJECT": "TRK"})
    register(h, contact=None)
    register(h, number="05555555", fingerprint="cc" * 32, environment="test", contact=None)
    found = h.services.watch.scan(date(2027, 1, 25))
    assert (found.watched, found.tracking, found.raised) == (1, 1, 0), found.lines
    [issue] = [i for i in fake_jira.issues.values() if i.project_key == "TRK"]
    assert "abonneenummer 01234567" in issue.fields["summary"]
    assert issue.fields["labels"] == ["uzibot", "uzibot-expiry"]
    assert raised_requests(fake_jira) == []
    later = h.services.watch.scan(date(2027, 2, 1))  # 28 days
    assert later.reminders == 1
    [note] = fake_jira.comments(issue.key)
    assert note.public is False and "expires in 28 days" in note.body


def test_after_a_long_outage_one_catch_up_reminder_not_one_per_threshold(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.add_customer("qm:linde", "linde@example.nl")
    h = make_harness(fake_jira, tmp_path)
    register(h)
    h.services.watch.scan(date(2026, 12, 31))
    [key] = raised_requests(fake_jira)
    before = len(fake_jira.comments(key, public=True))
    found = h.services.watch.scan(date(2027, 2, 16))  # 35, 28, 21 and 14 all passed unseen
    assert found.reminders == 1
    assert len(fake_jira.comments(key, public=True)) == before + 1


def test_a_failed_step_is_not_journalled_and_the_next_scan_does_it(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.add_customer("qm:linde", "linde@example.nl")
    h = make_harness(fake_jira, tmp_path)
    register(h)
    fake_jira.outage = True
    found = h.services.watch.scan(date(2026, 12, 31))
    assert (found.failed, found.raised) == (1, 0)
    assert steps_with_prefix(h.services.store, "watch:") == {}
    fake_jira.outage = False
    assert h.services.watch.scan(date(2026, 12, 31)).raised == 1
    assert len(raised_requests(fake_jira)) == 1


def test_the_bot_turns_the_raised_request_into_a_renewal_case(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.add_customer("qm:linde", "linde@example.nl")
    h = make_harness(fake_jira, tmp_path)
    register(h)
    h.services.watch.scan(date(2026, 12, 31))
    [key] = raised_requests(fake_jira)
    assert h.drain() == 1
    [link] = fake_jira.links(key)
    tracking = link.source if link.target == key else link.target
    case = fake_jira.property(tracking, "uzibot")
    assert case["workflow"] == "renewal" and case["abonneenummer"] == LINDE
    assert case["deactivation_date"] == "2027-02-22" and case["latest_start"] == "2027-02-01"
    issue = fake_jira.issue(tracking)
    assert issue.fields["duedate"] == "2027-02-22" and issue.fields["priority"] == "Medium"
    [ack] = [c for c in fake_jira.comments(key, public=True) if "Dank u wel" in c.body]
    assert "Volgens onze gegevens verloopt het huidige UZI-servercertificaat" in ack.body
    assert "op 1 maart 2027" in ack.body and "op 22 februari 2027" in ack.body
    assert "Voeg dan uw huidige UZI-servercertificaat toe" not in ack.body
    [note] = fake_jira.comments(key, public=False)
    assert "dates from the certificate registry" in note.body
    writes = h.writes()
    assert h.services.watch.scan(date(2026, 12, 31)).wrote() == 0
    assert h.drain() == 0 and h.writes() == writes


def test_a_request_resolved_in_jira_gets_no_more_reminders(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.add_customer("qm:linde", "linde@example.nl")
    h = make_harness(fake_jira, tmp_path)
    register(h)
    h.services.watch.scan(date(2026, 12, 31))
    [key] = raised_requests(fake_jira)
    fake_jira.set_status(key, "Resolved")  # e.g. the vendor's certificate reached the desk by mail
    writes = h.writes()
    found = h.services.watch.scan(date(2027, 1, 25))  # 35 days
    assert (found.closed, found.reminders, found.wrote()) == (1, 0, 0)
    assert h.writes() == writes
    reads = fake_jira.count("GET")
    for day in (date(2027, 2, 1), date(2027, 2, 8), date(2027, 2, 21)):
        assert h.services.watch.scan(day).wrote() == 0
    assert fake_jira.count("GET") == reads  # the journal remembers: Jira is not asked again


def test_a_renewal_request_the_practice_opened_itself_is_adopted_not_duplicated(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.add_customer("qm:linde", "linde@example.nl")
    h = make_harness(fake_jira, tmp_path)
    register(h)
    own = fake_jira.seed_request(
        summary="Certificaat vernieuwen",
        fields={"customfield_10051": "1234567"},  # typed without the leading zero
        reporter_account_id="qm:linde",
        request_type=("103", "UZI-servercertificaat vernieuwen"),
    )
    other = fake_jira.seed_request(
        fields={"customfield_10051": "07654321"},
        request_type=("103", "UZI-servercertificaat vernieuwen"),
    )
    assert other.key != own.key
    found = h.services.watch.scan(date(2026, 12, 31))
    assert (found.adopted, found.raised) == (1, 0), found.lines
    assert len(fake_jira.issues) == 2  # nothing raised
    later = h.services.watch.scan(date(2027, 1, 25))
    assert later.reminders == 1
    [reminder] = [c for c in fake_jira.comments(own.key) if "Een herinnering" in c.body]
    assert reminder.public


def test_a_contact_jira_does_not_know_gives_an_agents_only_issue_with_the_reason(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    register(h, contact="qm:left-the-practice")  # no such customer on the site
    register(h, number="07654321", fingerprint="dd" * 32, contact="weg@example.nl")
    found = h.services.watch.scan(date(2026, 12, 31))
    assert (found.tracking, found.raised, found.failed) == (2, 0, 0), found.lines
    issues = [i for i in fake_jira.issues.values() if "uzibot-expiry" in i.fields["labels"]]
    texts = sorted(adf_to_text(i.fields["description"]) for i in issues)
    assert texts[0].startswith("Jira refused to raise the request on behalf of qm:left-the")
    assert texts[1].startswith("The contact weg@example.nl is not a customer of the service")
    assert raised_requests(fake_jira) == []
    assert h.services.watch.scan(date(2026, 12, 31)).wrote() == 0


def test_a_renewal_asked_for_in_another_request_type_is_adopted_while_it_is_open(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.add_customer("qm:linde", "linde@example.nl")
    h = make_harness(fake_jira, tmp_path)
    register(h)
    words = load_fixture("renewal-overig-words")  # request type "Overig", abonneenummer 01234567
    h.seed(words)
    h.post(words, delivery_id="words")
    h.drain()
    key = words["issue"]["key"]
    found = h.services.watch.scan(date(2026, 12, 31))
    assert (found.adopted, found.raised) == (1, 0), found.lines
    assert raised_requests(fake_jira) == [key]  # only the practice's own request
