"""Gathers what a handler reads besides the Event: field ids, today, case property, certificates,
the current state of a case's sub-tasks, and the cases the bot tracks for the same practice.

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
from bot.context import HandlerContext, KnownCase, StepState
from bot.events import Event
from bot.jira.gateway import SubtaskState, TrackingState
from bot.mappings import Mappings
from bot.plan import CASE_LABEL, CASE_PROPERTY, ISSUE_KEY

MAX_SUBTASKS_READ = 20
"""Sub-tasks whose slug is looked up one by one (agents may add sub-tasks of their own)."""
MAX_KNOWN_CASES = 2
"""Cases of the same practice read from Jira to answer a question."""


class FactSource(Protocol):
    """The gateway reads fact gathering needs (JiraGateway provides them)."""

    def field_ids(self, names: Sequence[str]) -> dict[str, str]: ...

    def get_property(self, key: str, name: str) -> Any | None: ...

    def attachment_bytes(self, attachment_id: str, *, max_bytes: int) -> bytes: ...

    def tracking_state(self, key: str, *, dates: bool = False) -> TrackingState | None: ...


class CaseRefLike(Protocol):
    """One row of the local case index."""

    @property
    def workflow(self) -> str: ...

    @property
    def request_key(self) -> str: ...

    @property
    def tracking_key(self) -> str: ...


class KnownCaseSource(Protocol):
    """Read-only look-up of the cases the bot opened (bot.inbox.cases.CaseIndex)."""

    def cases_for(
        self, abonneenummer: str | None, reporter: str | None, *, limit: int = ...
    ) -> Sequence[CaseRefLike]: ...


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
    cases: KnownCaseSource | None = None,
) -> HandlerContext:
    """The handler context for one event; `field_ids` overrides what would be resolved."""
    case_property = None
    case_steps = None
    known: list[KnownCase] = []
    certificates: list[CertReport] = []
    unread: tuple[str, ...] = ()
    ids = field_ids if field_ids is not None else resolve_field_ids(mappings, source)
    if source is not None:
        if event.issue_key and CASE_LABEL in event.labels and event.name == "jira:issue_updated":
            found = source.get_property(event.issue_key, CASE_PROPERTY)
            case_property = found if isinstance(found, dict) else None
            if case_property is not None and event.is_subtask and _status_changed(event):
                case_steps = read_case_steps(source, _tracking_key(case_property, event))
        if event.attachments and _is_request(event, scope):
            unread = unread_certificates(event, scope.max_cert_files)
            certificates = read_attached_certificates(
                event,
                source,
                today=today,
                max_bytes=scope.max_cert_bytes,
                max_files=scope.max_cert_files,
            )
        asked = event.name == "jira:issue_created" or _customer_reply(event)
        if (
            cases is not None
            and asked
            and _is_request(event, scope)
            and CASE_LABEL not in event.labels
        ):
            known = known_cases(
                event, mappings, ids, source, cases, own=event.name == "comment_created"
            )
    ctx = HandlerContext(
        mappings=mappings,
        today=today,
        tracking_project=scope.tracking_project,
        service_desk_project=scope.service_desk_project,
        field_ids=ids,
        certificates=certificates,
        unread_certificates=unread,
        case_property=case_property,
        case_steps=case_steps,
        known_cases=tuple(known),
    )
    if scope.registry is None or not _is_request(event, scope):
        return ctx
    typed = (ctx.field_text(event, mappings.fields.abonneenummer) or "").strip()
    if not (typed.isdigit() and len(typed) <= 8):
        return ctx
    return replace(ctx, registered=scope.registry(typed.zfill(8), today))


def read_case_steps(source: FactSource, tracking_key: str | None) -> dict[str, StepState] | None:
    """Every sub-task of the case by slug, as Jira has it now; None when it cannot be read."""
    state = source.tracking_state(tracking_key) if tracking_key else None
    if state is None:
        return None
    return _steps_by_slug(source, state)


def known_cases(
    event: Event,
    mappings: Mappings,
    field_ids: Mapping[str, str],
    source: FactSource,
    cases: KnownCaseSource,
    *,
    own: bool = False,
) -> list[KnownCase]:
    """The cases the bot tracks for the practice of this request (abonneenummer or reporter),
    newest first, each with its sub-tasks' state and dates; the request's own case only when
    `own` (a reply during a case is about that case)."""
    number = _abonneenummer(event, mappings, field_ids)
    reporter = event.fields.get("reporter")
    account = reporter.get("accountId") if isinstance(reporter, dict) else None
    refs = cases.cases_for(number, account if isinstance(account, str) else None)
    out: list[KnownCase] = []
    for ref in refs:
        if (ref.request_key == event.issue_key and not own) or len(out) >= MAX_KNOWN_CASES:
            continue
        state = source.tracking_state(ref.tracking_key, dates=True)
        if state is None:
            continue
        steps = _steps_by_slug(source, state)
        out.append(
            KnownCase(
                workflow=ref.workflow,
                request_key=ref.request_key,
                tracking_key=ref.tracking_key,
                opened_on=(state.created or "")[:10] or None,
                closed=state.done,
                due_on=(state.due or "")[:10] or None,
                steps=tuple(steps.values()),
            )
        )
    return out


def _steps_by_slug(source: FactSource, state: TrackingState) -> dict[str, StepState]:
    """Slugs from the tracking issue's case property, else from each sub-task's own property."""
    listed = (state.doc or {}).get("subtasks")
    by_key = {str(v): str(k) for k, v in listed.items()} if isinstance(listed, dict) else {}
    steps: dict[str, StepState] = {}
    asked = 0
    for sub in state.subtasks:
        slug = by_key.get(sub.key)
        if slug is None and asked < MAX_SUBTASKS_READ:
            asked += 1
            doc = source.get_property(sub.key, CASE_PROPERTY)
            found = doc.get("slug") if isinstance(doc, dict) else None
            slug = found if isinstance(found, str) else None
        if slug is not None and slug not in steps:
            steps[slug] = _step(slug, sub)
    return steps


def _step(slug: str, sub: SubtaskState) -> StepState:
    return StepState(
        slug=slug,
        key=sub.key,
        status=sub.status,
        done_category=sub.done,
        done_on=(sub.resolved or "")[:10] or None,
    )


def _tracking_key(prop: Mapping[str, Any], event: Event) -> str | None:
    for value in (prop.get("tracking_key"), prop.get("parent"), event.parent_key):
        if isinstance(value, str) and ISSUE_KEY.match(value):
            return value
    return None


def _customer_reply(event: Event) -> bool:
    """A public comment by a customer (the practice), not by an agent or the bot."""
    comment = event.comment
    return (
        event.name == "comment_created"
        and comment is not None
        and comment.public
        and comment.author_type == "customer"
    )


def _status_changed(event: Event) -> bool:
    return any((item.field_id or item.field).casefold() == "status" for item in event.changelog)


def _abonneenummer(event: Event, mappings: Mappings, field_ids: Mapping[str, str]) -> str | None:
    """The request's abonneenummer field, zero-padded to 8 digits (None when it is not one)."""
    raw = event.fields.get(field_ids.get(mappings.fields.abonneenummer, ""))
    text = raw.strip() if isinstance(raw, str) else str(raw) if isinstance(raw, int) else ""
    digits = "".join(ch for ch in text if ch not in " .-")
    return digits.zfill(8) if digits.isdigit() and len(digits) <= 8 else None


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
