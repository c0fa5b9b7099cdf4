"""Validates and normalises issue field values the way Jira Cloud's v3 API does."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from bot.sandbox.model import Site, priority_by
from bot.sandbox.seed import REQUEST_TYPES, FieldSeed

NOT_SETTABLE = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."
NOT_ADF = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
READ_ONLY = frozenset(
    {
        "status",
        "created",
        "updated",
        "resolution",
        "resolutiondate",
        "subtasks",
        "comment",
        "attachment",
        "issuekey",
        "creator",
        "issuelinks",
    }
)
HANDLED_ELSEWHERE = frozenset({"project", "issuetype", "parent"})
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_PROPERTY_BYTES = 32768
MAX_TEXT_CHARS = 32767
TEXT_TOO_LONG = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."


def text_too_long(value: Any) -> bool:
    """Jira's limit on a rich-text value (description, comment): its stored document's length."""
    stored = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return len(stored.encode("utf-16-le")) // 2 > MAX_TEXT_CHARS


def adf_problem(doc: Any) -> str | None:
    """Why a value is not an acceptable ADF document; None when it is."""
    if not isinstance(doc, dict) or doc.get("type") != "doc":
        return NOT_ADF
    if doc.get("version") != 1 or not isinstance(doc.get("content"), list):
        return "INVALID_INPUT"
    stack: list[Any] = list(doc["content"])
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            return "INVALID_INPUT"
        if node["type"] == "doc":
            return "INVALID_INPUT"
        if node["type"] == "text" and (not isinstance(node.get("text"), str) or not node["text"]):
            return "INVALID_INPUT"
        marks = node.get("marks", [])
        if not isinstance(marks, list) or any(
            not isinstance(m, dict) or not isinstance(m.get("type"), str) for m in marks
        ):
            return "INVALID_INPUT"
        content = node.get("content", [])
        if not isinstance(content, list):
            return "INVALID_INPUT"
        stack.extend(content)
    return None


def property_problem(key: Any, value: Any) -> str | None:
    """Why an entity property cannot be stored; None when it can."""
    if not isinstance(key, str) or not key.strip():
        return "The property key cannot be empty."
    if len(key) > 255:
        return "The property key cannot be longer than 255 characters."
    if value is None:
        return "The property value cannot be empty."
    if len(json.dumps(value, separators=(",", ":")).encode()) > MAX_PROPERTY_BYTES:
        return f"The property value cannot be longer than {MAX_PROPERTY_BYTES} bytes."
    return None


def normalise_fields(
    site: Site, raw: dict[str, Any], errors: dict[str, str], *, creating: bool
) -> dict[str, Any]:
    """Checked values of settable fields; problems go into `errors` (Jira's field messages)."""
    out: dict[str, Any] = {}
    for fid, value in raw.items():
        if fid in HANDLED_ELSEWHERE:
            continue
        seed = site.field_seed(fid)
        if seed is None or fid in READ_ONLY:
            errors[fid] = NOT_SETTABLE.format(fid)
            continue
        try:
            out[fid] = _normalise(site, seed, value)
        except ValueError as exc:
            errors[fid] = str(exc)
    if creating and not (isinstance(raw.get("summary"), str) and raw["summary"].strip()):
        errors.setdefault("summary", "You must specify a summary of the issue.")
    return out


def apply_update_ops(
    site: Site, current: dict[str, Any], update: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    """Apply `update` operations (set/add/remove) except issuelinks; returns changed values."""
    out: dict[str, Any] = {}
    for fid, ops in update.items():
        if fid == "issuelinks":
            continue
        seed = site.field_seed(fid)
        if seed is None or fid in READ_ONLY | HANDLED_ELSEWHERE or not isinstance(ops, list):
            errors[fid] = NOT_SETTABLE.format(fid)
            continue
        value = out.get(fid, current.get(fid))
        for op in ops:
            if not isinstance(op, dict) or len(op) != 1:
                errors[fid] = "Operation value must be an object with one operation."
                break
            verb, arg = next(iter(op.items()))
            try:
                value = _apply_op(site, seed, value, verb, arg)
            except ValueError as exc:
                errors[fid] = str(exc)
                break
        out[fid] = value
    return out


def _apply_op(site: Site, seed: FieldSeed, value: Any, verb: str, arg: Any) -> Any:
    if verb == "set":
        return _normalise(site, seed, arg)
    if seed.id != "labels" or verb not in {"add", "remove"}:
        raise ValueError(f"Field '{seed.id}' does not support operation '{verb}'")
    labels = list(value or [])
    (label,) = _normalise(site, seed, [arg])
    if verb == "add" and label not in labels:
        labels.append(label)
    if verb == "remove" and label in labels:
        labels.remove(label)
    return labels


def _normalise(site: Site, seed: FieldSeed, value: Any) -> Any:
    fid = seed.id
    if fid == "summary":
        if not isinstance(value, str) or not value.strip():
            raise ValueError("You must specify a summary of the issue.")
        if "\n" in value or "\r" in value:
            raise ValueError("The summary is invalid because it contains newline characters.")
        if len(value) > 255:
            raise ValueError("Summary must be less than 255 characters.")
        return value
    if fid == "description":
        problem = None if value is None else adf_problem(value)
        if problem:
            raise ValueError(problem)
        if value is not None and text_too_long(value):
            raise ValueError(TEXT_TOO_LONG)
        return value
    if fid == "labels":
        return _labels(value)
    if fid == "duedate":
        return _date(value)
    if fid == "priority":
        name = None
        if isinstance(value, dict):
            name = priority_by(name=value.get("name"), id_=value.get("id"))
        if name is None:
            raise ValueError("Specify a valid 'id' or 'name' for Priority")
        return name
    if fid in {"assignee", "reporter"}:
        if value is not None and not (
            isinstance(value, dict) and (value.get("accountId") or value.get("id"))
        ):
            raise ValueError(f"Specify a valid value for {fid}")
        return value
    return _custom(site, seed, value)


def _labels(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("Operation value must be a list of strings")
    for label in value:
        if not label or any(ch.isspace() for ch in label):
            raise ValueError(f"The label '{label}' contains spaces which is invalid.")
        if len(label) > 255:
            raise ValueError("The label must not exceed 255 characters.")
    return list(dict.fromkeys(value))


def _date(value: Any) -> str | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str) or not DATE_RE.match(value):
            raise ValueError
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"Error parsing date string: {value}") from None
    return value


def _custom(site: Site, seed: FieldSeed, value: Any) -> Any:
    schema = seed.schema or {}
    if value is None:
        return None
    if schema.get("type") == "sd-customerrequesttype":
        match = next((rt for rt in REQUEST_TYPES if value in rt), None)
        if not isinstance(value, str) or match is None:
            raise ValueError("The request type you specified does not exist.")
        return {
            "requestType": {"id": match[0], "name": match[1]},
            "currentStatus": {"status": "Waiting for support"},
        }
    if schema.get("type") == "option":
        if not isinstance(value, dict):
            raise ValueError(f"Specify a valid 'id' or 'name' for {seed.name}")
        for oid, label in seed.options:
            if value.get("id") == oid or value.get("value") == label:
                return {
                    "self": f"{site.base_url}/rest/api/3/customFieldOption/{oid}",
                    "value": label,
                    "id": oid,
                }
        shown = value.get("value", value.get("id"))
        raise ValueError(f"Option value '{shown}' is not valid")
    if schema.get("type") == "string":
        if not isinstance(value, str):
            raise ValueError("Operation value must be a string")
        if len(value) > 255:
            raise ValueError(f"{seed.name}: the text must be 255 characters or fewer.")
        return value
    return value
