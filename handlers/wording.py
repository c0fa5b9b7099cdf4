"""Reads a practice's Dutch words: which kinds of change it names, renewal and question words.

Per sentence, a kind counts when one of its own phrases occurs ("naamswijziging"), or when
one of its subjects ("abonneenummer", "UZI-pashouder") goes with a change word: right before
it ("nieuw abonneenummer", "wijziging van de praktijknaam") or later in the sentence with no
other subject in between ("het abonneenummer van onze praktijk is gewijzigd"). Subjects joined
by "en"/"of" share their change word. A change word next to "niet"/"geen" does not count, nor
does a subject followed by "blijft"/"ongewijzigd" and the like.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.mappings import KINDS, Kind, Mappings
from bot.textmatch import Hit, find_any, sentences, tokens

CONNECTORS = frozenset({"en", "of", "de", "het", "een", "onze", "ons", "mijn", "uw", "ook"})
UNCHANGED_REACH = 2


TOPIC_TEXT_LIMIT = 5000
"""Characters of a request read for common questions (a question is short; bounds the work)."""


@dataclass(frozen=True)
class TextSignals:
    """What the words name: kinds of change (in KINDS order), renewal, question, and which
    common questions (topics, in keywords.toml order) they ask."""

    kinds: tuple[Kind, ...]
    renewal: bool
    question: bool
    topics: tuple[str, ...] = ()
    partial_topics: tuple[str, ...] = ()
    """Topics of which some but not all word groups occur: candidates when unsure."""


@dataclass(frozen=True)
class _Subject:
    kind: Kind
    start: int
    end: int


def read_signals(text: str, mappings: Mappings, *, subjects_alone: bool = False) -> TextSignals:
    """Read the signals of a text; `subjects_alone` counts a subject without a change word."""
    found: set[Kind] = set()
    for words in sentences(text):
        found |= _kinds_in_sentence(words, mappings, subjects_alone)
    all_words = tokens(text)
    topics, partial = read_topics(text, mappings)
    return TextSignals(
        kinds=tuple(kind for kind in KINDS if kind in found),
        renewal=bool(find_any(mappings.renewal_phrases, all_words)),
        question="?" in text or bool(find_any(mappings.question_phrases, all_words)),
        topics=topics,
        partial_topics=partial,
    )


def read_topics(text: str, mappings: Mappings) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(recognised, partly recognised) common questions of a text, in keywords.toml order."""
    words = tokens(text[:TOPIC_TEXT_LIMIT])
    full: list[str] = []
    partial: list[str] = []
    for slug, groups in mappings.question_topics.items():
        hits = sum(1 for group in groups if find_any(group, words))
        if hits == len(groups):
            full.append(slug)
        elif hits:
            partial.append(slug)
    return tuple(full), tuple(partial)


def _kinds_in_sentence(
    words: tuple[str, ...], mappings: Mappings, subjects_alone: bool
) -> set[Kind]:
    found = {kind for kind in KINDS if find_any(mappings.kind_phrases[kind], words)}
    subjects = _subjects(words, mappings)
    if subjects_alone:
        return found | {s.kind for s in subjects}
    negators = find_any(mappings.negators, words)
    before = _affirmed(find_any(mappings.change_before, words), negators)
    after = _affirmed(find_any(mappings.change_after, words), negators)
    unchanged = find_any(mappings.unchanged, words)
    groups = _groups(subjects, words)
    gap = mappings.keywords.change.gap
    for index, group in enumerate(groups):
        next_start = groups[index + 1][0].start if index + 1 < len(groups) else len(words)
        head, tail = group[0], group[-1]
        changed = any(hit.end <= head.start <= hit.end + gap for hit in before) or any(
            tail.end <= hit.start < next_start for hit in after
        )
        if changed:
            found |= {s.kind for s in group if not _kept(s, unchanged)}
    return found


def _subjects(words: tuple[str, ...], mappings: Mappings) -> list[_Subject]:
    """Subject hits by position; a hit inside a longer hit of the same kind is dropped."""
    hits = [
        _Subject(kind, hit.start, hit.end)
        for kind in KINDS
        for hit in find_any(mappings.kind_subjects[kind], words)
    ]
    hits.sort(key=lambda s: (s.start, -(s.end - s.start)))
    kept: list[_Subject] = []
    for hit in hits:
        inside = any(k.kind == hit.kind and k.start <= hit.start and hit.end <= k.end for k in kept)
        if not inside:
            kept.append(hit)
    return kept


def _groups(subjects: list[_Subject], words: tuple[str, ...]) -> list[list[_Subject]]:
    """Subjects joined by connectors ('abonneenummer en praktijknaam') form one group."""
    groups: list[list[_Subject]] = []
    for subject in subjects:
        if groups and _joined(groups[-1][-1], subject, words):
            groups[-1].append(subject)
        else:
            groups.append([subject])
    return groups


def _joined(a: _Subject, b: _Subject, words: tuple[str, ...]) -> bool:
    return b.start <= a.end or all(w in CONNECTORS for w in words[a.end : b.start])


def _affirmed(hits: list[Hit], negators: list[Hit]) -> list[Hit]:
    """Change words not right next to a negator ('niet gewijzigd', 'wijzigt niet')."""
    return [
        hit for hit in hits if not any(n.end == hit.start or n.start == hit.end for n in negators)
    ]


def _kept(subject: _Subject, unchanged: list[Hit]) -> bool:
    """True when the subject is said to stay the same ('abonneenummer blijft hetzelfde')."""
    return any(
        subject.end <= hit.start < subject.end + UNCHANGED_REACH or hit.end == subject.start
        for hit in unchanged
    )
