"""Plain-text tables for the CLI: columns padded to their widest cell, long cells cut."""

from __future__ import annotations

from collections.abc import Sequence


def cut(text: str | None, limit: int) -> str:
    """One line of at most `limit` characters ("-" for nothing; "..." marks a cut)."""
    if not text:
        return "-"
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The header line and one line per row; the last column is not padded."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        padded = [c.ljust(widths[i]) for i, c in enumerate(cells[:-1])] + [cells[-1]]
        return "  ".join(padded).rstrip()

    return [line(headers), *(line(r) for r in rows)]
