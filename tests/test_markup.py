"""Customer text is shown as text in Jira: no links, macros, mentions, effects or auto-links."""

from __future__ import annotations

import random
import re

import pytest

from bot.markup import (
    BACKSLASH_LOOKALIKE,
    SPECIAL_CHARACTERS,
    ZERO_WIDTH_SPACE,
    JiraText,
    PlainLine,
    defuse_links,
    escape_inline,
    escape_jira,
    plain_line,
    trusted,
)

_ESCAPE = re.compile(r"\\([" + re.escape("".join(sorted(SPECIAL_CHARACTERS))) + r"])")
_LIVE = {
    "link": re.compile(r"\[[^\]\n]*\]"),
    "mention": re.compile(r"\[~"),
    "macro": re.compile(r"\{(color|code|noformat|quote|panel|anchor|html)\b", re.I),
    "monospace": re.compile(r"\{\{"),
    "url": re.compile(r"(?i)\b(https?|ftps?|file|sftp)://"),
    "mailto": re.compile(r"(?i)\bmailto:"),
    "www": re.compile(r"(?i)\bwww\."),
    "image": re.compile(r"![^\s!]+!"),
    "table": re.compile(r"\|"),
    "heading": re.compile(r"(?m)^\s*(h[1-6]|bq)\."),
    "strong": re.compile(r"(?<![\w*])\*[^\s*][^*\n]*\*(?![\w*])"),
    "emphasis": re.compile(r"(?<![\w_])_[^\s_][^_\n]*_(?![\w_])"),
    "line_break": re.compile(r"\\\\"),
    "citation": re.compile(r"\?\?"),
    "list": re.compile(r"(?m)^\s*([*#-]+\s|----)"),
}


def live_markup(text: str) -> list[str]:
    """Renderer-agnostic check: which markup would Jira still parse once escapes are removed.

    Every backslash escape Jira honours is replaced by a neutral placeholder first, so only
    unescaped special characters and undefused links remain to be found.
    """
    neutral = _ESCAPE.sub("\u2423", text)
    return [name for name, pattern in _LIVE.items() if pattern.search(neutral)]


def jira_unescape(text: str) -> str:
    """What Jira shows for escaped text: '\\X' becomes X for its escapable characters."""
    return _ESCAPE.sub(r"\1", text).replace(ZERO_WIDTH_SPACE, "")


def test_link_and_colour_macro_are_shown_as_text() -> None:
    raw = "[klik hier|http://evil.example]{color:red}x{color}"
    out = escape_jira(raw)
    assert live_markup(raw)  # the checker does see the attack in raw text
    assert live_markup(out) == []
    assert jira_unescape(out) == "[klik hier|http[:]//evil.example]{color:red}x{color}"


def test_mention_is_shown_as_text() -> None:
    out = escape_jira("[~accountid:123]")
    assert out == "\\[\\~accountid:123\\]"
    assert live_markup(out) == []


@pytest.mark.parametrize(
    "raw",
    [
        "{code}print(1){code}",
        "{noformat}x{noformat}",
        "{{monospace}}",
        "*vet* en _schuin_ en -weg- en +erbij+ en ^hoog^ en ~laag~",
        "??citaat??",
        "!http://evil.example/a.png!",
        "|| kop || kop ||\n| a | b |",
        "# lijst\n* punt\n- streep\n----",
        "h1. Kop\nbq. citaat\n  h3. ingesprongen",
        "mailto:iemand@example.nl en www.evil.example en ftp://x.example",
        "regel\\\\breuk en C:\\pad\\bestand",
        "[tekst|https://evil.example] (y) (!) :)",
    ],
)
def test_no_markup_survives(raw: str) -> None:
    assert live_markup(raw), "the checker must see markup in the raw text"
    assert live_markup(escape_jira(raw)) == []


def test_every_special_character_gets_a_backslash() -> None:
    for ch in sorted(SPECIAL_CHARACTERS):
        assert escape_jira(f"a{ch}b") == f"a\\{ch}b"


def test_customer_backslashes_become_a_lookalike() -> None:
    out = escape_jira("a\\b\\\\c")
    assert "\\\\" not in out
    assert out == f"a{BACKSLASH_LOOKALIKE}b{BACKSLASH_LOOKALIKE}{BACKSLASH_LOOKALIKE}c"


def test_block_keywords_at_line_start_are_broken() -> None:
    out = escape_jira("h2. Titel\nniet h2. hier")
    assert out.startswith(f"h2{ZERO_WIDTH_SPACE}.")
    assert "niet h2. hier" in out


def test_links_are_defused_not_removed() -> None:
    out = escape_jira("zie https://evil.example/pad?q=1 of www.evil.example")
    assert jira_unescape(out) == "zie https[:]//evil.example/pad?q=1 of www[.]evil.example"


def test_plain_text_stays_readable() -> None:
    text = "Huisartsenpraktijk De Linde, 't Veld & Zn."
    assert escape_jira(text) == text
    assert (
        jira_unescape(escape_jira("Praktijk De Linde-Boom (oost)"))
        == "Praktijk De Linde-Boom (oost)"
    )


def test_escaping_is_lossless_apart_from_defusing() -> None:
    rng = random.Random(20250603)
    alphabet = "ab :/.\n" + "".join(sorted(SPECIAL_CHARACTERS))
    for _ in range(500):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        out = escape_jira(raw)
        assert jira_unescape(out) == defuse_links(raw)
        assert live_markup(out) == [], (raw, out)


def test_escaped_text_is_not_escaped_twice() -> None:
    once = escape_jira("[x]")
    assert isinstance(once, JiraText)
    assert escape_jira(once) is once
    assert escape_inline(once) is once


def test_control_characters_are_dropped() -> None:
    assert escape_jira("a\x00b\x1bc\r\nd") == "abc\nd"


def test_escape_inline_makes_one_short_line() -> None:
    out = escape_inline("een\n\ntwee   drie " + "x" * 300, limit=20)
    assert "\n" not in out
    assert len(out) <= 20
    assert out.endswith("…")


def test_trusted_marks_without_changing() -> None:
    assert trusted("*vet*") == "*vet*"
    assert isinstance(trusted("x"), JiraText)


def test_plain_line_is_one_clean_line_with_links_defused() -> None:
    out = plain_line("[klik|http://evil.example]\n{color:red}\x07x", limit=80)
    assert isinstance(out, PlainLine)
    assert out == "[klik|http[:]//evil.example] {color:red}x"
    assert plain_line(out) is out
