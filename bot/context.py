"""What a pure handler receives besides the Event: mappings, resolved field ids, facts, today."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.certs.report import CertReport
from bot.events import Event

if TYPE_CHECKING:
    from bot.mappings import Mappings


@dataclass(frozen=True)
class Route:
    """Which workflow an event belongs to, and what decided it (handed to the handlers)."""

    workflow: str | None
    classification: object | None = None


@dataclass(frozen=True)
class StepState:
    """One sub-task of a case as Jira has it now (read before dispatch, not from the webhook)."""

    slug: str
    key: str
    status: str | None
    done_category: bool
    """True when its status is in Jira's `done` status category."""
    done_on: str | None = None
    """When it was resolved (ISO date), when that was read."""


@dataclass(frozen=True)
class KnownCase:
    """A case the bot tracks, with its sub-tasks' current state (for answering questions)."""

    workflow: str
    request_key: str
    tracking_key: str
    opened_on: str | None
    closed: bool
    due_on: str | None
    steps: tuple[StepState, ...] = ()


@dataclass(frozen=True)
class HandlerContext:
    """Collaborators and facts for one dispatch; built by the worker (or `uzibot plan`)."""

    mappings: Mappings
    today: date
    tracking_project: str
    service_desk_project: str
    field_ids: Mapping[str, str] = field(default_factory=dict)
    certificates: Sequence[CertReport] = ()
    unread_certificates: tuple[str, ...] = ()
    """Names of certificate-like attachments left unread: past the per-request file limit."""
    registered: CertReport | None = None
    """The registry's current production certificate of the request's abonneenummer (file
    `registry`): the renewal deadline when no current certificate is attached."""
    case_property: Mapping[str, Any] | None = None
    """The `uzibot` entity property of the event's issue, read for the bot's own sub-tasks
    and tracking issues (their webhooks carry no properties)."""
    case_steps: Mapping[str, StepState] | None = None
    """For an update of one of the bot's sub-tasks: every sub-task of its case by slug, as
    Jira has them now (None when they could not be read, e.g. `uzibot plan` offline)."""
    known_cases: Sequence[KnownCase] = ()
    """For a new portal request or a practice's reply: the cases the bot tracks for the same
    practice (abonneenummer or reporter), newest first; for a reply its own case included."""
    route: Route | None = None
    """The route the router decided for this event (set by `Router.dispatch`)."""

    def field_raw(self, event: Event, name: str) -> Any:
        """The raw value of a custom field named by its display name (or given by its id)."""
        field_id = self.field_ids.get(name, name)
        return event.fields.get(field_id)

    def field_text(self, event: Event, name: str) -> str | None:
        """A custom field's value as plain text: strings, select options, numbers, lists."""
        return value_as_text(self.field_raw(event, name))


def value_as_text(value: Any) -> str | None:
    """Flatten a Jira field value (string, number, option dict, list of options) to text."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, dict):
        for key in ("value", "name", "displayName"):
            if isinstance(value.get(key), str):
                return value_as_text(value[key])
        return None
    if isinstance(value, list):
        parts = [t for t in (value_as_text(v) for v in value) if t]
        return ", ".join(parts) or None
    return None
