"""Where each mapping file comes from (MAPPINGS_DIR over the bundled set) and where a key sits."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

_HEADER = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def bundled_dir() -> Path:
    """The mappings shipped in the package."""
    import mappings as package

    return Path(package.__file__).resolve().parent


@dataclass(frozen=True)
class MappingSources:
    """Files of an admin's MAPPINGS_DIR where present, else the bundled ones."""

    root: Path | None
    bundled: Path

    def file(self, name: str) -> Path:
        """The path of a top-level file (e.g. `fields.toml`) to read."""
        if self.root is not None and (self.root / name).is_file():
            return self.root / name
        return self.bundled / name

    def templates(self) -> dict[str, Path]:
        """Template name -> file: the bundled ones, replaced or added by MAPPINGS_DIR/templates."""
        found = {p.name: p for p in sorted((self.bundled / "templates").glob("*.j2"))}
        if self.root is not None and (self.root / "templates").is_dir():
            found.update({p.name: p for p in sorted((self.root / "templates").glob("*.j2"))})
        return found

    def own(self) -> list[str]:
        """The files MAPPINGS_DIR supplies itself (for the start log line)."""
        if self.root is None:
            return []
        names = [p.name for p in sorted(self.root.glob("*.toml"))]
        return names + [f"templates/{p.name}" for p in sorted(self.root.glob("templates/*.j2"))]


def key_path(path: str) -> tuple[str | int, ...]:
    """'practice_change.subtasks[0].description' -> ('practice_change', 'subtasks', 0, ...)."""
    return tuple(
        int(index) if index else name for name, index in _PART.findall(path) if name or index
    )


def line_of(text: str, loc: tuple[str | int, ...]) -> int | None:
    """The 1-based line where the key at `loc` is written in a TOML text, best effort.

    Follows table headers (`[a.b]`, `[[a]]`, the n-th `[[a]]` for an index) and `key = ...`
    lines inside the current table; returns the deepest line found, None when none.
    """
    lines = text.splitlines()
    headers = [
        (i, m.group(1).replace(" ", ""))
        for i, line in enumerate(lines)
        if (m := _HEADER.match(line))
    ]
    prefix: list[str] = []
    pos = 0
    found: int | None = None
    for part in loc:
        if isinstance(part, int):
            table = ".".join(prefix)
            occurrences = [i for i, name in headers if name == table]
            if part < len(occurrences):
                pos = found = occurrences[part]
            continue
        prefix.append(str(part))
        table = ".".join(prefix)
        header = next((i for i, name in headers if i >= pos and name == table), None)
        if header is None:
            header = next((i for i, name in headers if name == table), None)
        if header is not None:
            pos = found = header
            continue
        end = next((i for i, _ in headers if i > pos), len(lines))
        key = re.compile(rf"^\s*\"?{re.escape(str(part))}\"?\s*=")
        line = next((i for i in range(pos, end) if key.match(lines[i])), None)
        if line is not None:
            pos = found = line
    return None if found is None else found + 1


def init_mappings(target: Path) -> list[str]:
    """Copy the bundled mappings into `target` (which must be empty or new); the files copied."""
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"{target} is not empty; choose a new directory")
    source = bundled_dir()
    shutil.copytree(
        source,
        target,
        ignore=shutil.ignore_patterns("__pycache__", "*.py", "*.pyc"),
        dirs_exist_ok=True,
    )
    return sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
