"""Recognition: request type, then 'Soort wijziging', then the practice's own words."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.context import HandlerContext
from bot.events import Event
from bot.mappings import Mappings, load_mappings
from handlers.classify import (
    classify,
    is_service_request,
    looks_like_oin,
    normalise_abonneenummer,
    read_request_facts,
    read_signals,
)
from tests.plan_support import handler_context, load_event

REQUEST_TYPE_NAMES = {
    "101": "Wijziging praktijkgegevens",
    "102": "Abonneenummer (OIN) gewijzigd",
    "103": "UZI-servercertificaat vernieuwen",
    "104": "Vraag stellen",
    "105": "Overig",
}


@pytest.fixture(scope="module")
def maps() -> Mappings:
    return load_mappings()


@pytest.fixture(scope="module")
def ctx(maps: Mappings) -> HandlerContext:
    return handler_context(maps, today=date(2025, 6, 3))


def request(
    type_id: str | None = "105",
    summary: str = "",
    description: str = "",
    change_kind: str | None = None,
    **extra: Any,
) -> Event:
    """A portal request as the envelope parser would build it."""
    fields: dict[str, Any] = {"customfield_10053": {"value": change_kind} if change_kind else None}
    return Event(
        delivery_id="d-1",
        name="jira:issue_created",
        issue_key="UZO-1",
        project_key="UZO",
        issue_type="Service Request",
        request_type_id=type_id,
        request_type_name=REQUEST_TYPE_NAMES.get(type_id or ""),
        summary=summary,
        description=description,
        fields=fields,
        **extra,
    )


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("Nieuw abonneenummer", ("abonneenummer",)),
        ("nieuw abbonneenummer", ("abonneenummer",)),
        ("Ons abonnementnummer is gewijzigd", ("abonneenummer",)),
        ("ons abonementnummer is per vandaag anders", ("abonneenummer",)),
        ("abonneenr veranderd", ("abonneenummer",)),
        ("Abonnee-nummer gewijzigd", ("abonneenummer",)),
        ("Ons abonnéénummer is gewijzigd", ("abonneenummer",)),
        ("OIN gewijzigd", ("abonneenummer",)),
        ("Wijziging van het abonneenummer", ("abonneenummer",)),
        ("Het abonneenummer van onze praktijk is per 1 maart gewijzigd", ("abonneenummer",)),
        ("Praktijknaam gewijzigd", ("practice_name",)),
        ("Nieuwe praktijknaam per 1 maart", ("practice_name",)),
        ("NIEUWE PRAKTIJK-NAAM", ("practice_name",)),
        ("naamswijziging praktijk", ("practice_name",)),
        ("nieuwe contracthouder", ("contract_holder",)),
        ("Contracthouder gewijzigd", ("contract_holder",)),
        ("De contrakthouder is veranderd", ("contract_holder",)),
        ("andere pashouder", ("card_holder",)),
        ("Nieuwe UZI-pashouder", ("card_holder",)),
        ("Nieuwe UZI pas houder: dr. Jansen", ("card_holder",)),
        ("Onze praktijknaam is gewijzigd, abonneenummer blijft 12345678", ("practice_name",)),
        ("Abonneenummer 12345678, nieuwe contracthouder is gewijzigd", ("contract_holder",)),
        ("abonneenummer en praktijknaam zijn gewijzigd", ("abonneenummer", "practice_name")),
        (
            "De naam van de praktijk en de contracthouder zijn gewijzigd",
            ("practice_name", "contract_holder"),
        ),
        ("het abonneenummer is niet gewijzigd", ()),
        ("Ons abonneenummer is 12345678", ()),
        ("Wij hebben een nieuwe UZI-pas aangevraagd", ()),
        ("Certificaat verloopt binnenkort", ()),
    ],
)
def test_kinds_in_words(maps: Mappings, text: str, kinds: tuple[str, ...]) -> None:
    assert read_signals(text, maps).kinds == kinds


@pytest.mark.parametrize(
    ("text", "renewal", "question"),
    [
        ("Ons certificaat verloopt in september", True, False),
        ("Graag het UZI-servercertificaat vernieuwen", True, False),
        ("De vervaldatum nadert", True, False),
        ("Hoe kan ik dat zien?", False, True),
        ("Ik heb een vraag", False, True),
        ("Graag uw hulp", False, False),
    ],
)
def test_renewal_and_question_words(
    maps: Mappings, text: str, renewal: bool, question: bool
) -> None:
    signals = read_signals(text, maps)
    assert (signals.renewal, signals.question) == (renewal, question)


@pytest.mark.parametrize(
    ("fixture", "workflow", "kind", "decided_by"),
    [
        (
            "practice_change-abonneenummer-promedico",
            "practice_change",
            "abonneenummer",
            "request_type",
        ),
        ("practice_change-abonneenummer-cgm-huisarts", "practice_change", "abonneenummer", "field"),
        ("practice_change-practice_name-promedico", "practice_change", "practice_name", "text"),
        ("practice_change-card_holder-sanday", "practice_change", "card_holder", "field"),
        (
            "practice_change-abonneenummer-misspelled-unmapped",
            "practice_change",
            "abonneenummer",
            "text",
        ),
        (
            "practice_change-abonneenummer-promedico-updated",
            "practice_change",
            "abonneenummer",
            "request_type",
        ),
        ("question-vraag-stellen", "question", None, "request_type"),
        ("renewal-request-type", "renewal", None, "request_type"),
        ("undecided-nothing", None, None, None),
        ("undecided-ambiguous", None, None, None),
    ],
)
def test_fixtures(
    ctx: HandlerContext,
    fixture: str,
    workflow: str | None,
    kind: str | None,
    decided_by: str | None,
) -> None:
    found = classify(load_event(fixture), ctx)
    assert (found.workflow, found.kind, found.decided_by) == (workflow, kind, decided_by)
    assert found.reasons


def test_unmapped_request_type_says_so(ctx: HandlerContext) -> None:
    found = classify(load_event("undecided-nothing"), ctx)
    assert found.reasons == (
        'request type "Overig" (105) is not mapped',
        '"Soort wijziging" is empty',
        "the words name no change, renewal or question",
    )
    assert not found.request_type_mapped


def test_two_kinds_are_not_guessed(ctx: HandlerContext) -> None:
    found = classify(load_event("undecided-ambiguous"), ctx)
    assert found.kinds_in_text == ("practice_name", "contract_holder")
    assert "the words name more than one kind: practice_name, contract_holder" in found.reasons


def test_request_type_beats_field_and_notes_the_conflict(ctx: HandlerContext) -> None:
    found = classify(request("102", change_kind="Praktijknaam"), ctx)
    assert (found.workflow, found.kind, found.decided_by) == (
        "practice_change",
        "abonneenummer",
        "request_type",
    )
    assert '"Soort wijziging" says practice_name; the request type wins' in found.reasons


def test_field_decides_for_a_generic_type(ctx: HandlerContext) -> None:
    found = classify(request("101", "Nieuw abonneenummer", change_kind="UZI-pashouder"), ctx)
    assert (found.kind, found.decided_by) == ("card_holder", "field")


def test_field_decides_for_an_unmapped_type(ctx: HandlerContext) -> None:
    found = classify(request("105", change_kind="contracthouder"), ctx)
    assert (found.workflow, found.kind, found.decided_by) == (
        "practice_change",
        "contract_holder",
        "field",
    )


def test_unknown_field_value_falls_back_to_words(ctx: HandlerContext) -> None:
    found = classify(request("101", "Andere UZI-pashouder", change_kind="Anders"), ctx)
    assert (found.kind, found.decided_by) == ("card_holder", "text")
    assert "\"Soort wijziging\" value 'Anders' is not a known kind" in found.reasons


def test_practice_change_type_without_kind_words_is_undecided(ctx: HandlerContext) -> None:
    found = classify(request("101", "Graag aanpassen", "Zie bijlage"), ctx)
    assert found.workflow is None
    assert "the words name no kind of change" in found.reasons


def test_question_type_without_words_is_a_question(ctx: HandlerContext) -> None:
    found = classify(request("104", "Even iets", "Kunt u ons bellen"), ctx)
    assert (found.workflow, found.decided_by) == ("question", "request_type")


def test_question_type_with_renewal_words_is_a_renewal(ctx: HandlerContext) -> None:
    found = classify(request("104", "Certificaat verloopt"), ctx)
    assert (found.workflow, found.decided_by) == ("renewal", "text")


def test_question_type_with_change_words_is_a_change(ctx: HandlerContext) -> None:
    found = classify(request("104", "Vraag", "Wij hebben een nieuwe contracthouder."), ctx)
    assert (found.workflow, found.kind, found.decided_by) == (
        "practice_change",
        "contract_holder",
        "text",
    )


def test_kind_wins_over_renewal_words_and_says_so(ctx: HandlerContext) -> None:
    found = classify(request("105", "Nieuw abonneenummer, moet het certificaat vernieuwd?"), ctx)
    assert (found.workflow, found.kind) == ("practice_change", "abonneenummer")
    assert "the words also mention a certificate renewal" in found.reasons


def test_unmapped_question_words(ctx: HandlerContext) -> None:
    found = classify(request("105", "Hoe werkt de koppeling?"), ctx)
    assert (found.workflow, found.decided_by) == ("question", "text")


def test_request_type_found_by_name(ctx: HandlerContext) -> None:
    event = request(None).model_copy(
        update={"request_type_id": "777", "request_type_name": "UZI-servercertificaat vernieuwen"}
    )
    assert classify(event, ctx).workflow == "renewal"


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        ({}, True),
        ({"is_subtask": True}, False),
        ({"labels": ("uzibot", "x")}, False),
        ({"project_key": "OTHER"}, False),
        ({"request_type_id": None}, False),
        ({"issue_key": None}, False),
    ],
)
def test_is_service_request(ctx: HandlerContext, update: dict[str, Any], expected: bool) -> None:
    assert is_service_request(request("102").model_copy(update=update), ctx) is expected


def test_request_facts_from_fields(ctx: HandlerContext) -> None:
    facts = read_request_facts(load_event("practice_change-abonneenummer-promedico"), ctx)
    assert facts.practice_name == "Huisartsenpraktijk De Linde"
    assert (facts.abonneenummer_input, facts.abonneenummer) == ("1234567", "01234567")
    assert facts.vendor is not None and facts.vendor.name == "Promedico ASP"
    assert facts.vendor_source == "field"
    assert (facts.old_value, facts.new_value) == ("01234567", "07654321")


def test_request_facts_vendor_from_text(ctx: HandlerContext) -> None:
    facts = read_request_facts(load_event("practice_change-practice_name-vendor-in-text"), ctx)
    assert facts.vendor is not None and facts.vendor.name == "Promedico ASP"
    assert (facts.vendor_source, facts.vendor_field) == ("text", None)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1234567", "01234567"),
        ("12.34.56.78", "12345678"),
        (" 0123 4567 ", "01234567"),
        ("123456789", None),
        ("00000009123456780000", None),
        ("12a45678", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_abonneenummer(typed: str | None, expected: str | None) -> None:
    assert normalise_abonneenummer(typed) == expected


def test_looks_like_oin() -> None:
    assert looks_like_oin("00000009 12345678 0000")
    assert not looks_like_oin("12345678")
    assert not looks_like_oin(None)
