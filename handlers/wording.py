"""Reads a practice's Dutch words: which kinds of change it names, renewal and question words.

Per sentence, a kind counts when one of its own phrases occurs ("naamswijziging"), or when
one of its subjects ("abonneenummer", "UZI-pashouder") goes with a change word: right before
it ("nieuw abonneenummer", "wijziging van de praktijknaam") or later in the sentence with no
other subject in between ("het abonneenummer van onze praktijk is gewijzigd"). Subjects joined
by "en"/"of" share their change word. A change word next to "niet"/"geen" does not count, nor
does a subject followed by "blijft"/"ongewijzigd" and the like.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from bot.mappings import KINDS, Kind, Mappings
from bot.textmatch import Hit, Phrase, bound_text, hits_of, sentences, tokens

CONNECTORS = frozenset({"en", "of", "de", "het", "een", "onze", "ons", "mijn", "uw", "ook"})
UNCHANGED_REACH = 2


@dataclass(frozen=True)
class TextSignals:
    """What the words name: kinds of change (in KINDS order), renewal, question, and which
    common questions (topics, in keywords.toml order) they ask.

    `unread_chars` counts the characters past MAX_TEXT_CHARS that were not read.
    """

    kinds: tuple[Kind, ...]
    renewal: bool
    question: bool
    topics: tuple[str, ...] = ()
    partial_topics: tuple[str, ...] = ()
    """Topics of which some but not all word groups occur: candidates when unsure."""
    unread_chars: int = 0


@dataclass(frozen=True)
class _Subject:
    kind: Kind
    start: int
    end: int


def read_signals(text: str, mappings: Mappings, *, subjects_alone: bool = False) -> TextSignals:
    """Read the signals of a text; `subjects_alone` counts a subject without a change word.

    Reads the first MAX_TEXT_CHARS characters, in time linear in their number: one pass of
    the phrase index per sentence and one over the whole text.
    """
    text, unread = bound_text(text)
    found: set[Kind] = set()
    for words in sentences(text):
        found |= _kinds_in_sentence(
            words, mappings.sentence_index.scan(words), mappings, subjects_alone
        )
    whole = mappings.text_index.scan(tokens(text))
    topics, partial = read_topics(whole, mappings)
    return TextSignals(
        kinds=tuple(kind for kind in KINDS if kind in found),
        renewal=any(phrase in whole for phrase in mappings.renewal_phrases),
        question="?" in text or any(phrase in whole for phrase in mappings.question_phrases),
        topics=topics,
        partial_topics=partial,
        unread_chars=unread,
    )


def read_topics(
    whole: dict[Phrase, list[Hit]], mappings: Mappings
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(recognised, partly recognised) common questions, in keywords.toml order, from the hits
    of the whole text (the topics' phrases are in `mappings.text_index`)."""
    full: list[str] = []
    partial: list[str] = []
    for slug, groups in mappings.question_topics.items():
        hits = sum(1 for group in groups if any(phrase in whole for phrase in group))
        if hits == len(groups):
            full.append(slug)
        elif hits:
            partial.append(slug)
    return tuple(full), tuple(partial)


def _kinds_in_sentence(
    words: tuple[str, ...],
    hits: dict[Phrase, list[Hit]],
    mappings: Mappings,
    subjects_alone: bool,
) -> set[Kind]:
    found = {
        kind for kind in KINDS if any(phrase in hits for phrase in mappings.kind_phrases[kind])
    }
    subjects = _subjects(hits, mappings)
    if subjects_alone:
        return found | {s.kind for s in subjects}
    negators = hits_of(hits, mappings.negators)
    before_ends = {hit.end for hit in _affirmed(hits_of(hits, mappings.change_before), negators)}
    after_starts = sorted(
        hit.start for hit in _affirmed(hits_of(hits, mappings.change_after), negators)
    )
    unchanged = hits_of(hits, mappings.unchanged)
    unchanged_starts = {hit.start for hit in unchanged}
    unchanged_ends = {hit.end for hit in unchanged}
    groups = _groups(subjects, words)
    gap = mappings.keywords.change.gap
    for index, group in enumerate(groups):
        next_start = groups[index + 1][0].start if index + 1 < len(groups) else len(words)
        head, tail = group[0], group[-1]
        # a change word ending at most `gap` words before the group, or one starting after it
        # and before the next group
        changed = any(head.start - g in before_ends for g in range(gap + 1)) or _any_in(
            after_starts, tail.end, next_start
        )
        if changed:
            found |= {s.kind for s in group if not _kept(s, unchanged_starts, unchanged_ends)}
    return found


def _subjects(hits: dict[Phrase, list[Hit]], mappings: Mappings) -> list[_Subject]:
    """Subject hits by position; a hit inside a longer hit of the same kind is dropped."""
    found = [
        _Subject(kind, hit.start, hit.end)
        for kind in KINDS
        for hit in hits_of(hits, mappings.kind_subjects[kind])
    ]
    found.sort(key=lambda s: (s.start, -(s.end - s.start)))
    kept: list[_Subject] = []
    reach: dict[Kind, int] = {}
    for hit in found:
        # every kept hit starts at or before this one, so it is inside one of them exactly
        # when the furthest end of its kind reaches past its end
        if reach.get(hit.kind, -1) < hit.end:
            kept.append(hit)
            reach[hit.kind] = hit.end
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
    negator_ends = {n.end for n in negators}
    negator_starts = {n.start for n in negators}
    return [hit for hit in hits if hit.start not in negator_ends and hit.end not in negator_starts]


def _kept(subject: _Subject, unchanged_starts: set[int], unchanged_ends: set[int]) -> bool:
    """True when the subject is said to stay the same ('abonneenummer blijft hetzelfde')."""
    return (
        any(subject.end + i in unchanged_starts for i in range(UNCHANGED_REACH))
        or subject.start in unchanged_ends
    )


def _any_in(sorted_values: list[int], low: int, high: int) -> bool:
    """True when some value v has low <= v < high."""
    at = bisect_left(sorted_values, low)
    return at < len(sorted_values) and sorted_values[at] < high
