"""What an inbox row can hold: delivery ids that never collide and checks run before a batch."""

from __future__ import annotations

import hashlib

from bot.inbox.schema import deliveries


# The column widths are the schema's, so the checks and the table cannot drift apart.
def _width(column: str) -> int:
    return int(getattr(deliveries.c[column].type, "length"))  # noqa: B009 - typed as TypeEngine


MAX_ID = _width("id")
MAX_EVENT_NAME = _width("event_name")
MAX_ISSUE_KEY = _width("issue_key")
_HASHED_PREFIX = "id-sha256:"


def storable_id(raw: str) -> str:
    """The id as given when it fits the column, else a hash of the whole id (never a prefix).

    Cutting ids made two long ids sharing their first 200 characters collide; a SHA-256 of
    the whole id keeps distinct ids distinct. Ids that contain what a column cannot hold
    (NUL, lone surrogates) are hashed too, so any header value yields a storable id.
    """
    if len(raw) <= MAX_ID and unstorable_text(raw) is None and not raw.startswith(_HASHED_PREFIX):
        return raw
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
    return _HASHED_PREFIX + digest


def unstorable_text(value: str) -> str | None:
    """Why a text column cannot hold `value` (NUL, lone surrogate), or None when it can."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (lone surrogate)"
    return None


def row_problem(event_name: str, issue_key: str | None) -> str | None:
    """Why a delivery with this event name and issue key can never be stored, or None.

    Checked before the row joins a group commit, so one such row never fails the others.
    """
    checks = [("the event name", event_name, MAX_EVENT_NAME)]
    if issue_key is not None:
        checks.append(("the issue key", issue_key, MAX_ISSUE_KEY))
    for what, value, limit in checks:
        if len(value) > limit:
            return f"{what} is longer than {limit} characters"
        problem = unstorable_text(value)
        if problem is not None:
            return f"{what} {problem}"
    return None
