"""Phrase matching: the one-pass index finds what per-phrase matching finds, in linear work."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from datetime import date
from types import FrameType
from typing import Any

import pytest

from bot.context import HandlerContext
from bot.events import Event
from bot.mappings import Mappings, load_mappings
from bot.textmatch import (
    MAX_TEXT_CHARS,
    Hit,
    Phrase,
    PhraseIndex,
    bound_text,
    compile_phrase,
    find_phrase,
    fold,
    tokens,
    within_one_edit,
)
from handlers.classify import classify
from handlers.wording import read_signals

FILLER = ("de", "het", "en", "van", "is", "niet", "onze", "per", "maart", "a", "x", "1")
TRACED_FILES = ("bot/textmatch.py", "handlers/wording.py")


@pytest.fixture(scope="module")
def maps() -> Mappings:
    return load_mappings()


def reference_find(phrase: Phrase, words: tuple[str, ...]) -> list[Hit]:
    """The per-phrase scan the index replaced, kept here as the specification."""
    hits: list[Hit] = []
    for start in range(len(words)):
        candidate = ""
        for end in range(start + 1, min(len(words), start + phrase.parts + 2) + 1):
            candidate += words[end - 1]
            if _reference_matches(candidate, phrase):
                hits.append(Hit(phrase, start, end))
                break
            if len(candidate) > len(phrase.joined) + 1:
                break
    return hits


def _reference_matches(candidate: str, phrase: Phrase) -> bool:
    if phrase.prefix:
        return candidate.startswith(phrase.joined)
    if candidate == phrase.joined:
        return True
    return len(phrase.joined) >= 8 and within_one_edit(candidate, phrase.joined)


def all_phrases(maps: Mappings) -> list[Phrase]:
    groups = (
        *maps.kind_subjects.values(),
        *maps.kind_phrases.values(),
        maps.change_before,
        maps.change_after,
        maps.negators,
        maps.unchanged,
        maps.renewal_phrases,
        maps.question_phrases,
    )
    vendors = [compile_phrase(n) for v in maps.vendors for n in (v.name, *v.aliases)]
    return [*dict.fromkeys([p for group in groups for p in group] + vendors)]


def mangled_words(rng: random.Random, phrases: list[Phrase], count: int) -> tuple[str, ...]:
    """Words built from phrase pieces: whole, split at random, with one typo, or filler."""
    out: list[str] = []
    letters = "abcdefghijklmnopqrstuvwxyz"
    while len(out) < count:
        roll = rng.random()
        if roll < 0.3:
            out.append(rng.choice(FILLER))
            continue
        joined = rng.choice(phrases).joined
        if roll < 0.5 and len(joined) > 2:
            at = rng.randrange(len(joined))
            edit = rng.choice(("sub", "del", "ins"))
            char = rng.choice(letters)
            if edit == "sub":
                joined = joined[:at] + char + joined[at + 1 :]
            elif edit == "del":
                joined = joined[:at] + joined[at + 1 :]
            else:
                joined = joined[:at] + char + joined[at:]
        if roll > 0.8:
            joined += rng.choice(("ing", "en", "s", ""))
        pieces, rest = [], joined
        while rest:
            cut = rng.randint(1, len(rest))
            pieces.append(rest[:cut])
            rest = rest[cut:]
        out.extend(p for p in pieces if p)
    return tuple(out)


def test_the_index_finds_exactly_what_per_phrase_matching_finds(maps: Mappings) -> None:
    phrases = all_phrases(maps)
    index = PhraseIndex(phrases)
    rng = random.Random(10)
    for _ in range(60):
        words = mangled_words(rng, phrases, 120)
        found = index.scan(words)
        for phrase in phrases:
            assert found.get(phrase, []) == reference_find(phrase, words), (phrase, words)


def test_find_phrase_keeps_its_rules() -> None:
    number = compile_phrase("abonneenummer")
    assert [(h.start, h.end) for h in find_phrase(number, tokens("abonnee-nummer"))] == [(0, 2)]
    assert find_phrase(number, tokens("abonneenumer"))  # one typo in a long phrase
    assert not find_phrase(number, tokens("abonneenumr"))
    assert not find_phrase(compile_phrase("ura"), tokens("uur"))  # short: exact only
    assert find_phrase(compile_phrase("vernieuw*"), tokens("Vernieuwing"))
    assert not find_phrase(compile_phrase("oin"), tokens("join"))  # whole words only


def test_fold_drops_accents_and_case_only() -> None:
    assert fold("Patiënten ÉÉN") == "patienten een"
    assert fold("ABC-def") == "abc-def"


def test_text_past_the_limit_is_cut_and_counted() -> None:
    text = "x" * (MAX_TEXT_CHARS + 10)
    kept, unread = bound_text(text)
    assert len(kept) == MAX_TEXT_CHARS and unread == 10
    assert bound_text("kort") == ("kort", 0)


def hostile(size: int) -> str:
    """One endless sentence, dense with subjects, change words, negators and typos."""
    words = (
        "het abonneenummer en de praktijknaam van onze praktijk is niet gewijzigd maar de "
        "nieuwe pashouder blijft hetzelfde en abonnementnummer contracthouder gewijzigde "
        "vernieuwing promedico asp bricks "
    )
    return (words * (size // len(words) + 1))[:size]


def traced_lines(run: Callable[[], object]) -> int:
    """Python lines executed in the matching modules while `run` runs: a measure of work."""
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def calls(frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename.endswith(TRACED_FILES):
            return local
        return None

    sys.settrace(calls)
    try:
        run()
    finally:
        sys.settrace(None)
    return count


def test_matching_work_grows_linearly_with_the_text(maps: Mappings) -> None:
    texts = hostile(2_000), hostile(8_000)
    for text in texts:
        read_signals(text, maps)  # the index remembers runs it looked up: count warm runs
    small, large = (traced_lines(lambda text=text: read_signals(text, maps)) for text in texts)
    # four times the text, about four times the work (a quadratic step would give 16)
    assert 3.5 * small < large < 4.5 * small


def test_a_maximal_and_a_megabyte_description_cost_a_bounded_amount_of_work(
    maps: Mappings,
) -> None:
    longest = hostile(32_767)
    work = traced_lines(lambda: read_signals(longest, maps))
    assert work < 20 * len(longest)  # budget per character read (the old matcher: ~350)
    megabyte = hostile(1_000_000)
    signals = read_signals(megabyte, maps)
    assert signals.unread_chars == 1_000_000 - MAX_TEXT_CHARS
    assert traced_lines(lambda: read_signals(megabyte, maps)) < 1.1 * work
    assert traced_lines(lambda: maps.vendors_in_text(megabyte)) < 5 * MAX_TEXT_CHARS


def test_classification_of_a_megabyte_tells_the_agents_what_was_not_read(maps: Mappings) -> None:
    ctx = HandlerContext(
        mappings=maps, today=date(2026, 6, 1), tracking_project="UZO", service_desk_project="UZO"
    )
    description = "Het UZI-servercertificaat verloopt, graag vernieuwen. " + "x" * 1_000_000
    event = Event(
        delivery_id="d-1",
        name="jira:issue_created",
        issue_key="UZO-1",
        project_key="UZO",
        issue_type="Service Request",
        request_type_id="105",
        summary="Certificaat",
        description=description,
    )
    found = classify(event, ctx)
    assert found.workflow == "renewal"
    unread = len("Certificaat\n" + description) - MAX_TEXT_CHARS
    assert (
        f"the request text is too long: only its first {MAX_TEXT_CHARS:,} characters were read "
        f"({unread:,} not read)"
    ) in found.reasons
