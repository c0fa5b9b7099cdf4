"""Tests for plain text to Atlassian Document Format and back."""

from __future__ import annotations

from typing import Any

from bot.jira.adf import adf_to_text, text_to_adf


def walk(node: Any) -> list[dict[str, Any]]:
    """Every node of an ADF tree."""
    found = [node]
    for child in node.get("content", []):
        found += walk(child)
    return found


def texts(doc: dict[str, Any]) -> list[str]:
    return [n["text"] for n in walk(doc) if n["type"] == "text"]


def test_document_envelope_and_empty_text() -> None:
    assert text_to_adf("") == {"type": "doc", "version": 1, "content": []}
    assert text_to_adf(" \n\n  \n") == {"type": "doc", "version": 1, "content": []}


def test_paragraphs_and_hard_breaks() -> None:
    doc = text_to_adf("Beste praktijk,\r\n\r\nRegel een\nRegel twee\n\n\nGroet")
    paragraphs = doc["content"]
    assert [p["type"] for p in paragraphs] == ["paragraph"] * 3
    assert paragraphs[0]["content"] == [{"type": "text", "text": "Beste praktijk,"}]
    assert paragraphs[1]["content"] == [
        {"type": "text", "text": "Regel een"},
        {"type": "hardBreak"},
        {"type": "text", "text": "Regel twee"},
    ]


def test_lists_are_recognised_in_order() -> None:
    doc = text_to_adf("Stappen:\n1. Inloggen\n2. Opslaan\n- los punt\n* nog een\nEinde")
    kinds = [n["type"] for n in doc["content"]]
    assert kinds == ["paragraph", "orderedList", "bulletList", "paragraph"]
    ordered = doc["content"][1]
    assert [texts(item) for item in ordered["content"]] == [["Inloggen"], ["Opslaan"]]
    assert all(item["type"] == "listItem" for item in ordered["content"])
    assert texts(doc["content"][2]) == ["los punt", "nog een"]


def test_urls_become_links_without_trailing_punctuation() -> None:
    doc = text_to_adf("Zie https://beheer.pharmeon.nl/help. Daarna klaar")
    nodes = doc["content"][0]["content"]
    assert nodes[0] == {"type": "text", "text": "Zie "}
    assert nodes[1]["text"] == "https://beheer.pharmeon.nl/help"
    assert nodes[1]["marks"] == [
        {"type": "link", "attrs": {"href": "https://beheer.pharmeon.nl/help"}}
    ]
    assert nodes[2] == {"type": "text", "text": ". Daarna klaar"}


def test_no_empty_text_nodes_and_no_control_characters() -> None:
    doc = text_to_adf("a\x00b\x07\n   \nc\t d\n\n- \n-")
    for node in walk(doc):
        if node["type"] == "text":
            assert node["text"]
            assert not any(ord(ch) < 32 and ch != "\t" for ch in node["text"])
    assert "ab" in texts(doc)


def test_markup_is_kept_as_literal_text() -> None:
    raw = "{code}<script>alert(1)</script> *bold* [link|http://x]"
    assert "".join(texts(text_to_adf(raw))).startswith("{code}<script>")


def test_round_trip_to_text() -> None:
    text = "Hallo,\n\nRegel een\nRegel twee\n\n- a\n- b\n\n1. x\n2. y"
    assert adf_to_text(text_to_adf(text)) == text


def test_adf_to_text_accepts_v2_strings_and_oddities() -> None:
    assert adf_to_text("plain v2 description") == "plain v2 description"
    assert adf_to_text(None) == ""
    assert adf_to_text(42) == ""
    mention = {"type": "mention", "attrs": {"id": "1", "text": "@Agent"}}
    doc = {"type": "doc", "content": [{"type": "paragraph", "content": [mention]}]}
    assert adf_to_text(doc) == "@Agent"
