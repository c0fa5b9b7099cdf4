"""The renewal handler: the case, the replies per vendor, the deadlines, who it is for."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.plan import Plan
from handlers import renewal
from handlers.renewal import plan_renewal
from handlers.renewal_values import format_date_nl
from tests.renewal_support import (
    TODAY,
    ack,
    cert,
    comment,
    context,
    event,
    fp16,
    note,
    payload,
    pem_report,
    plan_for,
    slugs,
)

ON_TIME = datetime(2027, 6, 1, 10, 0, tzinfo=UTC)  # off 25 mei, latest 4 mei
TIGHT = datetime(2027, 3, 7, 10, 0, tzinfo=UTC)  # off 28 februari, latest 7 februari
TOO_LATE = datetime(2027, 2, 20, 10, 0, tzinfo=UTC)  # off 13 februari, latest 23 januari
PASSED = datetime(2027, 2, 5, 10, 0, tzinfo=UTC)  # off 29 januari, already passed
TITLES = ("Controle door DICTU", "Vernieuwing afronden")
PATIENT_LOGIN = "Met hun gebruikersnaam en wachtwoord lukt inloggen wel."
MANUAL = "kies in het menu links *Help* en daarna *Handleiding*"
BRICKS = "Voor Bricks is er geen andere manier om in te loggen of om patiënten te koppelen."
CONFIRM = "Zodra de vernieuwing is afgerond, krijgt u daarover bericht in deze melding."


def test_promedico_on_time_case_subtasks_and_numbered_upload_steps() -> None:
    plan = plan_for("renewal-promedico", pem_report(cert(ON_TIME), "uzi-servercertificaat.cer"))
    case = plan.case
    assert case is not None
    assert case.workflow == "renewal" and case.request_key == "UZO-431"
    assert (
        case.summary == "Vernieuwing UZI-servercertificaat: Huisartsenpraktijk De Linde (UZO-431)"
    )
    assert case.labels == ("uzibot", "uzibot-renewal")
    assert (case.due_date, case.priority) == (date(2027, 5, 25), "Medium")
    assert [s.slug for s in case.subtasks] == [
        "receive_certificate",
        "dictu_check",
        "complete_renewal",
    ]
    assert tuple(s.summary for s in case.subtasks) == (
        "Nieuw UZI-servercertificaat ontvangen (praktijk uploadt zelf)",
        *TITLES,
    )
    assert slugs(plan) == ["renewal:ack", "renewal:note"]
    assert comment(plan, "renewal:ack").public and not comment(plan, "renewal:note").public
    body = ack(plan)
    steps = [line for line in body.splitlines() if line.startswith("# ")]
    assert steps == [
        "# Vraag samen met Promedico ASP een nieuw UZI-servercertificaat aan. Promedico ASP zet "
        "het daarna klaar in uw informatiesysteem.",
        "# Log in op beheer.pharmeon.nl als beheerder.",
        "# Kies *DigiD Aanvragen*.",
        "# Ga naar stap 4, *UZI-servercertificaat aanvragen*, en voeg het nieuwe certificaat toe "
        "zoals het scherm aangeeft.",
        "# Klik op *Opslaan en afronden*. Daarmee komt het certificaat bij ons binnen.",
    ]
    assert "verloopt uw huidige UZI-servercertificaat op 1 juni 2027." in body
    assert "op 25 mei 2027 automatisch tijdelijk uit" in body
    assert "uiterlijk op 4 mei 2027 hebben" in body
    assert "ongeveer drie weken" in body
    assert "zodra het nieuwe certificaat bij ons binnen is" in body
    assert CONFIRM in body
    assert PATIENT_LOGIN not in body and BRICKS not in body


def test_case_facts_describe_the_certificate() -> None:
    leaf = cert(ON_TIME)
    case = plan_for("renewal-promedico", pem_report(leaf, "uzi-servercertificaat.cer")).case
    assert case is not None
    facts = case.facts
    assert {k: facts[k] for k in ("workflow", "request_key", "vendor", "delivery")} == {
        "workflow": "renewal",
        "request_key": "UZO-431",
        "vendor": "Promedico ASP",
        "delivery": "self_upload",
    }
    assert (facts["abonneenummer"], facts["practice_name"]) == (
        "01234567",
        "Huisartsenpraktijk De Linde",
    )
    certificate = facts["certificate"]
    assert certificate["uzi_number"] == "123456789"
    assert certificate["fingerprint"].startswith(fp16(leaf))
    assert certificate["not_before"] == "2024-03-01T10:00:00+00:00"
    assert certificate["not_after"] == "2027-06-01T10:00:00+00:00"
    assert (certificate["deactivation_date"], certificate["latest_start"]) == (
        "2027-05-25",
        "2027-05-04",
    )
    assert (certificate["deadline_state"], certificate["verdict"]) == ("on_time", "ok")
    assert (certificate["environment"], certificate["generation"]) == ("production", "G1")
    assert (certificate["role"], certificate["attachment_id"]) == ("current", "10811")
    assert (facts["deactivation_date"], facts["deadline_state"]) == ("2027-05-25", "on_time")
    assert facts["abonneenummer_mismatch"] is False and facts["private_key_uploaded"] is False


def test_vendor_delivered_tight_deadline() -> None:
    plan = plan_for(
        "renewal-cgm-huisarts",
        pem_report(cert(TIGHT, abonneenummer="07654321"), "servercertificaat.crt"),
    )
    assert plan.case is not None
    assert (plan.case.due_date, plan.case.priority) == (date(2027, 2, 28), "High")
    assert (
        plan.case.subtasks[0].summary == "Nieuw UZI-servercertificaat ontvangen (via CGM Huisarts)"
    )
    body = ack(plan)
    assert (
        "Vraag het nieuwe UZI-servercertificaat aan bij CGM Huisarts. Meer hoeft u niet te doen"
        in body
    )
    assert "beheer.pharmeon.nl" not in body
    assert "op 28 februari 2027 automatisch tijdelijk uit" in body
    assert "uiterlijk op 7 februari 2027 hebben" in body
    assert "Die dag is dichtbij." in body
    assert plan.case.facts["abonneenummer"] == "07654321"  # typed 7654321, left-padded
    assert plan.case.facts["certificate"]["abonneenummer_matches"] is True


def test_unknown_vendor_without_certificate_asks_and_gives_no_dates() -> None:
    plan = plan_for("renewal-unknown-vendor")
    assert plan.case is not None
    assert (plan.case.due_date, plan.case.priority) == (None, None)
    assert plan.case.subtasks[0].summary == "Nieuw UZI-servercertificaat ontvangen"
    assert plan.case.facts["certificate"] is None and plan.case.facts["vendor"] is None
    body = ack(plan)
    assert "laten weten welk HIS of AIS u gebruikt" in body
    assert "uiterlijk vier weken voor die vervaldatum bij ons zijn" in body
    assert "Voeg dan uw huidige UZI-servercertificaat toe als bijlage" in body
    assert "nooit de privésleutel" in body
    assert not any(month in body for month in (" 2027", " 2028"))
    assert "unknown: the practice was asked which HIS/AIS it uses" in note(plan)


def test_bricks_too_late_says_so_plainly_with_no_alternative_login() -> None:
    plan = plan_for(
        "renewal-bricks", pem_report(cert(TOO_LATE, abonneenummer="00456789"), "certificaat.pem")
    )
    assert plan.case is not None
    assert (plan.case.due_date, plan.case.priority) == (date(2027, 2, 13), "Highest")
    assert plan.case.subtasks[0].summary == "Nieuw UZI-servercertificaat ontvangen"
    body = ack(plan)
    assert "laten weten hoe het certificaat ons kan bereiken" in body
    assert "uiterlijk op 23 januari 2027 moeten hebben. Die dag is voorbij." in body
    assert "de vernieuwing waarschijnlijk niet vóór 13 februari 2027 klaar is" in body
    assert BRICKS in body
    assert PATIENT_LOGIN not in body and "oude koppelmethode" not in body
    assert "Zodra de vernieuwing klaar is, zetten wij DigiD weer aan." in body
    assert "Too late for a renewal before the deadline" in note(plan)


@pytest.mark.parametrize(
    ("fixture", "filename"),
    [("renewal-promedico", "uzi-servercertificaat.cer"), ("renewal-unknown-vendor", "huidig.cer")],
)
def test_too_late_for_other_vendors_explains_login_and_linking_meanwhile(
    fixture: str, filename: str
) -> None:
    plan = plan_for(fixture, pem_report(cert(TOO_LATE), filename))
    body = ack(plan)
    assert "waarschijnlijk niet vóór 13 februari 2027 klaar" in body
    assert PATIENT_LOGIN in body and "oude koppelmethode" in body and MANUAL in body
    if fixture == "renewal-unknown-vendor":
        # The system is unknown: a Bricks practice must not read that its patients can log in.
        assert "Werkt uw praktijk met Bricks? Dan is er in die periode geen andere manier" in body
    else:
        assert "geen andere manier om in te loggen" not in body
    assert CONFIRM in body


def test_switch_off_day_already_passed_is_told_in_the_past_tense() -> None:
    plan = plan_for(
        "renewal-cgm-huisarts",
        pem_report(cert(PASSED, abonneenummer="07654321"), "servercertificaat.crt"),
    )
    body = ack(plan)
    assert (
        "op 29 januari 2027, is de DigiD-koppeling van uw praktijk automatisch tijdelijk "
        "uitgeschakeld" in body
    )
    assert plan.case is not None and plan.case.priority == "Highest"


@pytest.mark.parametrize(
    ("not_after", "today", "expiry", "off", "latest"),
    [
        # 29 February 2028: the leap day itself is the switch-off day.
        (
            datetime(2028, 3, 7, 10, 0, tzinfo=UTC),
            date(2028, 1, 20),
            "7 maart 2028",
            "29 februari 2028",
            "8 februari 2028",
        ),
        # 22:30 UTC on 31 March is 1 April in Amsterdam (summer time).
        (
            datetime(2027, 3, 31, 22, 30, tzinfo=UTC),
            TODAY,
            "1 april 2027",
            "25 maart 2027",
            "4 maart 2027",
        ),
        # Across the end of February in a common year, and across a year end.
        (
            datetime(2027, 3, 3, 9, 0, tzinfo=UTC),
            TODAY,
            "3 maart 2027",
            "24 februari 2027",
            "3 februari 2027",
        ),
        (
            datetime(2029, 1, 5, 9, 0, tzinfo=UTC),
            date(2028, 11, 1),
            "5 januari 2029",
            "29 december 2028",
            "8 december 2028",
        ),
    ],
)
def test_dutch_dates_around_month_ends(
    not_after: datetime, today: date, expiry: str, off: str, latest: str
) -> None:
    leaf = cert(
        not_after,
        not_before=datetime(2026, 1, 1, tzinfo=UTC)
        if not_after.year > 2028
        else datetime(2025, 1, 1, tzinfo=UTC),
    )
    body = ack(
        plan_for(
            "renewal-promedico", pem_report(leaf, "uzi-servercertificaat.cer", today), today=today
        )
    )
    assert f"verloopt uw huidige UZI-servercertificaat op {expiry}." in body
    assert off in body and latest in body


def test_format_date_nl() -> None:
    assert format_date_nl(date(2027, 3, 12)) == "12 maart 2027"
    assert format_date_nl(date(2028, 2, 29)) == "29 februari 2028"
    assert format_date_nl(datetime(2027, 12, 31, 23, 30, tzinfo=UTC)) == "1 januari 2028"


def test_same_state_same_plan_and_router_registration() -> None:
    report = pem_report(cert(ON_TIME), "uzi-servercertificaat.cer")
    assert plan_for("renewal-promedico", report) == plan_for("renewal-promedico", report)
    data = payload("renewal-promedico")
    data["webhookEvent"], data["issue_event_type_name"] = "jira:issue_updated", "issue_updated"
    again = plan_renewal(event("", data), context(report))
    assert isinstance(again, Plan) and again.case == plan_for("renewal-promedico", report).case
    assert renewal.router.routes() == {(name, "renewal") for name in renewal.HANDLED_EVENTS}


def test_words_decide_for_an_unmapped_request_type() -> None:
    plan = plan_for("renewal-overig-words", pem_report(cert(ON_TIME), "certificaat.cer"))
    assert plan.case is not None and plan.case.facts["decided_by"] == "text"
    assert plan.case.subtasks[0].summary == "Nieuw UZI-servercertificaat ontvangen (via MicroHIS)"


@pytest.mark.parametrize("change", ["subtask", "label", "project", "practice_change"])
def test_not_for_subtasks_bot_issues_other_projects_or_other_workflows(change: str) -> None:
    data = payload("renewal-promedico")
    fields = data["issue"]["fields"]
    if change == "subtask":
        fields["issuetype"]["subtask"] = True
    elif change == "label":
        fields["labels"] = ["uzibot"]
    elif change == "project":
        fields["project"]["key"] = "OTHER"
    else:
        data = payload("practice_change-abonneenummer-promedico")
    assert plan_renewal(event("", data), context()) is None


def test_customer_values_are_escaped() -> None:
    data = payload("renewal-unknown-vendor")
    data["issue"]["fields"]["customfield_10050"] = (
        "*Praktijk* [klik|https://evil.example] {color:red}x{color}"
    )
    body = ack(plan_renewal(event("", data), context()))  # type: ignore[arg-type]
    assert (
        "van \\*Praktijk\\* \\[klik\\|https\\[:\\]//evil.example\\] \\{color:red\\}x\\{color\\} "
        "te vernieuwen" in body
    )
    assert "[klik|" not in body and "https://" not in body
