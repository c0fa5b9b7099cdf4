"""Escapes customer text for Jira wiki markup so that it is shown as text, never parsed.

The rule (documented in the README's security notes):

1. A backslash typed by the customer becomes U+29F5 (a look-alike), because Jira reads
   ``\\\\`` as a line break and a backslash before a special character as an escape.
2. Links are defused: ``scheme://`` becomes ``scheme[:]//``, ``mailto:`` and friends become
   ``mailto[:]``, and ``www.`` becomes ``www[.]``; the brackets are then escaped in step 3,
   so Jira neither auto-links nor builds a ``[text|url]`` link.
3. Every character Jira's renderer honours a backslash escape for
   (``- # * _ + ? ^ ~ | % { } [ ] ( ) ! @``, the set of its BackslashEscapeRendererComponent)
   gets a backslash: text effects, tables, lists, images, macros (``{color}``, ``{code}``,
   ``{noformat}``), links, ``[~accountid:...]`` mentions and most emoticons stop working.
4. Jira has no escape for ``.``: a line that starts with a block keyword (``h1.`` to ``h6.``,
   ``bq.``) gets a zero-width space before its dot.
5. Control characters other than newline and tab are dropped.

Whole values are never wrapped in ``{noformat}``: that breaks the layout inside a sentence.

Plain text (summaries, titles, and descriptions that the gateway turns into ADF, where markup
means nothing) needs no escapes: ``plain_line`` makes one clean line and defuses links the same
way (``http[:]//``), so customer text never becomes a link there either.
"""

from __future__ import annotations

import re

SPECIAL_CHARACTERS = frozenset("-#*_+?^~|%{}[]()!@")
BACKSLASH_LOOKALIKE = "\u29f5"
ZERO_WIDTH_SPACE = "\u200b"

_URL_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]{0,20}):(?=//)")
_BARE_SCHEME = re.compile(
    r"(?i)\b(mailto|news|nntp|javascript|vbscript|data|tel|callto|sip|skype|file):(?!//)"
)
_WWW = re.compile(r"(?i)\b(www)\.")
_BLOCK_KEYWORD = re.compile(r"^(\s*)(h[1-6]|bq)\.", re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_WHITESPACE = re.compile(r"\s+")


class JiraText(str):
    """Text that is safe inside Jira wiki markup: escaped customer text or authored text."""

    __slots__ = ()


class PlainLine(str):
    """One line of plain text for fields Jira shows without rendering (summaries, titles)."""

    __slots__ = ()


def escape_jira(text: str) -> JiraText:
    """Escape text so that Jira shows it literally; text already escaped is returned as is."""
    if isinstance(text, JiraText):
        return text
    value = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    value = defuse_links(value.replace("\\", BACKSLASH_LOOKALIKE))
    value = "".join("\\" + ch if ch in SPECIAL_CHARACTERS else ch for ch in value)
    value = _BLOCK_KEYWORD.sub(lambda m: f"{m.group(1)}{m.group(2)}{ZERO_WIDTH_SPACE}.", value)
    return JiraText(value)


def escape_inline(text: str, limit: int = 200) -> JiraText:
    """Escape a value shown inside a sentence: one line, at most `limit` characters."""
    if isinstance(text, JiraText):
        return text
    return escape_jira(_one_line(text, limit))


def trusted(text: str) -> JiraText:
    """Mark authored text (templates' own words, names from the mappings) as markup-safe."""
    return JiraText(text)


def plain_line(text: str, limit: int = 80) -> PlainLine:
    """One clean line of plain text (summary, title, ADF description), links defused."""
    if isinstance(text, PlainLine):
        return text
    return PlainLine(_one_line(defuse_links(_CONTROL.sub("", str(text))), limit))


def defuse_links(text: str) -> str:
    """'http://x' -> 'http[:]//x', 'mailto:x' -> 'mailto[:]x', 'www.x' -> 'www[.]x'."""
    value = _URL_SCHEME.sub(r"\1[:]", text)
    value = _BARE_SCHEME.sub(r"\1[:]", value)
    return _WWW.sub(r"\1[.]", value)


def _one_line(text: str, limit: int) -> str:
    line = _WHITESPACE.sub(" ", text).strip()
    if len(line) > limit:
        line = line[: max(limit - 1, 0)].rstrip() + "…"
    return line
