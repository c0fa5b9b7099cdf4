"""Gathers what a handler reads besides the Event: field ids, today, case property, certificates.

The worker and `uzibot plan` share `gather_context`; without a Jira site (`source=None`) the
field ids come from mappings alone and nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Protocol

from bot.certs.attachments import (
    DEFAULT_MAX_FILES,
    read_attached_certificates,
    unread_certificates,
)
from bot.certs.report import CertReport
from bot.context import HandlerContext
from bot.events import Event
from bot.mappings import Mappings
from bot.plan import CASE_LABEL, CASE_PROPERTY


class FactSource(Protocol):
    """The gateway reads fact gathering needs (JiraGateway provides them)."""

    def field_ids(self, names: Sequence[str]) -> dict[str, str]: ...

    def get_property(self, key: str, name: str) -> Any | None: ...

    def attachment_bytes(self, attachment_id: str, *, max_bytes: int) -> bytes: ...


@dataclass(frozen=True)
class Scope:
    """The projects the bot serves, how large an attachment and how many of them it reads."""

    service_desk_project: str
    tracking_project: str
    max_cert_bytes: int
    max_cert_files: int = DEFAULT_MAX_FILES
    registry: Callable[[str, date], CertReport | None] | None = None
    """Looks up the current production certificate of an abonneenummer (None: no registry)."""


def gather_context(
    event: Event,
    *,
    mappings: Mappings,
    scope: Scope,
    today: date,
    source: FactSource | None,
    field_ids: Mapping[str, str] | None = None,
) -> HandlerContext:
    """The handler context for one event; `field_ids` overrides what would be resolved."""
    case_property = None
    certificates: list[CertReport] = []
    unread: tuple[str, ...] = ()
    if source is not None:
        if event.issue_key and CASE_LABEL in event.labels and event.name == "jira:issue_updated":
            found = source.get_property(event.issue_key, CASE_PROPERTY)
            case_property = found if isinstance(found, dict) else None
        if event.attachments and _is_request(event, scope):
            unread = unread_certificates(event, scope.max_cert_files)
            certificates = read_attached_certificates(
                event,
                source,
                today=today,
                max_bytes=scope.max_cert_bytes,
                max_files=scope.max_cert_files,
            )
    ids = field_ids if field_ids is not None else resolve_field_ids(mappings, source)
    ctx = HandlerContext(
        mappings=mappings,
        today=today,
        tracking_project=scope.tracking_project,
        service_desk_project=scope.service_desk_project,
        field_ids=ids,
        certificates=certificates,
        unread_certificates=unread,
        case_property=case_property,
    )
    if scope.registry is None or not _is_request(event, scope):
        return ctx
    typed = (ctx.field_text(event, mappings.fields.abonneenummer) or "").strip()
    if not (typed.isdigit() and len(typed) <= 8):
        return ctx
    return replace(ctx, registered=scope.registry(typed.zfill(8), today))


def resolve_field_ids(mappings: Mappings, source: FactSource | None) -> dict[str, str]:
    """Display name -> field id: ids fixed in mappings win, the rest are asked of the site."""
    configured = mappings.field_ids
    missing = [n for n in mappings.field_names() if n not in configured]
    resolved = source.field_ids(missing) if missing and source is not None else {}
    return {**resolved, **configured}


def unknown_fields(mappings: Mappings, field_ids: Mapping[str, str]) -> list[str]:
    """The request fields whose id is not known (their values cannot be read)."""
    return [name for name in mappings.field_names() if name not in field_ids]


def _is_request(event: Event, scope: Scope) -> bool:
    """Certificates are read for the service desk's requests, not for the bot's sub-tasks."""
    return event.project_key == scope.service_desk_project and not event.is_subtask
