"""Asks the agents, in an internal note, when nothing decides what a portal request is about."""

from __future__ import annotations

from typing import Any

from bot.context import HandlerContext
from bot.events import Event
from bot.mappings import Mappings
from bot.markup import escape_inline, trusted
from bot.plan import CommentSpec, Plan
from bot.router import Router
from handlers.certificates import unread_values
from handlers.classify import Classification, routed_classification
from handlers.practice_change import WIKI, field_labels

HANDLED_EVENTS = ("jira:issue_created", "jira:issue_updated")
TRIAGE_SLUG = "triage:undecided"

router = Router()


def plan_triage(event: Event, ctx: HandlerContext) -> Plan | None:
    """An internal note listing what is missing; None when the request was recognised."""
    found = routed_classification(event, ctx)
    if found is None or found.decided or not event.issue_key:
        return None
    mappings = ctx.mappings
    request_type = f"{event.request_type_name or '(no name)'} ({event.request_type_id})"
    body = mappings.render(
        mappings.workflow("triage").templates["note"],
        **{
            **triage_values(found, request_type, mappings),
            "unread": unread_values(ctx.unread_certificates),
        },
    )
    note = CommentSpec(slug=TRIAGE_SLUG, issue_key=event.issue_key, body=body, public=False)
    return Plan(
        handler="triage",
        summary=f"undecided request {event.issue_key}: internal note for the agents",
        comments=(note,),
    )


def triage_values(found: Classification, request_type: str, mappings: Mappings) -> dict[str, Any]:
    """The values of the triage note template, escaped for wiki markup."""
    return {
        "request_type": escape_inline(request_type),
        "request_type_mapped": found.request_type_mapped,
        "request_type_generic": found.request_type_generic,
        "change_kind": escape_inline(found.change_kind_field) if found.change_kind_field else None,
        "kinds_found": tuple(trusted(mappings.kinds[k].label_en) for k in found.kinds_in_text),
        "reasons": tuple(escape_inline(reason, 300) for reason in found.reasons),
        "fields": field_labels(mappings, WIKI),
        "unread": None,
    }


for _name in HANDLED_EVENTS:
    router.register(_name, "triage")(plan_triage)
