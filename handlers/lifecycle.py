"""Follows a case by Jira's current state: tells the practice each finished step, in order.

Every sub-task update re-reads the whole case (`ctx.case_steps`, gathered before dispatch), so
webhooks that arrive late, twice or out of order change nothing: a step's message goes out
only when every earlier step is done too, each once (fixed slugs), and the case is closed only
when every sub-task is done. A sub-task moved back out of done gets the agents a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.context import HandlerContext, StepState
from bot.events import ChangeItem, Event
from bot.mappings_schema import Lifecycle
from bot.markup import escape_inline, trusted
from bot.plan import CASE_LABEL, ISSUE_KEY, CommentSpec, Plan, TransitionSpec
from bot.router import Router

HANDLER = "lifecycle"
HANDLED_EVENTS = ("jira:issue_updated",)
RESOLVE_SLUG = "lifecycle:resolve"
TRACKING_DONE_SLUG = "lifecycle:tracking_done"

router = Router()


@dataclass(frozen=True)
class Step:
    """One sub-task of a case, as its `uzibot` entity property describes it."""

    workflow: str
    slug: str
    request_key: str
    tracking_key: str
    lifecycle: Lifecycle
    facts: Mapping[str, Any]


@dataclass(frozen=True)
class Progress:
    """Where the case stands: its steps in order, which are done, the done prefix."""

    order: tuple[str, ...]
    done: frozenset[str]
    states: Mapping[str, StepState]

    @property
    def prefix(self) -> tuple[str, ...]:
        """The leading steps that are all done: the ones the practice may hear about."""
        out: list[str] = []
        for slug in self.order:
            if slug not in self.done:
                break
            out.append(slug)
        return tuple(out)

    @property
    def complete(self) -> bool:
        """True when every step of the case is done."""
        return bool(self.order) and len(self.prefix) == len(self.order)

    def waiting_for(self, slug: str) -> tuple[str, ...]:
        """The steps before `slug` that are not done."""
        before = self.order[: self.order.index(slug)] if slug in self.order else ()
        return tuple(s for s in before if s not in self.done)


def plan_lifecycle(event: Event, ctx: HandlerContext) -> Plan | None:
    """Messages for the finished steps in order, notes for the agents, and the closing moves.

    The confirmation message itself is planned by `plan_confirmation`, applied after this
    plan: it goes out only once the request was really resolved.
    """
    step = read_step(event, ctx)
    if step is None or not status_changed(event):
        return None
    progress = read_progress(step, event, ctx)
    confirmation = step.lifecycle.confirmation
    comments = [
        _message(step, slug, ctx)
        for slug in progress.prefix
        if slug != confirmation and slug in step.lifecycle.templates
    ]
    notes = _notes(event, step, progress)
    transitions: tuple[TransitionSpec, ...] = ()
    if progress.complete:
        transitions = (
            TransitionSpec(
                slug=TRACKING_DONE_SLUG,
                issue_key=step.tracking_key,
                transition=step.lifecycle.tracking_done_transition,
            ),
            TransitionSpec(
                slug=RESOLVE_SLUG,
                issue_key=step.request_key,
                transition=step.lifecycle.resolve_transition,
            ),
        )
    if not comments and not notes and not transitions:
        return None
    done = ", ".join(progress.prefix) or "none"
    closing = f"; close {step.tracking_key}, resolve {step.request_key}" if transitions else ""
    return Plan(
        handler=HANDLER,
        summary=(
            f"{step.workflow} sub-task {event.issue_key} ({step.slug}) changed: steps done in "
            f"order: {done}; {len(notes)} note(s){closing}"
        ),
        comments=(*comments, *notes),
        transitions=transitions,
    )


def plan_confirmation(event: Event, ctx: HandlerContext) -> Plan | None:
    """The closing message, when every step is done (after `plan_lifecycle` closed the case)."""
    step = read_step(event, ctx)
    if step is None or not status_changed(event):
        return None
    confirmation = step.lifecycle.confirmation
    if confirmation is None or confirmation not in step.lifecycle.templates:
        return None
    if not read_progress(step, event, ctx).complete:
        return None
    return Plan(
        handler=HANDLER,
        summary=f"{step.workflow} case of {step.request_key} complete: confirmation message",
        comments=(_message(step, confirmation, ctx),),
    )


for _name in HANDLED_EVENTS:
    router.register(_name, HANDLER)(plan_lifecycle)
    router.register(_name, HANDLER)(plan_confirmation)


def read_progress(step: Step, event: Event, ctx: HandlerContext) -> Progress:
    """The case's steps in workflow order and which are done, from Jira's current state.

    Without the case's state (nothing could be read) only this event's own sub-task is known:
    done when the changelog moved it to done.
    """
    kind = step.facts.get("kind")
    order = tuple(
        sub.slug
        for sub in ctx.mappings.subtasks_for(step.workflow, kind if isinstance(kind, str) else None)
    )
    states = ctx.case_steps
    if states is None:
        done = frozenset({step.slug} if moved_to_done(event, step.lifecycle) else ())
        return Progress(order, done, {})
    names = {name.strip().casefold() for name in step.lifecycle.done_statuses}
    done = frozenset(
        slug
        for slug, state in states.items()
        if (state.status or "").strip().casefold() in names
        or (step.lifecycle.done_category and state.done_category)
    )
    return Progress(order, done, states)


def _message(step: Step, slug: str, ctx: HandlerContext) -> CommentSpec:
    template = step.lifecycle.templates[slug]
    return CommentSpec(
        slug=f"{HANDLER}:{slug}",
        issue_key=step.request_key,
        body=ctx.mappings.render(template, **step_values(step, ctx)),
        public=True,
    )


def _notes(event: Event, step: Step, progress: Progress) -> list[CommentSpec]:
    """Internal notes: a step reopened, or a step done while earlier ones are not."""
    key = event.issue_key or step.slug
    reopened = moved_out_of_done(event, step.lifecycle) and step.slug not in progress.done
    if reopened:
        stamp = int(event.timestamp.timestamp() * 1000) if event.timestamp else event.delivery_id
        later = [s for s in progress.order[progress.order.index(step.slug) + 1 :]]
        return [
            CommentSpec(
                slug=f"{HANDLER}:reopened:{key}:{stamp}",
                issue_key=step.request_key,
                body=(
                    f"*uzibot: sub-task {key} ({step.slug}) was moved back out of done* "
                    f"(now {_status_of(progress, step.slug, event)}).\n"
                    "uzibot told the practice nothing about this. Messages for this step and "
                    f"the later ones ({', '.join(later) or 'none'}) wait until it is done "
                    "again; the request is not closed before every sub-task is done. If the "
                    "practice was already told something that is no longer true, tell them."
                ),
                public=False,
            )
        ]
    waiting = progress.waiting_for(step.slug)
    if step.slug in progress.done and waiting:
        return [
            CommentSpec(
                slug=f"{HANDLER}:waiting:{step.slug}",
                issue_key=step.request_key,
                body=(
                    f"*uzibot: sub-task {key} ({step.slug}) is done, but earlier steps are "
                    f"not*: {', '.join(_describe(progress, s) for s in waiting)}.\n"
                    "uzibot holds the practice's message for this step until the earlier "
                    "steps are done, and closes the request only when every sub-task is done."
                ),
                public=False,
            )
        ]
    return []


def _describe(progress: Progress, slug: str) -> str:
    state = progress.states.get(slug)
    if state is None:
        return f"{slug} (not found)"
    return f"{slug} ({state.key}: {state.status or 'unknown status'})"


def _status_of(progress: Progress, slug: str, event: Event) -> str:
    state = progress.states.get(slug)
    return (state.status if state else None) or event.status or "not done"


def read_step(event: Event, ctx: HandlerContext) -> Step | None:
    """The step this event's sub-task stands for; None unless it is one of the bot's own."""
    prop = ctx.case_property
    if not event.is_subtask or CASE_LABEL not in event.labels or not isinstance(prop, Mapping):
        return None
    workflow = prop.get("workflow")
    flow = ctx.mappings.workflows.get(workflow) if isinstance(workflow, str) else None
    if flow is None or flow.lifecycle is None:
        return None
    slug = prop.get("slug")
    if not isinstance(slug, str) or slug not in {sub.slug for sub in flow.subtasks}:
        return None
    request_key = _issue_key(prop.get("request_key"))
    tracking_key = (
        _issue_key(prop.get("tracking_key"))
        or _issue_key(prop.get("parent"))
        or _issue_key(event.parent_key)
    )
    if request_key is None or tracking_key is None:
        return None
    return Step(str(workflow), slug, request_key, tracking_key, flow.lifecycle, prop)


def moved_to_done(event: Event, lifecycle: Lifecycle) -> bool:
    """True when the changelog moves the issue into a status that counts as done."""
    done = {name.strip().casefold() for name in lifecycle.done_statuses}
    for item in event.changelog:
        if not _is_status(item):
            continue
        if (item.to_string or "").strip().casefold() in done:
            return True
        if lifecycle.done_category and _in_done_category(event, item):
            return True
    return False


def moved_out_of_done(event: Event, lifecycle: Lifecycle) -> bool:
    """True when the changelog moves the issue from a done status to one that is not done."""
    done = {name.strip().casefold() for name in lifecycle.done_statuses}
    for item in event.changelog:
        if not _is_status(item):
            continue
        left = (item.from_string or "").strip().casefold() in done
        if left and (item.to_string or "").strip().casefold() not in done:
            return True
    return False


def status_changed(event: Event) -> bool:
    """True when the changelog has a status change (other edits do not move the case)."""
    return any(_is_status(item) for item in event.changelog)


def step_values(step: Step, ctx: HandlerContext) -> dict[str, Any]:
    """The values of a step template, escaped for wiki markup (facts come from Jira)."""
    facts = step.facts
    vendor = ctx.mappings.match_vendor(_text(facts.get("vendor")))
    kind = _text(facts.get("kind"))
    kind_def = next((d for k, d in ctx.mappings.kinds.items() if k == kind), None)
    practice_name = _text(facts.get("practice_name"))
    return {
        "request_key": trusted(step.request_key),
        "practice_name": escape_inline(practice_name, 300) if practice_name else None,
        "vendor": trusted(vendor.name) if vendor else None,
        "delivery": trusted(vendor.delivery) if vendor else None,
        "fallback_login": vendor.fallback_login if vendor else True,
        "kind": trusted(kind) if kind and kind_def else None,
        "kind_phrase": trusted(kind_def.phrase_nl) if kind_def else None,
        "switched_off": _date_reached(facts.get("deactivation_date"), ctx.today),
    }


def _is_status(item: ChangeItem) -> bool:
    return (item.field_id or item.field).casefold() == "status"


def _in_done_category(event: Event, item: ChangeItem) -> bool:
    """The issue's current status is the changelog's target and is in the 'done' category."""
    status = event.fields.get("status")
    if not isinstance(status, dict):
        return False
    category = status.get("statusCategory")
    same = (item.to_value is not None and str(status.get("id")) == item.to_value) or (
        item.to_string is not None and status.get("name") == item.to_string
    )
    return same and isinstance(category, dict) and category.get("key") == "done"


def _issue_key(value: Any) -> str | None:
    return value if isinstance(value, str) and ISSUE_KEY.match(value) else None


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _date_reached(value: Any, today: date) -> bool:
    """True when an ISO date from the case facts is today or earlier."""
    if not isinstance(value, str):
        return False
    try:
        return date.fromisoformat(value[:10]) <= today
    except ValueError:
        return False
