"""Jira's size limits on what the bot writes, and how a text too long for them is cut safely."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.jira.adf import text_to_adf

TEXT_LIMIT = 32_767
"""Characters per comment and per multi-line text field (Jira counts UTF-16 code units)."""
PROPERTY_LIMIT_BYTES = 32_768
"""Bytes of one entity property's JSON value."""

PUBLIC_CUT = (
    "\n\n(…) Dit bericht was te lang en is hier ingekort. Mist u iets? Reageer dan op deze "
    "melding, dan helpt een medewerker van de servicedesk u verder."
)
INTERNAL_CUT = (
    "\n\n(…) Cut here: Jira takes at most {limit:,} characters per comment; {count:,} more "
    "characters of this note are not shown. The files are on the request, the case's facts "
    "in the tracking issue's `uzibot` property."
)
TEXT_CUT = "\n\n(…) Cut at Jira's limit of {limit:,} characters; {count:,} more not shown."


def units(text: str) -> int:
    """The length Jira counts: UTF-16 code units (a character beyond U+FFFF counts twice)."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def fit_comment(body: str, *, public: bool, limit: int = TEXT_LIMIT) -> str:
    """The body as is when Jira takes it; else cut at a line end with a clear note at the end.

    Public replies (Dutch) say the text was shortened and invite the practice to ask for what
    it misses (it cannot see internal notes); internal notes (English) say how much was cut.
    The same body always gives the same result, so a comment posted once is found again by
    its body.
    """
    return fit_text(body, tail=PUBLIC_CUT if public else INTERNAL_CUT, limit=limit)


def fit_text(text: str, *, tail: str = TEXT_CUT, limit: int = TEXT_LIMIT) -> str:
    """Cut a text that is over `limit` (UTF-16 units) at a line end and append `tail`.

    `tail` may name `{limit}` and `{count}` (characters not shown). A cut never leaves a
    dangling backslash (a wiki escape) at its end.
    """
    if units(text) <= limit:
        return text
    longest_tail = tail.format(limit=limit, count=len(text))
    astral = units(text) - len(text)
    room = max(limit - units(longest_tail) - astral, 0)
    cut = text.rfind("\n", 0, room + 1)
    if cut < room // 2:
        cut = room
    head = text[:cut].rstrip().rstrip("\\").rstrip()
    return head + tail.format(limit=limit, count=len(text) - len(head))


def fit_adf(text: str, *, limit: int = TEXT_LIMIT) -> dict[str, Any]:
    """A plain-text description as ADF whose JSON stays within `limit` characters.

    Jira counts a rich-text field by its stored document, which is longer than the text (each
    paragraph and hard break adds markup), so the text is cut until the document fits.
    """
    budget = limit
    while True:
        doc = text_to_adf(fit_text(text, limit=budget))
        size = len(json.dumps(doc, ensure_ascii=False))
        if size <= limit or budget <= 0:
            return doc
        budget = max(int(budget * limit / size) - 200, 0)


def property_bytes(value: Mapping[str, Any]) -> int:
    """The size Jira checks for an entity property: its compact JSON in UTF-8."""
    return len(json.dumps(value, separators=(",", ":")).encode())
