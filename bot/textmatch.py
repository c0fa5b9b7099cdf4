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
from dataclasses import dataclass

FUZZY_MIN_LENGTH = 8
_TOKEN = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"[.!?;\n]+")


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
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


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
    hits: list[Hit] = []
    for start in range(len(words)):
        candidate = ""
        for end in range(start + 1, min(len(words), start + phrase.parts + 2) + 1):
            candidate += words[end - 1]
            if _matches(candidate, phrase):
                hits.append(Hit(phrase, start, end))
                break
            if len(candidate) > len(phrase.joined) + 1:
                break
    return hits


def find_any(phrases: tuple[Phrase, ...], words: tuple[str, ...]) -> list[Hit]:
    """Hits of all phrases, ordered by position."""
    found = [hit for phrase in phrases for hit in find_phrase(phrase, words)]
    return sorted(found, key=lambda hit: (hit.start, hit.end))


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
