"""Practice data changes end to end: signed fixture -> real app -> worker -> fake Jira state."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.fakejira import FakeJira
from tests.harness import Harness, load_fixture, make_harness

BASE_TITLES = [
    "DigiD-koppeling uitschakelen",
    "Goedkeuring DICTU",
    "DigiD-koppeling weer inschakelen",
]
KIND_WORDS = {
    "abonneenummer": "wijziging van uw abonneenummer",
    "practice_name": "wijziging van de naam van uw praktijk",
    "contract_holder": "wijziging van de contracthouder",
    "card_holder": "wijziging van de UZI-pashouder",
}
NEW_CERT_TITLE = {
    "self_upload": "Nieuw UZI-servercertificaat: praktijk uploadt zelf via beheer.pharmeon.nl",
    "Bricks": "Nieuw UZI-servercertificaat: aanlevering afstemmen met de praktijk (Bricks)",
    None: "Nieuw UZI-servercertificaat: leverancier navragen bij de praktijk",
}
DELIVERY = {
    "Promedico ASP": "self_upload",
    "CGM Huisarts": "vendor",
    "CGM Apotheek": "vendor",
    "MicroHIS": "vendor",
    "OmniHis": "vendor",
    "Sanday": "vendor",
    "HealthConnected": "vendor",
    "Bricks": "Bricks",
    None: None,
}

CASES = [
    ("practice_change-abonneenummer-promedico", "abonneenummer", "Promedico ASP"),
    ("practice_change-abonneenummer-cgm-huisarts", "abonneenummer", "CGM Huisarts"),
    ("practice_change-abonneenummer-healthconnected", "abonneenummer", "HealthConnected"),
    ("practice_change-abonneenummer-bricks", "abonneenummer", "Bricks"),
    ("practice_change-abonneenummer-unknown-vendor", "abonneenummer", None),
    ("practice_change-abonneenummer-misspelled-unmapped", "abonneenummer", "Sanday"),
    ("practice_change-practice_name-microhis", "practice_name", "MicroHIS"),
    ("practice_change-practice_name-promedico", "practice_name", "Promedico ASP"),
    ("practice_change-practice_name-bricks", "practice_name", "Bricks"),
    ("practice_change-practice_name-vendor-in-text", "practice_name", "Promedico ASP"),
    ("practice_change-contract_holder-cgm-apotheek", "contract_holder", "CGM Apotheek"),
    ("practice_change-contract_holder-omnihis", "contract_holder", "OmniHis"),
    ("practice_change-contract_holder-healthconnected", "contract_holder", "HealthConnected"),
    ("practice_change-card_holder-sanday", "card_holder", "Sanday"),
    ("practice_change-card_holder-bricks", "card_holder", "Bricks"),
    ("practice_change-card_holder-cgm-huisarts", "card_holder", "CGM Huisarts"),
]


def case_of(fake: FakeJira, request_key: str) -> dict[str, Any]:
    """The whole Jira state of one request's case, as plain data."""
    links = fake.links(request_key)
    assert len(links) == 1, f"expected one linked tracking issue, got {links}"
    link = links[0]
    tracking = link.source if link.target == request_key else link.target
    issue = fake.issue(tracking)
    return {
        "tracking": tracking,
        "link_type": link.type_name,
        "labels": issue.fields.get("labels"),
        "property": fake.property(tracking, "uzibot"),
        "subtasks": [fake.issue(k).fields["summary"] for k in fake.subtasks(tracking)],
        "public": [c.body for c in fake.comments(request_key, public=True)],
        "internal": [c.body for c in fake.comments(request_key, public=False)],
    }


def run(h: Harness, name: str, delivery_id: str | None = None) -> dict[str, Any]:
    payload = load_fixture(name)
    h.seed(payload)
    assert h.post(payload, delivery_id=delivery_id or name).status_code == 202
    assert h.drain() == 1
    return payload


@pytest.mark.parametrize(("fixture", "kind", "vendor"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_and_vendor_gives_the_exact_case(
    fake_jira: FakeJira, tmp_path: Path, fixture: str, kind: str, vendor: str | None
) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = run(h, fixture)
    key = payload["issue"]["key"]
    state = case_of(fake_jira, key)
    delivery = DELIVERY[vendor]
    titles = list(BASE_TITLES)
    if kind == "abonneenummer":
        expected_new = (
            NEW_CERT_TITLE.get(delivery) or f"Nieuw UZI-servercertificaat: ontvangen van {vendor}"
        )
        titles.insert(1, expected_new)
    assert state["subtasks"] == titles
    assert state["link_type"] == "Relates"
    assert {"uzibot", "uzibot-practice-change"} <= set(state["labels"])
    prop = state["property"]
    assert prop["workflow"] == "practice_change" and prop["request_key"] == key
    assert prop["kind"] == kind and prop.get("vendor") == vendor
    assert sorted(prop["subtasks"]) == sorted(
        ["digid_off", "dictu_approval", "digid_on"]
        + (["new_certificate"] if kind == "abonneenummer" else [])
    )
    assert len(state["public"]) == 1 and len(state["internal"]) == 1
    public, note = state["public"][0], state["internal"][0]
    assert KIND_WORDS[kind] in public
    assert "DICTU" in public and "DigiD" in public
    if vendor == "Bricks":
        assert "Met Bricks is er helaas geen andere manier om in te loggen" in public
        assert "gebruikersnaam en wachtwoord" not in public
    else:
        assert "gebruikersnaam en wachtwoord" in public
        assert "oude koppelmethode" in public and "Handleiding" in public
    if vendor is None:
        assert "Welk HIS of AIS gebruikt u?" in public
        assert "unknown" in note.lower()
    else:
        assert "Welk HIS of AIS gebruikt u?" not in public
        assert vendor in note
    has_cert_section = "*Uw UZI-servercertificaat*" in public
    assert has_cert_section == (kind == "abonneenummer")
    if kind == "abonneenummer" and delivery == "self_upload":
        assert "beheer.pharmeon.nl" in public and "Opslaan en afronden" in public
    if kind == "abonneenummer" and delivery == "vendor":
        assert f"{vendor} stuurt het daarna rechtstreeks naar ons" in public
        assert "Opslaan en afronden" not in public
    assert state["tracking"] in note and "@@TRACKING_KEY@@" not in note


UNESCAPED = [
    re.compile(r"(?<!\\)\[[^\]\n]*(?<!\\)\|"),  # [text|url] link
    re.compile(r"(?<!\\)\{(color|code|noformat|quote|panel)"),  # macros
    re.compile(r"(?<!\\)\[~"),  # mention
    re.compile(r"https?://"),  # a live URL
    re.compile(r"(?<!\\)![^!\s]+(?<!\\)!"),  # embedded image
    re.compile(r"^h1\.", re.M),  # heading at line start
]


def test_customer_markup_is_shown_as_text_not_rendered(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = run(h, "practice_change-markup-injection")
    state = case_of(fake_jira, payload["issue"]["key"])
    for body in state["public"] + state["internal"]:
        for pattern in UNESCAPED:
            assert not pattern.search(body), (pattern.pattern, body)
    public = state["public"][0]
    assert r"\[klik hier\|http\[:\]//evil.example\]\{color:red\}x\{color\}" in public
    assert r"\[\~accountid:123\]" in state["internal"][0]


def test_replay_and_later_webhooks_create_nothing_new(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = run(h, "practice_change-abonneenummer-promedico", delivery_id="created")
    before = case_of(fake_jira, payload["issue"]["key"])
    writes = h.writes()
    assert h.services.store.requeue("created")
    h.drain()
    for later in (
        "practice_change-abonneenummer-promedico-updated",
        "practice_change-abonneenummer-promedico-comment",
    ):
        assert h.post(load_fixture(later), delivery_id=later).status_code == 202
        assert h.drain() == 1
        assert h.services.store.get(later).status == "done"  # type: ignore[union-attr]
    # The practice's reply (no question, no file) gets the agents one note; the case is as it was.
    assert h.writes() == writes + 1
    note = fake_jira.comments(payload["issue"]["key"], public=False)[-1]
    assert "the practice replied" in str(note.body)
    assert h.services.store.requeue("practice_change-abonneenummer-promedico-comment")
    h.drain()
    assert h.writes() == writes + 1
    after = case_of(fake_jira, payload["issue"]["key"])
    assert {**after, "internal": after["internal"][:-1]} == before


def test_request_budget_per_new_case_and_per_replay(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path, env={"BOT_ACCOUNT_ID": "557058:uzibot-bot"})
    run(h, "practice_change-card_holder-sanday")  # pays the one-time GET /field
    for name in (
        "practice_change-abonneenummer-cgm-huisarts",
        "practice_change-practice_name-microhis",
    ):
        before = fake_jira.count()
        run(h, name, delivery_id=name)
        assert fake_jira.count() - before <= 5
        requests_before, writes_before = fake_jira.count(), fake_jira.count(writes_only=True)
        assert h.services.store.requeue(name)
        h.drain()
        assert fake_jira.count(writes_only=True) == writes_before
        assert fake_jira.count() == requests_before


def test_nothing_decides_gives_only_a_note_for_agents(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = run(h, "undecided-nothing")
    key = payload["issue"]["key"]
    assert fake_jira.links(key) == []
    assert fake_jira.comments(key, public=True) == []
    notes = fake_jira.comments(key, public=False)
    assert len(notes) == 1 and "uzibot" in notes[0].body.lower()
