"""`uzibot plan FILE`: what the bot would do with one webhook payload, without Jira."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from bot.certs.deadlines import amsterdam
from bot.context import HandlerContext
from bot.envelope import EnvelopeError, parse_jira_envelope
from bot.mappings import MappingsError, load_mappings
from bot.plan import Plan
from bot.sandbox.seed import default_fields
from bot.signature import body_delivery_id


def example_field_ids() -> dict[str, str]:
    """Field ids of the example site (the sandbox and the bundled fixtures use these)."""
    return {f.name: f.id for f in default_fields() if f.id.startswith("customfield_")}


def run_plan(
    file: str,
    *,
    as_json: bool,
    today: date | None,
    out: TextIO,
    mappings_dir: Path | None = None,
) -> int:
    """Print the plans for the payload in FILE; exit 1 when it cannot be read, 0 otherwise."""
    from bot.wiring import build_router

    try:
        raw = Path(file).read_bytes()
        event = parse_jira_envelope(json.loads(raw), body_delivery_id(raw))
        mappings = load_mappings(mappings_dir)
    except (OSError, ValueError, EnvelopeError, MappingsError) as exc:
        print(f"uzibot plan: {file}: {exc}", file=sys.stderr)
        return 1
    ctx = HandlerContext(
        mappings=mappings,
        today=today or datetime.now(amsterdam()).date(),
        tracking_project=event.project_key or "UZO",
        service_desk_project=event.project_key or "UZO",
        field_ids={**example_field_ids(), **mappings.field_ids},
    )
    plans = build_router().dispatch(event, ctx)
    if as_json:
        print(
            json.dumps([p.model_dump(mode="json") for p in plans], indent=2, ensure_ascii=False),
            file=out,
        )
        return 0
    if not plans:
        print(f"{event.name} {event.issue_key or ''}: nothing to do", file=out)
    for plan in plans:
        print(format_plan(plan), file=out)
    return 0


def format_plan(plan: Plan) -> str:
    """A readable rendering of one plan: the case, its sub-tasks and every comment in full."""
    lines = [f"== {plan.handler}: {plan.summary}".rstrip(": ")]
    if plan.case is not None:
        case = plan.case
        lines.append(f"tracking issue: {case.summary}")
        lines.append(f"  labels: {', '.join(case.labels)}")
        if case.due_date:
            lines.append(f"  due: {case.due_date.isoformat()}")
        if case.priority:
            lines.append(f"  priority: {case.priority}")
        for sub in case.subtasks:
            lines.append(f"  sub-task [{sub.slug}]: {sub.summary}")
    for comment in plan.comments:
        kind = "public comment" if comment.public else "internal note"
        lines.append(f"-- {kind} on {comment.issue_key} [{comment.slug}]")
        lines.append(comment.body)
    for transition in plan.transitions:
        lines.append(f"-- transition {transition.issue_key}: {transition.transition}")
    return "\n".join(lines)
