"""Follows a case's sub-tasks: tells the practice each finished step and closes the case."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.context import HandlerContext
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


def plan_lifecycle(event: Event, ctx: HandlerContext) -> Plan | None:
    """A public step message when one of the bot's sub-tasks moved to a done status.

    When that sub-task is the workflow's confirmation step, the request is resolved and the
    tracking issue is closed too. Every effect has a fixed slug, so a sub-task that is
    reopened and done again (or a replayed delivery) adds nothing.
    """
    step = read_step(event, ctx)
    if step is None or not moved_to_done(event, step.lifecycle):
        return None
    comments: tuple[CommentSpec, ...] = ()
    template = step.lifecycle.templates.get(step.slug)
    if template is not None:
        body = ctx.mappings.render(template, **step_values(step, ctx))
        comments = (
            CommentSpec(
                slug=f"{HANDLER}:{step.slug}", issue_key=step.request_key, body=body, public=True
            ),
        )
    transitions: tuple[TransitionSpec, ...] = ()
    if step.slug == step.lifecycle.confirmation:
        transitions = (
            TransitionSpec(
                slug=RESOLVE_SLUG,
                issue_key=step.request_key,
                transition=step.lifecycle.resolve_transition,
            ),
            TransitionSpec(
                slug=TRACKING_DONE_SLUG,
                issue_key=step.tracking_key,
                transition=step.lifecycle.tracking_done_transition,
            ),
        )
    closing = f"; resolve {step.request_key}, close {step.tracking_key}" if transitions else ""
    return Plan(
        handler=HANDLER,
        summary=(
            f"{step.workflow} sub-task {event.issue_key} ({step.slug}) done: "
            f"{len(comments)} public comment on {step.request_key}{closing}"
        ),
        comments=comments,
        transitions=transitions,
    )


for _name in HANDLED_EVENTS:
    router.register(_name, HANDLER)(plan_lifecycle)


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
