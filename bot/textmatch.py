"""Normalises Dutch free text and finds configured phrases in it, tolerant of small typos.

Text is folded (NFKD, accents dropped, case-folded) and cut into tokens of letters and
digits, so hyphens, dots, underscores and spaces all separate words. A phrase matches a run
of whole tokens whose concatenation equals the phrase without spaces ("abonnee-nummer",
"abonnee nummer" and "abonneenummer" are one phrase), so a short alias never matches inside
another word. A phrase of at least FUZZY_MIN_LENGTH letters also matches with one typo
(Levenshtein distance 1); a phrase ending in ``*`` matches any word starting with it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

FUZZY_MIN_LENGTH = 8
# The most text the bot reads of a request: Jira's own limits, a summary of 255 characters, a
# newline and a description of 32,767. Longer text (only a forged or Automation body can carry
# it) is cut, and the cut is named in the agents' note.
MAX_TEXT_CHARS = 255 + 1 + 32_767
_TOKEN = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"[.!?;\n]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Distinct runs of words whose lookup an index remembers before it starts afresh.
_CACHE_LIMIT = 65_536


@dataclass(frozen=True)
class Phrase:
    """A compiled phrase: its text as written, its tokens joined, and whether it is a prefix."""

    text: str
    joined: str
    parts: int
    prefix: bool


@dataclass(frozen=True)
class Hit:
    """Where a phrase matched: token positions [start, end)."""

    phrase: Phrase
    start: int
    end: int


def fold(text: str) -> str:
    """Lower case without accents: 'Patiënten' -> 'patienten'."""
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return _NON_ASCII.sub(_drop_combining, decomposed).casefold()


def _drop_combining(match: re.Match[str]) -> str:
    char = match.group()
    return "" if unicodedata.combining(char) else char


def tokens(text: str) -> tuple[str, ...]:
    """The words of a text after folding; every other character separates words."""
    return tuple(_TOKEN.findall(fold(text)))


def sentences(text: str) -> list[tuple[str, ...]]:
    """The text cut at sentence ends (. ! ? ; newline), each as its tokens."""
    parts = (tokens(part) for part in _SENTENCE_END.split(fold(text)))
    return [part for part in parts if part]


def squash(text: str) -> str:
    """Letters and digits only: 'Promedico-ASP' -> 'promedicoasp'."""
    return "".join(tokens(text))


def compile_phrase(text: str) -> Phrase:
    """Compile a configured phrase; raise ValueError when it holds no letters or digits."""
    stripped = text.strip()
    prefix = stripped.endswith("*")
    parts = tokens(stripped.rstrip("*"))
    if not parts:
        raise ValueError(f"phrase {text!r} has no letters or digits")
    return Phrase(text=stripped, joined="".join(parts), parts=len(parts), prefix=prefix)


def find_phrase(phrase: Phrase, words: tuple[str, ...]) -> list[Hit]:
    """Every place where the phrase matches a run of whole words (the shortest run wins)."""
    return PhraseIndex((phrase,)).scan(words).get(phrase, [])


def find_any(phrases: tuple[Phrase, ...], words: tuple[str, ...]) -> list[Hit]:
    """Hits of all phrases, ordered by position."""
    return hits_of(PhraseIndex(phrases).scan(words), phrases)


def hits_of(found: dict[Phrase, list[Hit]], phrases: tuple[Phrase, ...]) -> list[Hit]:
    """The hits of these phrases in a scan result, ordered by position (like find_any)."""
    hits = [hit for phrase in phrases for hit in found.get(phrase, ())]
    return sorted(hits, key=lambda hit: (hit.start, hit.end))


def bound_text(text: str) -> tuple[str, int]:
    """The start of a text that the bot reads (MAX_TEXT_CHARS) and how many characters it cut."""
    if len(text) <= MAX_TEXT_CHARS:
        return text, 0
    return text[:MAX_TEXT_CHARS], len(text) - MAX_TEXT_CHARS


class PhraseIndex:
    """Phrases compiled for one left-to-right pass over a text's words.

    `scan` gives exactly what `find_phrase` per phrase would, in time linear in the number of
    words: from each word it extends a run only while the run can still grow into some
    phrase (an exact prefix, or within one edit of a prefix for fuzzy phrases), so a run is at
    most a few words long, and each distinct run is looked up once in hash tables (exact
    phrases, one-deletion variants of the fuzzy ones, prefix phrases by length).
    """

    def __init__(self, phrases: Iterable[Phrase]) -> None:
        self.phrases = tuple(dict.fromkeys(phrases))
        self._exact: dict[str, list[Phrase]] = {}
        self._fuzzy: dict[str, list[Phrase]] = {}
        self._prefix: dict[str, list[Phrase]] = {}
        self._stems: set[str] = set()
        self._fuzzy_stems: set[str] = set()
        for phrase in self.phrases:
            joined = phrase.joined
            if phrase.prefix:
                self._prefix.setdefault(joined, []).append(phrase)
                self._stems.update(joined[:i] for i in range(1, len(joined)))
                continue
            self._exact.setdefault(joined, []).append(phrase)
            if len(joined) >= FUZZY_MIN_LENGTH:
                for variant in _deletions(joined):
                    self._fuzzy.setdefault(variant, []).append(phrase)
                for i in range(len(joined) + 1):
                    self._fuzzy_stems.update(_deletions(joined[:i]))
            else:
                self._stems.update(joined[:i] for i in range(1, len(joined)))
        self._prefix_lengths = tuple(sorted({len(j) for j in self._prefix}))
        self._span = max((p.parts + 2 for p in self.phrases), default=0)
        self._longest = max((len(p.joined) + 1 for p in self.phrases), default=0)
        self._seen: dict[str, tuple[tuple[Phrase, ...], bool]] = {}

    def forget(self) -> None:
        """Drop the remembered lookups (benchmarks measure a cold index with it)."""
        self._seen.clear()

    def scan(self, words: tuple[str, ...]) -> dict[Phrase, list[Hit]]:
        """Each phrase's hits in the words, ordered by start (absent: no hit)."""
        found: dict[Phrase, list[Hit]] = {}
        seen = self._seen
        if len(seen) > _CACHE_LIMIT:
            seen.clear()
        count = len(words)
        for start in range(count):
            candidate, previous = "", 0
            done: set[Phrase] = set()
            for end in range(start + 1, min(count, start + self._span) + 1):
                candidate += words[end - 1]
                known = seen.get(candidate)
                if known is None:
                    known = seen[candidate] = (self._matches(candidate), self._grows(candidate))
                for phrase in known[0]:
                    if (
                        phrase not in done
                        and end - start <= phrase.parts + 2
                        and (end == start + 1 or previous <= len(phrase.joined) + 1)
                    ):
                        done.add(phrase)
                        found.setdefault(phrase, []).append(Hit(phrase, start, end))
                if not known[1]:
                    break
                previous = len(candidate)
        return found

    def _matches(self, candidate: str) -> tuple[Phrase, ...]:
        """The phrases this run of words matches on its own (see _matches)."""
        out = list(self._exact.get(candidate, ()))
        if len(candidate) >= FUZZY_MIN_LENGTH - 1:
            for variant in _deletions(candidate):
                for phrase in self._fuzzy.get(variant, ()):
                    if phrase not in out and within_one_edit(candidate, phrase.joined):
                        out.append(phrase)
        for length in self._prefix_lengths:
            if length > len(candidate):
                break
            out.extend(self._prefix.get(candidate[:length], ()))
        return tuple(out)

    def _grows(self, candidate: str) -> bool:
        """True when a longer run starting with this one could still match some phrase."""
        if candidate in self._stems:
            return True
        if len(candidate) > self._longest or not self._fuzzy_stems:
            return False
        return any(variant in self._fuzzy_stems for variant in _deletions(candidate))


def _deletions(text: str) -> set[str]:
    """The text itself and every text one character shorter (symmetric-delete neighbours)."""
    return {text, *(text[:i] + text[i + 1 :] for i in range(len(text)))}


def within_one_edit(a: str, b: str) -> bool:
    """True when a and b differ by at most one insertion, deletion or substitution."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :]


def _matches(candidate: str, phrase: Phrase) -> bool:
    if phrase.prefix:
        return candidate.startswith(phrase.joined)
    if candidate == phrase.joined:
        return True
    return len(phrase.joined) >= FUZZY_MIN_LENGTH and within_one_edit(candidate, phrase.joined)
