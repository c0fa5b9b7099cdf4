"""Renewals end to end per delivery mode, too late, mismatch and private key (fake Jira state)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.certs.registry import certificates_for
from tests import certgen as g
from tests.fakejira import FakeJira
from tests.harness import Harness, load_fixture, make_harness

ISSUED = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
ON_TIME = datetime(2027, 6, 1, 10, 0, tzinfo=UTC)  # DigiD off 25 May 2027, start by 4 May
TOO_LATE = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)  # DigiD off 3 Dec 2026; today 28 Nov
RENEWAL_TITLES = ["Controle door DICTU", "Vernieuwing afronden"]


def run(h: Harness, name: str, files: dict[str, bytes]) -> dict[str, Any]:
    payload = load_fixture(name)
    h.seed(payload, attachments=files)
    assert h.post(payload, delivery_id=name).status_code == 202
    assert h.drain() == 1
    assert h.services.store.get(name).status == "done"  # type: ignore[union-attr]
    key = payload["issue"]["key"]
    links = h.fake.links(key)
    assert len(links) == 1
    tracking = links[0].source if links[0].target == key else links[0].target
    issue = h.fake.issue(tracking)
    return {
        "tracking": tracking,
        "due": str(issue.fields.get("duedate")) if issue.fields.get("duedate") else None,
        "priority": issue.fields.get("priority"),
        "facts": h.fake.property(tracking, "uzibot"),
        "subtasks": sorted(h.fake.issue(s).fields["summary"] for s in h.fake.subtasks(tracking)),
        "public": [c.body for c in h.fake.comments(key, public=True)],
        "internal": [c.body for c in h.fake.comments(key, public=False)],
    }


def leaf(not_after: datetime, abonneenummer: str = "01234567") -> bytes:
    return g.pem(g.server_cert(not_before=ISSUED, not_after=not_after, abonneenummer=abonneenummer))


def test_promedico_self_upload_on_time(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    case = run(h, "renewal-promedico", {"10811": leaf(ON_TIME)})
    assert case["due"] == "2027-05-25" and case["priority"] == "Medium"
    assert case["subtasks"] == sorted(
        [*RENEWAL_TITLES, "Nieuw UZI-servercertificaat ontvangen (praktijk uploadt zelf)"]
    )
    assert case["facts"]["deadline_state"] == "on_time"
    assert case["facts"]["certificate"]["deactivation_date"] == "2027-05-25"
    [public] = case["public"]
    assert "beheer.pharmeon.nl" in public and "Opslaan en afronden" in public
    assert "op 25 mei 2027 automatisch tijdelijk uit" in public
    assert "uiterlijk op 4 mei 2027" in public
    assert "ongeveer drie weken" in public
    [note] = case["internal"]
    assert "Promedico ASP" in note and case["tracking"] in note
    registered = certificates_for(h.services.store, "01234567")
    assert [(r.status, r.source_request) for r in registered] == [("current", "UZO-431")]


def test_vendor_delivered_too_late_says_what_patients_can_do(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    case = run(h, "renewal-cgm-huisarts", {"10812": leaf(TOO_LATE, "07654321")})
    assert case["due"] == "2026-12-03" and case["priority"] == "Highest"
    assert "Nieuw UZI-servercertificaat ontvangen (via CGM Huisarts)" in case["subtasks"]
    [public] = case["public"]
    assert "CGM Huisarts stuurt het nieuwe certificaat rechtstreeks naar ons" in public
    assert "Opslaan en afronden" not in public
    assert "waarschijnlijk niet vóór 3 december 2026 klaar" in public
    assert "Met hun gebruikersnaam en wachtwoord lukt inloggen wel." in public
    assert "oude koppelmethode" in public
    assert r"state too\_late" in case["internal"][0]
    assert "latest start was 2026\\-11\\-12" in case["internal"][0]


def test_bricks_too_late_has_no_fallback(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    case = run(h, "renewal-bricks", {"10814": leaf(TOO_LATE, "00456789")})
    [public] = case["public"]
    assert "Voor Bricks is er geen andere manier om in te loggen" in public
    assert "gebruikersnaam en wachtwoord" not in public
    assert case["priority"] == "Highest"


def test_unknown_vendor_is_asked_which_system(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    case = run(h, "renewal-unknown-vendor", {})
    [public] = case["public"]
    assert "welk HIS of AIS u gebruikt" in public
    assert case["due"] is None  # no certificate, no dates; priority stays the site default
    assert case["facts"].get("certificate") is None
    assert "unknown" in case["internal"][0].lower()


def test_certificate_of_another_abonneenummer(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    case = run(h, "renewal-promedico", {"10811": leaf(ON_TIME, "09999999")})
    [public] = case["public"]
    assert "dit certificaat hoort bij abonneenummer 09999999" in public
    assert "Abonneenummer (OIN) gewijzigd" in public
    assert "DIFFERS from the typed 01234567" in case["internal"][0]
    assert case["facts"]["certificate"]["verdict"] == "abonneenummer_mismatch"


def test_private_key_is_never_echoed_and_agents_delete_it(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    key_pem = g.key_pem()
    case = run(h, "renewal-sanday-key", {"10815": leaf(ON_TIME), "10816": key_pem})
    assert len(case["public"]) == 2 and len(case["internal"]) == 2
    warning = next(b for b in case["public"] if "nooit een privésleutel" in b)
    assert "server.key" in warning and "Sanday" in warning
    delete = next(b for b in case["internal"] if "PRIVATE KEY was uploaded" in b)
    assert "server.key" in delete and "10816" in delete
    key_body = b"".join(key_pem.splitlines()[1:-1]).decode()
    everything = json.dumps(case) + json.dumps(
        [r.__dict__ for r in certificates_for(h.services.store, "01234567")]
    )
    assert key_body[:40] not in everything and "PRIVATE KEY-----" not in everything
    with h.services.store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT result FROM effects").fetchall()
    assert key_body[:40] not in json.dumps([r[0] for r in stored])


def test_attachments_are_fetched_from_the_site_by_id_only(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture("renewal-promedico")
    payload["issue"]["fields"]["attachment"][0]["content"] = "https://evil.example/steal"
    h.seed(payload, attachments={"10811": leaf(ON_TIME)})
    h.post(payload, delivery_id="evil")
    h.drain()
    fetched = [r.path for r in fake_jira.request_log if "attachment" in r.path]
    assert fetched == ["/rest/api/3/attachment/content/10811"]
    assert h.services.store.get("evil").status == "done"  # type: ignore[union-attr]
