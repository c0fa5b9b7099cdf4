"""Property tests (hypothesis): the recogniser answers any text and any field values.

`classify` and `read_signals` get arbitrary text, texts built from the mappings' own words
(so the phrase, subject, negation and sentence paths all run) and arbitrary JSON in every
custom field; no exception escapes and the answer is always one the contract allows.
"""

from __future__ import annotations

from datetime import date
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.context import HandlerContext
from bot.events import Event
from bot.mappings import KINDS, Mappings, load_mappings
from bot.textmatch import MAX_TEXT_CHARS
from handlers.classify import DecidedBy, WorkflowName, classify, read_signals
from tests.plan_support import FIELD_IDS, handler_context

EXAMPLES = settings(
    max_examples=2000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# Words the recogniser knows or reacts to (subjects, change words, negations, joiners,
# sentence ends), spelled as practices spell them, with noise around them.
VOCABULARY = [
    "abonneenummer", "abonnementnummer", "abonneenr", "OIN", "praktijknaam", "praktijk-naam",
    "naamswijziging", "contracthouder", "contrakthouder", "pashouder", "UZI-pashouder",
    "UZI", "pas", "houder", "servercertificaat", "certificaat", "verlopen", "vernieuwen",
    "verlengen", "nieuw", "nieuwe", "gewijzigd", "veranderd", "anders", "wijziging", "van",
    "niet", "geen", "blijft", "ongewijzigd", "en", "of", "de", "het", "onze", "vraag", "hoe",
    "wat", "?", ".", "!", ",", "\n", "12345678", "01234567", "per", "1", "maart",
]  # fmt: skip
words = st.lists(st.sampled_from(VOCABULARY) | st.text(max_size=12), max_size=40).map(" ".join)
texts = st.text(max_size=400) | words
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(VOCABULARY)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=15,
)
option_values = json_values | st.builds(lambda v: {"value": v}, json_values)
WORKFLOWS = {None, *get_args(WorkflowName)}
DECIDERS = {None, *get_args(DecidedBy)}


@pytest.fixture(scope="module")
def maps() -> Mappings:
    return load_mappings()


@pytest.fixture(scope="module")
def ctx(maps: Mappings) -> HandlerContext:
    return handler_context(maps, today=date(2026, 6, 1))


@EXAMPLES
@given(text=texts, subjects_alone=st.booleans())
def test_read_signals_answers_any_text_with_known_kinds(
    maps: Mappings, text: str, subjects_alone: bool
) -> None:
    signals = read_signals(text, maps, subjects_alone=subjects_alone)
    assert set(signals.kinds) <= set(KINDS)
    assert list(signals.kinds) == sorted(signals.kinds, key=KINDS.index)  # KINDS order
    assert set(signals.topics) <= set(maps.question_topics)
    assert set(signals.partial_topics) <= set(maps.question_topics)
    assert isinstance(signals.renewal, bool) and isinstance(signals.question, bool)
    assert signals.unread_chars == max(0, len(text) - MAX_TEXT_CHARS)


@EXAMPLES
@given(
    type_id=st.none() | st.sampled_from(["101", "102", "103", "104", "105"]) | st.text(max_size=8),
    type_name=st.none() | st.text(max_size=40) | words,
    summary=texts,
    description=texts,
    fields=st.dictionaries(st.sampled_from(sorted(FIELD_IDS.values())), option_values, max_size=6),
)
def test_classify_answers_any_request_with_a_contract_verdict(
    ctx: HandlerContext,
    type_id: str | None,
    type_name: str | None,
    summary: str,
    description: str,
    fields: dict[str, Any],
) -> None:
    event = Event(
        delivery_id="d-prop",
        name="jira:issue_created",
        issue_key="UZO-1",
        project_key="UZO",
        issue_type="Service Request",
        request_type_id=type_id,
        request_type_name=type_name,
        summary=summary,
        description=description,
        fields=fields,
    )
    result = classify(event, ctx)
    assert result.workflow in WORKFLOWS
    assert result.kind is None or result.kind in KINDS
    assert result.decided_by in DECIDERS
    assert set(result.kinds_in_text) <= set(KINDS)
    assert all(isinstance(reason, str) and reason for reason in result.reasons)
    if result.workflow is None:
        assert result.decided_by is None and result.reasons  # undecided says why
