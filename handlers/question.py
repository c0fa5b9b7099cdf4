"""Answers a practice's question: the common questions of the help page, for its own system.

A recognised question (one or two common questions) gets one public answer with the facts for
the practice's HIS/AIS, and, when the bot tracks a case for the same practice, that case's real
status and dates. The request is labelled, left open for an agent, and gets an internal note
saying what was recognised. When unsure, only an internal note with the candidate answers goes
out. A question never opens a case.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from bot.context import HandlerContext, KnownCase, StepState
from bot.events import Event
from bot.mappings import Mappings
from bot.markup import escape_inline, trusted
from bot.plan import ISSUE_KEY, CommentSpec, LabelSpec, Plan
from bot.router import Router
from handlers.classify import read_request_facts, read_signals, request_text, routed_classification
from handlers.renewal_values import format_date_nl

WORKFLOW = "question"
ANSWER_SLUG = "question:answer"
NOTE_SLUG = "question:note"
UNSURE_SLUG = "question:unsure"
AUTO_LABEL = "uzibot-auto-answered"
MAX_TOPICS = 2
"""More common questions than this in one request: unsure (an agent answers)."""
MAX_CANDIDATES = 3
STATUS_TOPICS = frozenset({"renewal_succeeded", "warning_visible", "duration"})
"""Topics whose generic self-check is replaced by the practice's own case when there is one."""
RENEWAL_DAYS = 21
"""About three weeks from when the desk has the new certificate (help page)."""

router = Router()


@router.register("jira:issue_created", WORKFLOW)
def plan_question(event: Event, ctx: HandlerContext) -> Plan | None:
    """The answer (or, when unsure, the agents' note) for a new request recognised as a question.

    Only on creation: later updates of the request must not make the bot speak again.
    """
    found = routed_classification(event, ctx)
    if found is None or found.workflow != WORKFLOW or not event.issue_key:
        return None
    key = event.issue_key
    mappings = ctx.mappings
    signals = read_signals(request_text(event), mappings)
    facts = read_request_facts(event, ctx)
    case = pick_case(ctx.known_cases)
    values = answer_values(mappings, facts.vendor, facts.practice_name, case, ctx.today)
    templates = mappings.workflow(WORKFLOW).templates
    labels = {slug: topic.label for slug, topic in mappings.keywords.question.topics.items()}
    note_values = {
        **values,
        "request_key": trusted(key) if ISSUE_KEY.match(key) else escape_inline(key),
        "reasons": tuple(escape_inline(r, 300) for r in found.reasons),
        "vendor_source": trusted(facts.vendor_source) if facts.vendor_source else None,
    }
    if 1 <= len(signals.topics) <= MAX_TOPICS:
        topics = signals.topics
        answer = mappings.render(templates["answer"], **values, topics=_trusted(topics))
        note = mappings.render(
            templates["note"],
            **note_values,
            topics=_trusted(topics),
            topic_labels=tuple(trusted(labels[t]) for t in topics),
        )
        return Plan(
            handler=WORKFLOW,
            summary=(
                f"question {key}: answered ({', '.join(topics)}"
                f"{', case ' + case.request_key if case else ''}); labelled, left open"
            ),
            comments=(
                CommentSpec(slug=ANSWER_SLUG, issue_key=key, body=answer, public=True),
                CommentSpec(slug=NOTE_SLUG, issue_key=key, body=note, public=False),
            ),
            labels=(LabelSpec(issue_key=key, label=AUTO_LABEL),),
        )
    candidates = (signals.topics if len(signals.topics) > MAX_TOPICS else signals.partial_topics)[
        :MAX_CANDIDATES
    ]
    drafts = tuple(
        mappings.render(templates["answer"], **values, topics=_trusted((topic,)))
        for topic in candidates
    )
    unsure = mappings.render(
        templates["unsure"],
        **note_values,
        recognised=_trusted(signals.topics),
        candidates=tuple(
            {"label": trusted(labels[t]), "slug": trusted(t), "draft": trusted(d)}
            for t, d in zip(candidates, drafts, strict=True)
        ),
    )
    return Plan(
        handler=WORKFLOW,
        summary=f"question {key}: not sure what is asked; internal note with "
        f"{len(candidates)} candidate answer(s)",
        comments=(CommentSpec(slug=UNSURE_SLUG, issue_key=key, body=unsure, public=False),),
    )


def pick_case(cases: Sequence[KnownCase]) -> KnownCase | None:
    """The case to speak about: the newest open one, else the newest one."""
    open_cases = [c for c in cases if not c.closed]
    ranked = open_cases or list(cases)
    return ranked[0] if ranked else None


def answer_values(
    mappings: Mappings,
    vendor: Any,
    practice_name: str | None,
    case: KnownCase | None,
    today: date,
) -> dict[str, Any]:
    """The values of the answer templates, escaped for wiki markup."""
    return {
        "vendor": escape_inline(vendor.name) if vendor else None,
        "delivery": trusted(vendor.delivery) if vendor else None,
        "fallback_login": vendor.fallback_login if vendor else True,
        "practice_name": escape_inline(practice_name, 300) if practice_name else None,
        "case": case_values(case, mappings, today) if case else None,
        "upload_vendors": tuple(
            escape_inline(v.name) for v in mappings.vendors if v.delivery == "self_upload"
        ),
        "sending_vendors": tuple(
            escape_inline(v.name) for v in mappings.vendors if v.delivery == "vendor"
        ),
    }


def case_values(case: KnownCase, mappings: Mappings, today: date) -> dict[str, Any]:
    """A tracked case as the answer tells it: its steps in order, done or not, with dates."""
    flow = mappings.workflows.get(case.workflow)
    by_slug = {step.slug: step for step in case.steps}
    order = [sub.slug for sub in flow.subtasks] if flow else []
    steps = [
        {
            "slug": trusted(slug),
            "done": _done(by_slug[slug], mappings, case.workflow),
            "done_on": _dutch(by_slug[slug].done_on),
        }
        for slug in order
        if slug in by_slug
    ]
    received = by_slug.get("receive_certificate") or by_slug.get("new_certificate")
    expected = None
    if received is not None and _done(received, mappings, case.workflow) and received.done_on:
        expected_day = date.fromisoformat(received.done_on) + timedelta(days=RENEWAL_DAYS)
        expected = format_date_nl(expected_day) if expected_day >= today else None
    return {
        "workflow": trusted(case.workflow),
        "request_key": trusted(case.request_key),
        "opened_on": _dutch(case.opened_on),
        "due_on": _dutch(case.due_on),
        "closed": case.closed,
        "steps": tuple(steps),
        "expected_by": trusted(expected) if expected else None,
    }


def _done(step: StepState, mappings: Mappings, workflow: str) -> bool:
    flow = mappings.workflows.get(workflow)
    life = flow.lifecycle if flow else None
    names = {n.strip().casefold() for n in (life.done_statuses if life else ("Done",))}
    by_name = (step.status or "").strip().casefold() in names
    return by_name or bool(life and life.done_category and step.done_category)


def _dutch(iso: str | None) -> Any:
    if not iso:
        return None
    try:
        return trusted(format_date_nl(date.fromisoformat(iso[:10])))
    except ValueError:
        return None


def _trusted(items: Sequence[str]) -> tuple[Any, ...]:
    return tuple(trusted(item) for item in items)
