"""Plain text to Atlassian Document Format (ADF) for v3 rich-text fields, and back."""

from __future__ import annotations

import re
from typing import Any

ADFNode = dict[str, Any]

_BULLET = re.compile(r"^\s*[-*•]\s+(.*)$")
_ORDERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
# C0 control characters other than tab and newline are not allowed in ADF text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def text_to_adf(text: str) -> ADFNode:
    """An ADF document: blank lines separate paragraphs, line breaks are kept, lines starting
    with "- "/"* " or "1. " become bullet/ordered lists, and http(s) URLs become links."""
    clean = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    blocks = [b for b in re.split(r"\n\s*\n", clean) if b.strip()]
    content: list[ADFNode] = []
    for block in blocks:
        lines = block.split("\n")
        while not lines[0].strip():
            lines.pop(0)
        while not lines[-1].strip():
            lines.pop()
        content.extend(_block(lines))
    return {"type": "doc", "version": 1, "content": content}


def _block(lines: list[str]) -> list[ADFNode]:
    """Split one block into paragraphs and lists, keeping the order of the lines."""
    nodes: list[ADFNode] = []
    plain: list[str] = []
    items: list[str] = []
    kind = ""

    def flush_plain() -> None:
        if plain:
            nodes.append(_paragraph(plain))
            plain.clear()

    def flush_list() -> None:
        nonlocal kind
        if items:
            list_items = [{"type": "listItem", "content": [_paragraph([i])]} for i in items]
            nodes.append({"type": kind, "content": list_items})
            items.clear()
        kind = ""

    for line in lines:
        bullet, ordered = _BULLET.match(line), _ORDERED.match(line)
        match, this_kind = (bullet, "bulletList") if bullet else (ordered, "orderedList")
        if match and match.group(1).strip():
            flush_plain()
            if kind and kind != this_kind:
                flush_list()
            kind = this_kind
            items.append(match.group(1))
        else:
            flush_list()
            plain.append(line)
    flush_plain()
    flush_list()
    return nodes


def _paragraph(lines: list[str]) -> ADFNode:
    """A paragraph whose lines are joined by hard breaks."""
    content: list[ADFNode] = []
    for index, line in enumerate(lines):
        if index:
            content.append({"type": "hardBreak"})
        content.extend(_inline(line.rstrip()))
    return {"type": "paragraph", "content": content}


def _inline(line: str) -> list[ADFNode]:
    """Text nodes for one line, with link marks on URLs; ADF forbids empty text nodes."""
    nodes: list[ADFNode] = []
    position = 0
    for match in _URL.finditer(line):
        if match.start() > position:
            nodes.append({"type": "text", "text": line[position : match.start()]})
        url = match.group(0)
        nodes.append(
            {"type": "text", "text": url, "marks": [{"type": "link", "attrs": {"href": url}}]}
        )
        position = match.end()
    if position < len(line):
        nodes.append({"type": "text", "text": line[position:]})
    return nodes


def adf_to_text(node: Any) -> str:
    """Plain text of an ADF document (or a plain string, as in v2 payloads) for reading back."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind in {"mention", "emoji"}:
        attrs = node.get("attrs") or {}
        return str(attrs.get("text") or attrs.get("shortName") or "")
    children = node.get("content") or []
    if kind == "doc":
        return "\n\n".join(adf_to_text(c) for c in children).strip("\n")
    if kind in {"bulletList", "orderedList"}:
        marker = "- " if kind == "bulletList" else ""
        lines = [adf_to_text(c) for c in children]
        if kind == "orderedList":
            return "\n".join(f"{n}. {line}" for n, line in enumerate(lines, start=1))
        return "\n".join(marker + line for line in lines)
    if kind == "listItem":
        return "\n".join(adf_to_text(c) for c in children)
    return "".join(adf_to_text(c) for c in children)
