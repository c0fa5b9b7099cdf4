"""Questions: the help page's common questions answered for the practice's own system.

Pure plans for every common question and three systems, then the real app and the fake Jira:
a question under an unmapped request type, a Bricks practice, a practice with an open case,
and an unclear question (only an internal note). No question ever opens a case.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import mappings as mappings_package
from bot.context import HandlerContext, KnownCase, Route, StepState
from bot.envelope import parse_jira_envelope
from bot.events import Event
from bot.mappings import load_mappings
from bot.plan import Plan
from handlers.classify import Classification, classify
from handlers.question import (
    ANSWER_SLUG,
    AUTO_LABEL,
    NOTE_SLUG,
    UNSURE_SLUG,
    plan_question,
)
from tests.fakejira import FakeJira
from tests.harness import Harness, load_fixture, make_harness
from tests.plan_support import FIXTURES, handler_context, load_event
from tests.test_lifecycle_app import move, open_case, tracking_of
from tests.test_templates import RUN

TODAY = date(2026, 11, 28)
HELP_PAGE = Path(__file__).resolve().parents[2] / "shared" / "domain"
VENDOR_OPTIONS = {"Promedico ASP": "10100", "CGM Huisarts": "10101", "Bricks": "10107"}
SYSTEMS = tuple(VENDOR_OPTIONS)

QUESTIONS = {
    "renewal_succeeded": "Hoe weet ik of de vernieuwing gelukt is?",
    "warning_visible": "Waarom blijft de melding staan terwijl ik het certificaat heb?",
    "patient_login": "Kunnen patiënten nog inloggen?",
    "link_patients": "Hoe koppel ik nieuwe patiënten nu DigiD uit staat?",
    "abonneenummer_check": "Wat is een abonneenummer en hoe controleer ik het?",
    "abonneenummer_changed": "Ons abonneenummer is gewijzigd, wat moet ik doen?",
    "expiry": "Wat gebeurt er als mijn certificaat verloopt?",
    "new_certificate": "Hoe vraag ik een nieuw certificaat aan?",
    "duration": "Hoe lang duurt het voordat alles klaar is?",
}
DELIVERY = {
    "Promedico ASP": "Opslaan en afronden",
    "CGM Huisarts": "CGM Huisarts stuurt het",
    "Bricks": "spreken wij met u af",
}
PASSWORD = "eigen gebruikersnaam en wachtwoord"
NO_WAY = "Met Bricks is er geen andere manier"


def _says(topic: str, system: str) -> tuple[str, ...]:
    """Facts the answer must contain for this question and system."""
    bricks = system == "Bricks"
    off = (NO_WAY, "niet inloggen op het portaal") if bricks else (PASSWORD, "oude koppelmethode")
    return {
        "renewal_succeeded": ("Is de vernieuwing gelukt?", "waarschuwing", "DigiD in te loggen"),
        "warning_visible": ("verdwijnt vanzelf", "vervaldatum van het oude certificaat")
        + ((DELIVERY[system],) if system != "CGM Huisarts" else ("hoeft u zelf niets te doen",)),
        "patient_login": off,
        "link_patients": (
            ("geen andere manier om nieuwe patiënten te koppelen",)
            if bricks
            else ("oude koppelmethode via " + system, "*Handleiding*")
        ),
        "abonneenummer_check": ("UZI-register", "*Gegevens invullen*", "beheer.pharmeon.nl"),
        "abonneenummer_changed": (
            "tijdelijk uit",
            "DICTU",
            "samen met " + system,
            *off,
            DELIVERY[system],
        ),
        "expiry": ("zeven dagen voor de vervaldatum", "drie weken", "samen met " + system, *off),
        "new_certificate": ("samen met " + system, "DICTU", "drie weken", DELIVERY[system]),
        "duration": ("ongeveer drie weken",),
    }[topic]


def question_payload(
    text: str,
    system: str | None,
    *,
    request_type: tuple[str, str] = ("104", "Vraag stellen"),
    key: str = "UZO-419",
    abonneenummer: str = "45645645",
) -> dict[str, Any]:
    """The real question fixture with other words, system, request type and key."""
    data = copy.deepcopy(load_fixture("question-vraag-stellen"))
    data["issue"]["key"] = key
    data["issue"]["id"] = str(10000 + int(key.split("-")[1]))
    fields = data["issue"]["fields"]
    fields["summary"] = "Vraag"
    fields["description"] = text
    fields["customfield_10051"] = abonneenummer
    fields["customfield_10052"] = (
        {"value": system, "id": VENDOR_OPTIONS[system]} if system in VENDOR_OPTIONS else None
    )
    rtype = fields["customfield_10010"]["requestType"]
    rtype["id"], rtype["name"] = request_type
    return data


def event_of(data: dict[str, Any]) -> Event:
    return parse_jira_envelope(data, "d-question")


def as_question(event: Event, ctx: HandlerContext) -> HandlerContext:
    """The context as the router hands it over once the request was routed to `question`."""
    found = Classification("question", None, "request_type", ("a question type",))
    return replace(ctx, route=Route("question", found))


def public_of(plan: Plan) -> list[str]:
    return [c.body for c in plan.comments if c.public]


@pytest.fixture(scope="module")
def ctx() -> HandlerContext:
    return handler_context(load_mappings(), today=TODAY)


@pytest.mark.parametrize("system", SYSTEMS)
@pytest.mark.parametrize("topic", list(QUESTIONS))
def test_each_common_question_is_answered_for_the_system(
    ctx: HandlerContext, topic: str, system: str
) -> None:
    event = event_of(question_payload(QUESTIONS[topic], system))
    plan = plan_question(event, as_question(event, ctx))
    assert plan is not None and plan.case is None
    [answer] = public_of(plan)
    for words in _says(topic, system):
        assert words in answer, (topic, system, words)
    assert f"Uw praktijk werkt met {system}" in answer
    if system != "Bricks":
        assert NO_WAY not in answer and "Bricks" not in answer
    assert [(c.slug, c.public) for c in plan.comments] == [(ANSWER_SLUG, True), (NOTE_SLUG, False)]
    note = plan.comments[1].body
    assert ctx.mappings.keywords.question.topics[topic].label in note
    assert [(label.issue_key, label.label) for label in plan.labels] == [("UZO-419", AUTO_LABEL)]
    assert plan.transitions == ()


def test_an_unknown_system_gets_both_ways_and_is_asked_which_it_is(ctx: HandlerContext) -> None:
    event = event_of(question_payload(QUESTIONS["new_certificate"], None))
    [answer] = public_of(plan_question(event, as_question(event, ctx)) or Plan(handler="x"))
    assert "Met Promedico ASP zet u het zelf" in answer
    assert "CGM Huisarts, CGM Apotheek, MicroHIS, OmniHis, Sanday of HealthConnected" in answer
    assert "Met welk systeem werkt uw praktijk?" in answer
    login = event_of(question_payload(QUESTIONS["patient_login"], None))
    [text] = public_of(plan_question(login, as_question(login, ctx)) or Plan(handler="x"))
    assert PASSWORD in text and "Werkt uw praktijk met Bricks?" in text


def test_two_questions_in_one_request_get_one_answer(ctx: HandlerContext) -> None:
    text = "Kunnen patiënten nog inloggen? En hoe lang duurt het?"
    event = event_of(question_payload(text, "CGM Huisarts"))
    plan = plan_question(event, as_question(event, ctx))
    assert plan is not None
    [answer] = public_of(plan)
    assert answer.index("Kunnen patiënten nog inloggen?") < answer.index("Hoe lang duurt het?")


def test_the_practices_own_case_replaces_the_generic_check(ctx: HandlerContext) -> None:
    case = KnownCase(
        workflow="renewal",
        request_key="UZO-431",
        tracking_key="UZO-500",
        opened_on="2026-11-02",
        closed=False,
        due_on="2026-12-29",
        steps=(
            StepState("receive_certificate", "UZO-501", "Done", True, "2026-11-20"),
            StepState("dictu_check", "UZO-502", "To Do", False),
            StepState("complete_renewal", "UZO-503", "To Do", False),
        ),
    )
    event = event_of(question_payload(QUESTIONS["renewal_succeeded"], "Promedico ASP"))
    plan = plan_question(event, replace(as_question(event, ctx), known_cases=(case,)))
    assert plan is not None
    [answer] = public_of(plan)
    assert "*Uw aanvraag UZO-431*" in answer
    assert "hebben wij op 2 november 2026 ontvangen" in answer
    assert "* Nieuw certificaat ontvangen: klaar (20 november 2026)" in answer
    assert "* Controle door DICTU: nog niet klaar" in answer
    assert "rond 11 december 2026 klaar" in answer  # three weeks after the certificate came
    assert "op 29 december 2026 nog niet klaar" in answer
    assert "Kijk op uw patiëntenportaal" not in answer  # no generic self-check
    assert "UZO-431 (renewal)" in plan.comments[1].body


def test_an_unclear_question_gets_only_an_internal_note(ctx: HandlerContext) -> None:
    plan = plan_question(load_event("question-vraag-stellen"), ctx)
    assert plan is not None and plan.labels == () and plan.case is None
    [note] = plan.comments
    assert (note.slug, note.public) == (UNSURE_SLUG, False)
    assert "nothing was posted to the practice" in note.body
    assert "Candidate answers" in note.body and "{quote}" in note.body


def test_too_many_questions_at_once_is_unsure(ctx: HandlerContext) -> None:
    text = " ".join(QUESTIONS[t] for t in ("patient_login", "duration", "new_certificate"))
    event = event_of(question_payload(text, "Bricks"))
    plan = plan_question(event, as_question(event, ctx))
    assert plan is not None and public_of(plan) == []
    assert "too many to answer at once" in plan.comments[0].body


def test_unmapped_question_type_with_renewal_words_is_a_question(ctx: HandlerContext) -> None:
    found = classify(load_event("question-unmapped-type-renewal-words"), ctx)
    assert (found.workflow, found.decided_by) == ("question", "text")
    assert any("its name reads as a question type" in r for r in found.reasons)
    with_file = copy.deepcopy(load_fixture("question-unmapped-type-renewal-words"))
    with_file["issue"]["fields"]["attachment"] = json.loads(
        (FIXTURES / "renewal-promedico.json").read_text(encoding="utf-8")
    )["issue"]["fields"]["attachment"]
    assert classify(event_of(with_file), ctx).workflow == "renewal"
    # An unmapped type whose name is no question type and words that ask nothing: no question.
    other = question_payload("Ons certificaat verloopt.", None, request_type=("107", "Diversen"))
    assert classify(event_of(other), ctx).workflow == "renewal"


# --- through the real app and the fake Jira ------------------------------------------------


def post_question(h: Harness, payload: dict[str, Any], delivery: str) -> str:
    h.seed(payload)
    assert h.post(payload, delivery_id=delivery).status_code == 202
    assert h.drain() == 1
    return str(payload["issue"]["key"])


def assert_no_case(fake: FakeJira, key: str) -> None:
    assert fake.links(key) == []
    assert fake.issue(key).status == "Waiting for support"
    assert not [i for i in fake.issues.values() if i.project_key == "TRK"]


def test_question_under_an_unmapped_type_is_answered_not_a_case(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture("question-unmapped-type-renewal-words")
    key = post_question(h, payload, "q-unmapped")
    [answer] = fake_jira.comments(key, public=True)
    assert "Is de vernieuwing gelukt?" in str(answer.body)
    assert "Uw praktijk werkt met Promedico ASP" in str(answer.body)
    assert "Vraag het nieuwe certificaat aan" not in str(answer.body)
    [note] = fake_jira.comments(key, public=False)
    assert "how do I know my renewal succeeded" in str(note.body)
    assert AUTO_LABEL in fake_jira.issue(key).fields["labels"]
    assert_no_case(fake_jira, key)
    # Later updates and a replay add nothing.
    h.post(dict(payload, webhookEvent="jira:issue_updated"), delivery_id="q-unmapped-2")
    h.drain()
    assert h.services.store.requeue("q-unmapped")
    h.drain()
    assert len(fake_jira.comments(key)) == 2


def test_bricks_practice_is_told_plainly_patients_cannot_log_in(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    key = post_question(h, load_fixture("question-login-bricks"), "q-bricks")
    [answer] = fake_jira.comments(key, public=True)
    assert NO_WAY in str(answer.body) and "niet inloggen op het portaal" in str(answer.body)
    assert PASSWORD not in str(answer.body)
    assert_no_case(fake_jira, key)


def test_same_question_with_an_open_renewal_case_gets_that_case(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    from tests import certgen as g

    h = make_harness(fake_jira, tmp_path)
    renewal = open_case(h, "renewal-promedico", {"10811": g.pem(g.server_cert())})
    tracking = tracking_of(fake_jira, renewal)
    first = fake_jira.subtasks(tracking)[0]
    move(h, first, "Done", "renewal-received")
    # Same abonneenummer (01234567), another request, an unmapped question type.
    key = post_question(h, load_fixture("question-unmapped-type-renewal-words"), "q-case")
    [answer] = fake_jira.comments(key, public=True)
    text = str(answer.body)
    assert f"*Uw aanvraag {renewal}*" in text
    assert re.search(r"Nieuw certificaat ontvangen: klaar \(\d+ \w+ 2026\)", text)
    assert "Controle door DICTU: nog niet klaar" in text
    assert "Kijk op uw patiëntenportaal" not in text
    assert fake_jira.links(key) == []  # still no case for the question


def test_unclear_question_through_the_app_gets_only_a_note(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    key = post_question(h, load_fixture("question-vraag-stellen"), "q-unclear")
    assert fake_jira.comments(key, public=True) == []
    [note] = fake_jira.comments(key, public=False)
    assert "not sure what this question asks" in str(note.body)
    assert AUTO_LABEL not in (fake_jira.issue(key).fields.get("labels") or [])
    assert_no_case(fake_jira, key)


def _words(text: str, ctx: HandlerContext) -> list[str]:
    """The words of a text, every system's name (a list of names is no sentence) as one."""
    text = text.lower()
    for vendor in ctx.mappings.vendors:
        for name in (vendor.name, *vendor.aliases):
            text = text.replace(name.lower(), "systeem")
    text = re.sub(r"systeem(?:(?:\s*,\s*|\s+(?:of|en)\s+)systeem)+", "systemen", text)
    return re.findall(r"[a-zà-ÿ0-9]+", text)


def test_answers_are_our_own_words(ctx: HandlerContext) -> None:
    path = HELP_PAGE / "helppage-uzi-servercertificaat-vernieuwen.txt"
    if not path.exists():
        pytest.skip(
            f"{path} not found (a plain clone): the question answers are not checked for "
            "sentences taken over from the help page (CI checks them)"
        )
    page = _words(path.read_text(encoding="utf-8"), ctx)
    runs = {tuple(page[i : i + RUN]) for i in range(len(page) - RUN + 1)}
    for topic, text in QUESTIONS.items():
        for system in (*SYSTEMS, None):
            event = event_of(question_payload(text, system))
            plan = plan_question(event, as_question(event, ctx))
            assert plan is not None
            words = _words(public_of(plan)[0], ctx)
            copied = [
                words[i : i + RUN]
                for i in range(len(words) - RUN + 1)
                if tuple(words[i : i + RUN]) in runs
            ]
            assert copied == [], (topic, system, copied)


def _site_mappings(tmp_path: Path) -> Path:
    """The bundled mappings plus a question request type known by its NAME only, as an admin
    of this site would add it."""
    target = tmp_path / "mappings"
    shutil.copytree(
        Path(mappings_package.__file__).resolve().parent,
        target,
        ignore=shutil.ignore_patterns("__pycache__", "*.py"),
    )
    types = target / "request_types.toml"
    types.write_text(
        types.read_text(encoding="utf-8")
        + '\n[[request_type]]\nname = "Vragen over DigiD"\nworkflow = "question"\n',
        encoding="utf-8",
    )
    return target


@pytest.mark.parametrize("system", SYSTEMS)
@pytest.mark.parametrize("topic", list(QUESTIONS))
def test_each_common_question_through_the_app(
    fake_jira: FakeJira, tmp_path: Path, topic: str, system: str
) -> None:
    h = make_harness(fake_jira, tmp_path, env={"MAPPINGS_DIR": str(_site_mappings(tmp_path))})
    payload = question_payload(
        QUESTIONS[topic], system, request_type=("106", "Vragen over DigiD"), key="UZO-450"
    )
    key = post_question(h, payload, f"q-{topic}-{system}")
    [answer] = fake_jira.comments(key, public=True)
    for words in _says(topic, system):
        assert words in str(answer.body), (topic, system, words)
    [note] = fake_jira.comments(key, public=False)
    assert "maps to question" in str(note.body)  # the request type decided, by its name
    assert AUTO_LABEL in fake_jira.issue(key).fields["labels"]
    assert_no_case(fake_jira, key)


def reply(body: str, comment_id: str, author_type: str = "customer") -> dict[str, Any]:
    """The practice's comment on its practice-change request UZO-400 (real fixture)."""
    data = copy.deepcopy(load_fixture("practice_change-abonneenummer-promedico-comment"))
    data["comment"].update(id=comment_id, body=body)
    data["comment"]["author"]["accountType"] = author_type
    return data


def test_replies_during_a_case(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    key = open_case(h, "practice_change-abonneenummer-promedico")
    move(h, fake_jira.subtasks(tracking_of(fake_jira, key))[0], "Done", "off-done")
    public, internal = len(fake_jira.comments(key, public=True)), len(notes_of(fake_jira, key))

    # A question: answered for the practice's system, with its own case's status.
    h.post(reply("Kunnen patiënten nog inloggen?", "10601"), delivery_id="r1")
    h.drain()
    answer = str(fake_jira.comments(key, public=True)[-1].body)
    assert "Uw praktijk werkt met Promedico ASP" in answer and PASSWORD in answer
    assert f"*Uw aanvraag {key}*" in answer and "DigiD-koppeling tijdelijk uit: klaar" in answer
    assert len(fake_jira.comments(key, public=True)) == public + 1
    assert "can patients still log in" in notes_of(fake_jira, key)[-1]

    # Unsure, a file, a plain remark, an agent's comment, a replay.
    h.post(
        reply("Hoe kan ik zien tot wanneer ons certificaat geldig is?", "10602"), delivery_id="r2"
    )
    h.post(reply("Zie bijlage [^servercertificaat.crt]", "10603"), delivery_id="r3")
    h.post(reply("Prima, dank u wel.", "10604"), delivery_id="r4")
    h.post(reply("Hoe lang duurt het?", "10605", author_type="atlassian"), delivery_id="r5")
    h.drain()
    assert h.services.store.requeue("r4")
    h.drain()
    assert len(fake_jira.comments(key, public=True)) == public + 1
    new = notes_of(fake_jira, key)[internal + 1 :]
    assert len(new) == 2
    assert "not sure what this question asks" in new[0]
    assert "the practice replied" in new[1] and "10604" in new[1]


def notes_of(fake: FakeJira, key: str) -> list[str]:
    return [str(c.body) for c in fake.comments(key, public=False)]
