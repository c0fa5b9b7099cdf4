"""The watch's raise against the fake Jira: the site's renewal type, and a lost answer settled."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.inbox.claims import steps_with_prefix
from bot.sandbox import fields, portal, site_api
from bot.sandbox.faults import Fault
from bot.wiring import resolve_request_types
from tests.fakejira import FakeJira
from tests.harness import make_harness
from tests.test_watch_app import LINDE, raised_requests, register

RAISE = r"/rest/servicedeskapi/request$"
OTHER_SITE = (
    ("101", "Wijziging praktijkgegevens"),
    ("102", "Abonneenummer (OIN) gewijzigd"),
    ("103", "Vragen over de factuur"),  # the bundled example's renewal id is another type here
    ("104", "Vraag stellen"),
    ("203", "UZI-servercertificaat vernieuwen"),
)


@pytest.fixture
def other_site(monkeypatch: pytest.MonkeyPatch) -> None:
    """A site whose renewal request type has another id than the bundled mappings, same name."""
    for module in (site_api, portal, fields):
        monkeypatch.setattr(module, "REQUEST_TYPES", OTHER_SITE)


def request_type_of(fake: FakeJira, key: str) -> str:
    return str(fake.issue(key).fields["customfield_10010"]["requestType"]["id"])


@pytest.mark.usefixtures("other_site")
def test_the_watch_raises_with_the_request_type_resolved_at_start(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.add_customer("qm:linde", "linde@example.nl")
    h = make_harness(fake_jira, tmp_path)
    notes = resolve_request_types(h.services, h.settings)  # what `uzibot worker` does at start
    renewal = "'UZI-servercertificaat vernieuwen'"
    assert f"request type {renewal} resolved by name to id 203 (was 103)" in notes
    register(h)
    found = h.services.watch.scan(date(2026, 12, 31))
    assert (found.raised, found.failed) == (1, 0), found.lines
    [key] = raised_requests(fake_jira)
    assert request_type_of(fake_jira, key) == "203"
    assert h.drain() == 1  # the worker takes it as a renewal: the resolved rule matches 203
    [link] = fake_jira.links(key)
    tracking = link.source if link.target == key else link.target
    assert fake_jira.property(tracking, "uzibot")["workflow"] == "renewal"


@pytest.mark.usefixtures("other_site")
def test_before_the_site_was_asked_the_watch_raises_by_name_not_by_the_example_id(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.add_customer("qm:linde", "linde@example.nl")
    h = make_harness(fake_jira, tmp_path)  # no start-up resolution (e.g. the site was down)
    register(h)
    found = h.services.watch.scan(date(2026, 12, 31))
    assert (found.raised, found.failed) == (1, 0), found.lines
    [key] = raised_requests(fake_jira)
    assert request_type_of(fake_jira, key) == "203"


@pytest.mark.usefixtures("other_site")
def test_an_explicit_expiry_request_type_setting_still_wins(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.add_customer("qm:linde", "linde@example.nl")
    h = make_harness(fake_jira, tmp_path, env={"EXPIRY_REQUEST_TYPE": "104"})
    resolve_request_types(h.services, h.settings)
    register(h)
    h.services.watch.scan(date(2026, 12, 31))
    [key] = raised_requests(fake_jira)
    assert request_type_of(fake_jira, key) == "104"


def test_a_lost_answer_to_the_raise_is_adopted_not_raised_twice(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.add_customer("qm:linde", "linde@example.nl")
    h = make_harness(fake_jira, tmp_path)
    register(h)
    fake_jira.inject(Fault.lost_response(method="POST", path=RAISE))
    first = h.services.watch.scan(date(2026, 12, 31))
    assert (first.raised, first.failed) == (0, 1), first.lines
    [key] = raised_requests(fake_jira)  # Jira made it; the bot never heard
    assert steps_with_prefix(h.services.store, "watch:") == {}
    journal = h.services.store.effect(f"request:expiry:{LINDE}:{'aa' * 8}")
    assert journal is not None and journal[0] == "intent"
    posts = fake_jira.count("POST")
    again = h.services.watch.scan(date(2026, 12, 31))
    assert (again.raised, again.adopted, again.failed) == (1, 0, 0), again.lines
    assert raised_requests(fake_jira) == [key]  # found in Jira, not raised a second time
    assert fake_jira.count("POST") == posts
    [(state, outcome)] = steps_with_prefix(h.services.store, "watch:").values()
    assert state == "done" and outcome["key"] == key and outcome["kind"] == "request"
    assert h.drain() == 1  # handed to the worker like a request it raised: the case is made
    assert len(fake_jira.links(key)) == 1
    assert h.services.watch.scan(date(2026, 12, 31)).wrote() == 0


def test_a_lost_answer_to_a_raise_without_the_extra_fields_is_found_by_its_summary(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.add_customer("qm:linde", "linde@example.nl")
    h = make_harness(fake_jira, tmp_path)
    register(h)
    # The form refuses the Abonneenummer field: the raise is retried without it, and that
    # answer is lost. The request then cannot be found by its field, only by its summary.
    refusal = {"errorMessage": "Field is not on this request type.", "i18nErrorMessage": {}}
    fake_jira.inject(Fault.http(400, body=refusal, method="POST", path=RAISE))
    fake_jira.inject(Fault.lost_response(method="POST", path=RAISE))
    assert h.services.watch.scan(date(2026, 12, 31)).failed == 1
    [key] = raised_requests(fake_jira)
    assert "customfield_10051" not in fake_jira.issue(key).fields
    again = h.services.watch.scan(date(2026, 12, 31))
    assert (again.raised, again.failed) == (1, 0), again.lines
    assert raised_requests(fake_jira) == [key]


def test_an_intent_whose_request_jira_lacks_is_raised_again(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.add_customer("qm:linde", "linde@example.nl")
    h = make_harness(fake_jira, tmp_path)
    register(h)
    # Refused before Jira saw it; a POST is not retried in-process (it may have been applied).
    fake_jira.inject(Fault.connection_error(method="POST", path=RAISE))
    assert h.services.watch.scan(date(2026, 12, 31)).failed == 1
    assert raised_requests(fake_jira) == []
    again = h.services.watch.scan(date(2026, 12, 31))
    assert (again.raised, again.failed) == (1, 0), again.lines
    assert len(raised_requests(fake_jira)) == 1


def test_a_request_with_the_same_summary_for_another_customer_is_not_taken(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    fake_jira.add_customer("qm:linde", "linde@example.nl")
    fake_jira.add_customer("qm:other", "other@example.nl")
    h = make_harness(fake_jira, tmp_path)
    register(h)
    fake_jira.inject(Fault.lost_response(method="POST", path=RAISE))
    h.services.watch.scan(date(2026, 12, 31))
    [lost] = raised_requests(fake_jira)
    summary = fake_jira.issue(lost).fields["summary"]
    fake_jira.set_status(lost, "Resolved")  # closed meanwhile: no longer an open request
    decoy = fake_jira.seed_request(
        summary=summary,
        reporter_account_id="qm:other",
        request_type=("103", "UZI-servercertificaat vernieuwen"),
    )
    again = h.services.watch.scan(date(2026, 12, 31))
    assert (again.raised, again.failed) == (1, 0), again.lines
    [(_, outcome)] = steps_with_prefix(h.services.store, "watch:").values()
    assert outcome["key"] not in (lost, decoy.key)
