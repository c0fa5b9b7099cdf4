"""Cut the official Jira OpenAPI documents down to the operations the sandbox serves.

The cut documents (tests/fixtures/jira-openapi/) let FakeJira check every request the bot makes
in a plain clone, without ../shared. Each keeps, for the operations in the sandbox's route table,
the operation exactly as documented (parameters, request body, responses) with every schema it
references, plus the methods documented for every path of the document, so that routing and
"not documented" answers are the same as with the full document. Regenerate after a change to
bot/sandbox/routes.py or to ../shared/jira-openapi:

    python -m tests.jira_spec_subset [SPEC_DIR]

tests/test_jira_spec_subset.py checks, where ../shared is present, that the committed files are
exactly what this produces.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.sandbox.routes import _ROUTES
from tests.fakejira import OFFICIAL_SPEC_DIR as OFFICIAL_DIR
from tests.fakejira import SPEC_FILES
from tests.fakejira import SUBSET_SPEC_DIR as SUBSET_DIR

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMA_REF = re.compile(r"^#/components/schemas/(?P<name>[^/]+)$")
_GROUP = re.compile(r"\(\?P<\w+>[^)]*\)")
# Prose and metadata no check reads: dropped to keep the committed files small.
PROSE = frozenset({"description", "summary", "example", "examples", "externalDocs", "tags"})


def sandbox_operations() -> list[tuple[str, str]]:
    """(method, sample path) for every route of the sandbox, e.g. ("get", "/rest/api/3/x/1")."""
    return [(method.lower(), _GROUP.sub("10001", pattern)) for method, pattern, _ in _ROUTES]


def _template_for(path: str, paths: dict[str, Any]) -> str:
    """The documented path template a concrete path falls under (most literal segments wins)."""
    segments = path.strip("/").split("/")
    best: tuple[int, str] | None = None
    for template in paths:
        parts = template.strip("/").split("/")
        if len(parts) != len(segments):
            continue
        if all(p.startswith("{") or p == s for p, s in zip(parts, segments, strict=True)):
            literal = sum(1 for p in parts if not p.startswith("{"))
            if best is None or literal > best[0]:
                best = (literal, template)
    if best is None:
        raise SystemExit(f"the sandbox serves {path}, which no official path covers")
    return best[1]


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            match = SCHEMA_REF.match(ref)
            if match is None:
                raise SystemExit(f"unexpected $ref {ref!r}")
            yield match["name"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _schema_closure(roots: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    todo = list(_refs(roots))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen[name] = schemas[name]
        todo.extend(_refs(schemas[name]))
    return dict(sorted(seen.items()))


def _without_prose(node: Any, parent: str | None = None) -> Any:
    """Drop documentation prose; keys of a `properties` map are property names, always kept."""
    if isinstance(node, list):
        return [_without_prose(n, parent) for n in node]
    if not isinstance(node, dict):
        return node
    return {
        k: _without_prose(v, k)
        for k, v in node.items()
        if parent == "properties" or not (k in PROSE or k.startswith("x-") or k == "security")
    }


def subset(
    name: str, official: dict[str, Any], operations: list[tuple[str, str]]
) -> dict[str, Any]:
    """The cut-down document for one official document and the sandbox's operations."""
    prefix = next(p for p, f in SPEC_FILES.items() if f == name)
    paths: dict[str, Any] = {}
    for method, path in operations:
        if not path.startswith(prefix):
            continue
        template = _template_for(path, official["paths"])
        item = official["paths"][template]
        if method not in item:
            raise SystemExit(f"the sandbox serves {method.upper()} {path}, undocumented")
        kept = paths.setdefault(template, {k: v for k, v in item.items() if k == "parameters"})
        kept[method] = item[method]
    paths = _without_prose(paths)
    paths = {t: dict(sorted(paths[t].items())) for t in sorted(paths)}
    return {
        "openapi": official["openapi"],
        "info": {"title": official["info"]["title"], "version": official["info"]["version"]},
        "x-uzibot-subset": (
            f"The operations of {name} that bot/sandbox/routes.py serves, cut from the official "
            "document by `python -m tests.jira_spec_subset`; do not edit by hand."
        ),
        "x-path-methods": {
            t: [m for m in HTTP_METHODS if m in item]
            for t, item in sorted(official["paths"].items())
        },
        "paths": paths,
        "components": {
            "schemas": _without_prose(_schema_closure(paths, official["components"]["schemas"]))
        },
    }


def render(document: dict[str, Any]) -> str:
    """The committed text of a cut-down document (stable, diff-friendly)."""
    return json.dumps(document, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def build(official_dir: Path = OFFICIAL_DIR) -> dict[str, str]:
    """File name -> committed text, from the official documents in official_dir."""
    operations = sandbox_operations()
    out = {}
    for name in SPEC_FILES.values():
        with (official_dir / name).open(encoding="utf-8") as handle:
            official = json.load(handle)
        out[name] = render(subset(name, official, operations))
    return out


def main(argv: list[str]) -> int:
    official_dir = Path(argv[0]) if argv else OFFICIAL_DIR
    SUBSET_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in build(official_dir).items():
        (SUBSET_DIR / name).write_text(text, encoding="utf-8")
        print(f"{SUBSET_DIR / name}: {len(text):,} characters")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
