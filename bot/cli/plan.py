"""`uzibot plan FILE`: what the bot would do with one webhook payload, without Jira."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from bot.certs.deadlines import amsterdam
from bot.envelope import EnvelopeError, parse_jira_envelope
from bot.example_site import EXAMPLE_FIELD_IDS
from bot.facts import FactSource, Scope, gather_context, resolve_field_ids, unknown_fields
from bot.mappings import Mappings, MappingsError, load_mappings
from bot.plan import Plan
from bot.signature import body_delivery_id


def example_field_ids() -> dict[str, str]:
    """Field ids of the example site (the sandbox and the bundled payloads use these)."""
    return dict(EXAMPLE_FIELD_IDS)


def run_plan(
    file: str,
    *,
    as_json: bool,
    today: date | None,
    out: TextIO,
    mappings_dir: Path | None = None,
    example_site: bool = False,
    source: FactSource | None = None,
) -> int:
    """Print the plans for the payload in FILE; exit 1 when it cannot be read, 0 otherwise.

    Offline (no `source`) the field ids come from mappings (or the example site's, with
    `example_site`), and nothing is downloaded; with a source (the site's gateway, read-only)
    the facts are gathered exactly as the worker gathers them.
    """
    from handlers.routing import build_router

    try:
        raw = Path(file).read_bytes()
        event = parse_jira_envelope(json.loads(raw), body_delivery_id(raw))
        mappings = load_mappings(mappings_dir)
    except (OSError, ValueError, EnvelopeError, MappingsError) as exc:
        print(f"uzibot plan: {file}: {exc}", file=sys.stderr)
        return 1
    project = event.project_key or "UZO"
    ctx = gather_context(
        event,
        mappings=mappings,
        scope=Scope(service_desk_project=project, tracking_project=project, max_cert_bytes=65536),
        today=today or datetime.now(amsterdam()).date(),
        source=source,
        field_ids=_field_ids(mappings, source, example_site),
    )
    router = build_router()
    plans = router.dispatch(event, ctx, router.route(event, ctx))
    if as_json:
        print(
            json.dumps([p.model_dump(mode="json") for p in plans], indent=2, ensure_ascii=False),
            file=out,
        )
        return 0
    missing = unknown_fields(mappings, ctx.field_ids)
    if missing:
        print(
            f"field ids unknown, their values were not read: {', '.join(missing)} "
            "(set them under [ids] in fields.toml, run with --online against the site, "
            "or --example-site for the bundled examples)",
            file=out,
        )
    if event.attachments and source is None:
        print(
            f"{len(event.attachments)} attachment(s) not downloaded offline "
            "(--online reads them from the site)",
            file=out,
        )
    if not plans:
        print(f"{event.name} {event.issue_key or ''}: nothing to do", file=out)
    for plan in plans:
        print(format_plan(plan), file=out)
    return 0


def _field_ids(mappings: Mappings, source: FactSource | None, example: bool) -> dict[str, str]:
    """The ids the plan reads fields by: the example site's, then mappings', then the site's."""
    base = example_field_ids() if example else {}
    return {**base, **resolve_field_ids(mappings, source)}


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
