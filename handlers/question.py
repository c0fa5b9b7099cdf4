"""Acknowledges a practice's question at once, so the practice knows it reached the desk."""

from __future__ import annotations

from bot.context import HandlerContext
from bot.events import Event
from bot.plan import CommentSpec, Plan
from bot.router import Router
from handlers.classify import routed_classification

ACK_SLUG = "question:ack"

router = Router()


@router.register("jira:issue_created", "question")
def plan_question(event: Event, ctx: HandlerContext) -> Plan | None:
    """A public acknowledgement for a new request recognised as a question; None otherwise.

    Only on creation: a question is answered by a person, and later updates of the request
    must not make the bot speak again.
    """
    found = routed_classification(event, ctx)
    if found is None or found.workflow != "question" or not event.issue_key:
        return None
    template = ctx.mappings.workflow("question").templates["ack"]
    ack = CommentSpec(
        slug=ACK_SLUG, issue_key=event.issue_key, body=ctx.mappings.render(template), public=True
    )
    return Plan(
        handler="question",
        summary=f"question {event.issue_key}: public acknowledgement",
        comments=(ack,),
    )
