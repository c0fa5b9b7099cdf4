"""The practice-change plan per kind and vendor, the triage note, and webhook convergence."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from bot.context import HandlerContext
from bot.mappings import load_mappings
from bot.plan import TRACKING_KEY_TOKEN, CaseSpec, CommentSpec, Plan
from bot.router import Router
from handlers import practice_change, triage
from handlers.practice_change import plan_practice_change
from handlers.routing import decide_route
from handlers.triage import plan_triage
from tests.plan_support import FIXTURES, handler_context, load_event
from tests.test_markup import live_markup

BASE_TITLES = {
    "digid_off": "DigiD-koppeling uitschakelen",
    "dictu_approval": "Goedkeuring DICTU",
    "digid_on": "DigiD-koppeling weer inschakelen",
}
# Sentences the public reply holds only in some situations.
UPLOAD = "Klik tot slot op *Opslaan en afronden*"
FROM_VENDOR = "stuurt het daarna rechtstreeks naar ons"
WE_CONTACT = "wij nemen daarover contact met u op"
NO_ALTERNATIVE = (
    "is er helaas geen andere manier om in te loggen of om nieuwe patiënten te koppelen"
)
IF_BRICKS = "Werkt uw praktijk met Bricks?"
PASSWORD = "gebruikersnaam en wachtwoord"
OLD_LINKING = "oude koppelmethode"
CERTIFICATE = "*Uw UZI-servercertificaat*"
NAME_MEANS_NUMBER = "*Is uw abonneenummer ook veranderd?*"
VENDOR_QUESTION = "*Welk HIS of AIS gebruikt u?*"
ALWAYS = (
    "Goedendag,",
    "DigiD-koppeling van uw praktijk tijdelijk uit",
    "niet te vermijden",
    "DICTU",
    "beheer.pharmeon.nl, kies *DigiD Aanvragen* en bekijk de stap *Gegevens invullen*",
    "zodra DigiD weer werkt",
    "Servicedesk Uw Zorg Online",
)

SCENARIOS = [
    # fixture, key, kind, vendor, kind phrase in the reply
    ("abonneenummer-promedico", "UZO-400", "abonneenummer", "Promedico ASP"),
    ("abonneenummer-cgm-huisarts", "UZO-401", "abonneenummer", "CGM Huisarts"),
    ("abonneenummer-bricks", "UZO-402", "abonneenummer", "Bricks"),
    ("abonneenummer-healthconnected", "UZO-403", "abonneenummer", "HealthConnected"),
    ("abonneenummer-misspelled-unmapped", "UZO-415", "abonneenummer", "Sanday"),
    ("abonneenummer-unknown-vendor", "UZO-413", "abonneenummer", None),
    ("practice_name-microhis", "UZO-404", "practice_name", "MicroHIS"),
    ("practice_name-promedico", "UZO-405", "practice_name", "Promedico ASP"),
    ("practice_name-bricks", "UZO-406", "practice_name", "Bricks"),
    ("practice_name-vendor-in-text", "UZO-414", "practice_name", "Promedico ASP"),
    ("contract_holder-cgm-apotheek", "UZO-407", "contract_holder", "CGM Apotheek"),
    ("contract_holder-omnihis", "UZO-408", "contract_holder", "OmniHis"),
    ("contract_holder-healthconnected", "UZO-409", "contract_holder", "HealthConnected"),
    ("card_holder-sanday", "UZO-410", "card_holder", "Sanday"),
    ("card_holder-bricks", "UZO-411", "card_holder", "Bricks"),
    ("card_holder-cgm-huisarts", "UZO-412", "card_holder", "CGM Huisarts"),
]
KIND_PHRASES = {
    "abonneenummer": "de wijziging van uw abonneenummer",
    "practice_name": "de wijziging van de naam van uw praktijk",
    "contract_holder": "de wijziging van de contracthouder",
    "card_holder": "de wijziging van de UZI-pashouder",
}
NEW_CERTIFICATE_TITLES = {
    "Promedico ASP": "Nieuw UZI-servercertificaat: praktijk uploadt zelf via beheer.pharmeon.nl",
    "CGM Huisarts": "Nieuw UZI-servercertificaat: ontvangen van CGM Huisarts",
    "HealthConnected": "Nieuw UZI-servercertificaat: ontvangen van HealthConnected",
    "Sanday": "Nieuw UZI-servercertificaat: ontvangen van Sanday",
    "Bricks": "Nieuw UZI-servercertificaat: aanlevering afstemmen met de praktijk (Bricks)",
    None: "Nieuw UZI-servercertificaat: leverancier navragen bij de praktijk",
}


@pytest.fixture(scope="module")
def ctx() -> HandlerContext:
    return handler_context(load_mappings(), today=date(2025, 6, 3))


def plan_for(name: str, ctx: HandlerContext) -> Plan:
    plan = plan_practice_change(load_event(name), ctx)
    assert plan is not None, name
    return plan


def parts(plan: Plan) -> tuple[CaseSpec, CommentSpec, CommentSpec]:
    assert plan.case is not None and len(plan.comments) == 2
    ack, note = plan.comments
    return plan.case, ack, note


@pytest.mark.parametrize(("fixture", "key", "kind", "vendor"), SCENARIOS)
def test_plan_per_kind_and_vendor(
    ctx: HandlerContext, fixture: str, key: str, kind: str, vendor: str | None
) -> None:
    plan = plan_for(f"practice_change-{fixture}", ctx)
    case, ack, note = parts(plan)
    assert plan.handler == "practice_change"
    assert (case.workflow, case.request_key) == ("practice_change", key)
    assert case.labels == (
        "uzibot",
        "uzibot-practice-change",
        "uzibot-kind-" + kind.replace("_", "-"),
    )
    assert case.due_date is None
    assert case.facts["kind"] == kind and case.facts["vendor"] == vendor
    assert case.facts["request_key"] == key and case.facts["workflow"] == "practice_change"

    titles = dict(BASE_TITLES)
    if kind == "abonneenummer":
        titles["new_certificate"] = NEW_CERTIFICATE_TITLES[vendor]
        expected = ["digid_off", "new_certificate", "dictu_approval", "digid_on"]
    else:
        expected = ["digid_off", "dictu_approval", "digid_on"]
    assert [s.slug for s in case.subtasks] == expected
    assert {s.slug: s.summary for s in case.subtasks} == titles

    assert (ack.slug, ack.issue_key, ack.public) == ("practice_change:ack", key, True)
    assert (note.slug, note.issue_key, note.public) == ("practice_change:note", key, False)
    body = ack.body
    for sentence in ALWAYS:
        assert sentence in body
    assert KIND_PHRASES[kind] in body
    bricks = vendor == "Bricks"
    promedico = vendor == "Promedico ASP"
    assert (NO_ALTERNATIVE in body) is bricks
    assert (PASSWORD in body) is not bricks
    assert (OLD_LINKING in body) is not bricks
    assert (IF_BRICKS in body) is (vendor is None)
    assert (CERTIFICATE in body) is (kind == "abonneenummer")
    assert (UPLOAD in body) is (kind == "abonneenummer" and promedico)
    assert (FROM_VENDOR in body) is (
        kind == "abonneenummer" and vendor not in (None, "Bricks") and not promedico
    )
    assert (WE_CONTACT in body) is (kind == "abonneenummer" and bricks)
    assert (NAME_MEANS_NUMBER in body) is (kind == "practice_name")
    assert (VENDOR_QUESTION in body) is (vendor is None)

    assert TRACKING_KEY_TOKEN in note.body
    assert f"practice data change ({ctx.mappings.kinds[kind].label_en})" in note.body  # type: ignore[index]
    assert (vendor or "unknown: the practice was asked which HIS/AIS it uses") in note.body
    assert TRACKING_KEY_TOKEN not in body


def test_exact_plan_for_promedico_abonneenummer(ctx: HandlerContext) -> None:
    plan = plan_for("practice_change-abonneenummer-promedico", ctx)
    case, ack, note = parts(plan)
    assert plan.summary == (
        "practice change (abonneenummer, Promedico ASP) for UZO-400: "
        "case with 4 sub-tasks, public reply, internal note"
    )
    assert case.summary == "Praktijkwijziging abonneenummer: Huisartsenpraktijk De Linde (UZO-400)"
    assert case.facts == {
        "workflow": "practice_change",
        "request_key": "UZO-400",
        "kind": "abonneenummer",
        "decided_by": "request_type",
        "vendor": "Promedico ASP",
        "vendor_delivery": "self_upload",
        "abonneenummer": "01234567",
        "practice_name": "Huisartsenpraktijk De Linde",
        "reporter": "qm:6f1c2a7e-3b54-4d0e-9a1f-000000000001:5e6f0001-1d2e-4f3a-8b9c-a1b2c3d40001",
        "old_value": "01234567",
        "new_value": "07654321",
    }
    assert case.description.startswith(
        "Practice data change: abonneenummer, reported in portal request UZO-400.\n\n"
        "- Practice name: Huisartsenpraktijk De Linde\n- Abonneenummer: 01234567\n"
    )
    certificate = case.subtasks[1]
    assert "uploads it itself at beheer.pharmeon.nl" in certificate.description
    assert "\\" not in case.description + certificate.description  # plain text, no escapes
    assert "Open stap 4, *UZI-servercertificaat aanvragen*" in ack.body
    assert note.body.splitlines()[:3] == [
        "*uzibot: practice data change (abonneenummer)*",
        "* Recognised by: the request type",
        '** request type "Abonneenummer \\(OIN\\) gewijzigd" \\(102\\) maps to practice\\_change '
        "\\(abonneenummer\\)",
    ]
    for line in (
        "* Vendor: Promedico ASP",
        "* Practice name (Praktijknaam): Huisartsenpraktijk De Linde",
        "* Abonneenummer: 01234567",
        "* Old value (Oude waarde): 01234567",
        "* New value (Nieuwe waarde): 07654321",
        f"* Tracking issue: {TRACKING_KEY_TOKEN}",
    ):
        assert line in note.body.splitlines()
    assert "*Please check*" not in note.body


def test_vendor_delivered_certificate_needs_nothing_from_the_practice(ctx: HandlerContext) -> None:
    _, ack, _ = parts(plan_for("practice_change-abonneenummer-cgm-huisarts", ctx))
    said = "vraagt u aan samen met CGM Huisarts. CGM Huisarts stuurt het daarna rechtstreeks"
    assert said in ack.body
    assert "Opslaan en afronden" not in ack.body and "DigiD Aanvragen*.\n" not in ack.body


def test_bricks_says_there_is_no_alternative(ctx: HandlerContext) -> None:
    _, ack, note = parts(plan_for("practice_change-card_holder-bricks", ctx))
    assert "Uw praktijk werkt met Bricks." in ack.body
    assert "no other login or linking method" in note.body
    assert "Handleiding" not in ack.body


def test_unknown_vendor_is_asked_and_noted(ctx: HandlerContext) -> None:
    case, ack, note = parts(plan_for("practice_change-abonneenummer-unknown-vendor", ctx))
    assert "Welk HIS of AIS" in ack.body and "hangt af van het HIS of AIS" in ack.body
    assert "* Vendor: unknown: the practice was asked which HIS/AIS it uses" in note.body
    assert case.facts["vendor"] is None and case.facts["vendor_delivery"] is None
    assert "The vendor is unknown" in case.subtasks[1].description


def test_vendor_named_only_in_the_text(ctx: HandlerContext) -> None:
    case, ack, note = parts(plan_for("practice_change-practice_name-vendor-in-text", ctx))
    assert case.facts["vendor"] == "Promedico ASP"
    assert "named in the request text" in note.body
    assert VENDOR_QUESTION not in ack.body


def test_oin_instead_of_abonneenummer_is_flagged(ctx: HandlerContext) -> None:
    case, _, note = parts(plan_for("practice_change-abonneenummer-healthconnected", ctx))
    assert "*Please check*" in note.body
    assert "looks like an OIN, not an abonneenummer" in note.body
    assert "is not documented" in note.body
    assert "Nieuwe waarde is empty." in note.body
    assert case.facts["abonneenummer"] == "00000009123456780000"


def test_misspelled_unmapped_request_is_recognised_by_its_words(ctx: HandlerContext) -> None:
    case, _, note = parts(plan_for("practice_change-abonneenummer-misspelled-unmapped", ctx))
    assert case.facts["decided_by"] == "text"
    assert "* Recognised by: the words of the request" in note.body
    assert 'request type "Overig" \\(105\\) is not mapped' in note.body


def test_practice_name_note_asks_about_the_abonneenummer(ctx: HandlerContext) -> None:
    _, _, note = parts(plan_for("practice_change-practice_name-microhis", ctx))
    assert "usually means a new abonneenummer" in note.body


def test_markup_in_customer_values_is_shown_as_text(ctx: HandlerContext) -> None:
    case, ack, note = parts(plan_for("practice_change-markup-injection", ctx))
    escaped_name = "\\[klik hier\\|http\\[:\\]//evil.example\\]\\{color:red\\}x\\{color\\}"
    assert escaped_name in ack.body and escaped_name in note.body
    assert "\\[\\~accountid:123\\]" in note.body
    benign = parts(plan_for("practice_change-practice_name-microhis", ctx))
    for hostile, plain in ((ack, benign[1]), (note, benign[2])):
        assert set(live_markup(hostile.body)) <= set(live_markup(plain.body))
        for raw in ("[klik", "{color", "[~accountid", "{code}", "!http"):
            assert not re.search(r"(?<!\\)" + re.escape(raw), hostile.body), raw
    texts = [case.summary, case.description] + [s.summary + s.description for s in case.subtasks]
    assert all("http://" not in text and "\n{" not in text for text in texts)
    assert "[klik hier|http[:]//evil.example]" in case.summary


def test_plan_is_deterministic(ctx: HandlerContext) -> None:
    name = "practice_change-contract_holder-omnihis"
    assert plan_for(name, ctx) == plan_for(name, ctx)


def test_issue_updated_converges_on_the_same_plan(ctx: HandlerContext) -> None:
    created = plan_for("practice_change-abonneenummer-promedico", ctx)
    updated = plan_for("practice_change-abonneenummer-promedico-updated", ctx)
    assert updated == created


def test_comment_created_converges_on_the_same_plan(ctx: HandlerContext) -> None:
    created_event = load_event("practice_change-abonneenummer-promedico")
    comment = load_event("practice_change-abonneenummer-promedico-comment")
    assert comment.comment is not None and comment.comment.public
    assert comment.actor_type == "customer"
    # Jira sends only a few issue fields with comment events: nothing to decide on, no new case.
    assert plan_practice_change(comment, ctx) is None
    # Once the worker has re-read the issue, the plan is the one of the creation.
    enriched = comment.model_copy(
        update={
            name: getattr(created_event, name)
            for name in ("fields", "description", "request_type_id", "request_type_name", "labels")
        }
    )
    assert plan_practice_change(enriched, ctx) == plan_for(
        "practice_change-abonneenummer-promedico", ctx
    )


def test_routers_declare_their_events() -> None:
    assert practice_change.router.routes() == {
        ("jira:issue_created", "practice_change"),
        ("jira:issue_updated", "practice_change"),
        ("comment_created", "practice_change"),
    }
    assert triage.router.routes() == {
        ("jira:issue_created", "triage"),
        ("jira:issue_updated", "triage"),
    }


@pytest.mark.parametrize(
    "fixture",
    ["question-vraag-stellen", "renewal-request-type", "undecided-nothing", "undecided-ambiguous"],
)
def test_practice_change_ignores_other_requests(ctx: HandlerContext, fixture: str) -> None:
    assert plan_practice_change(load_event(fixture), ctx) is None


@pytest.mark.parametrize(
    "update",
    [
        {"labels": ("uzibot", "uzibot-practice-change")},
        {"is_subtask": True},
        {"project_key": "ELSE"},
    ],
)
def test_own_issues_and_other_projects_are_left_alone(
    ctx: HandlerContext, update: dict[str, object]
) -> None:
    event = load_event("practice_change-abonneenummer-promedico").model_copy(update=update)
    assert plan_practice_change(event, ctx) is None
    assert plan_triage(event, ctx) is None


def test_triage_note_when_nothing_decides(ctx: HandlerContext) -> None:
    plan = plan_triage(load_event("undecided-nothing"), ctx)
    assert plan is not None
    assert (plan.handler, plan.case) == ("triage", None)
    (note,) = plan.comments
    assert (note.slug, note.issue_key, note.public) == ("triage:undecided", "UZO-417", False)
    assert "* Request type: Overig \\(105\\) (not mapped in request\\_types.toml)" in note.body
    assert "* Soort wijziging: (empty)" in note.body
    assert "* Kinds named in the words: none" in note.body


def test_triage_lists_the_kinds_found(ctx: HandlerContext) -> None:
    plan = plan_triage(load_event("undecided-ambiguous"), ctx)
    assert plan is not None
    body = plan.comments[0].body
    assert "* Kinds named in the words: practice name, contract holder" in body
    assert "(generic: the field and the words decide)" in body


@pytest.mark.parametrize(
    "fixture",
    [
        "question-vraag-stellen",
        "renewal-request-type",
        "practice_change-abonneenummer-promedico",
        "practice_change-card_holder-sanday",
    ],
)
def test_triage_stays_quiet_when_something_decides(ctx: HandlerContext, fixture: str) -> None:
    assert plan_triage(load_event(fixture), ctx) is None


def test_composed_router_gives_one_plan_per_request(ctx: HandlerContext) -> None:
    router = Router(practice_change.router, triage.router, decide=decide_route)
    for path in sorted(FIXTURES.glob("*.json")):
        event = load_event(path.stem)
        handlers = {plan.handler for plan in router.dispatch(event, ctx)}
        if path.stem.startswith("undecided-"):
            assert handlers == {"triage"}
        elif path.stem.startswith("practice_change-") and not path.stem.endswith("-comment"):
            assert handlers == {"practice_change"}
        else:
            assert handlers == set(), path.stem


def test_the_plan_contract_has_one_home() -> None:
    """The placeholder, label, property name and key pattern are defined in bot/plan.py only."""
    root = Path(__file__).resolve().parents[1]
    for path in [*root.glob("bot/**/*.py"), *root.glob("handlers/*.py")]:
        if path.name == "plan.py" and path.parent.name == "bot":
            continue
        source = path.read_text(encoding="utf-8")
        for definition in (
            TRACKING_KEY_TOKEN,
            "CASE_LABEL =",
            "CASE_PROPERTY =",
            "[A-Z][A-Z0-9_]*-",
        ):
            assert definition not in source, (path.relative_to(root), definition)
