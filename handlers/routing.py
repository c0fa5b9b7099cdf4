"""Decides once per event which workflow it belongs to, and composes every concern's router."""

from __future__ import annotations

from bot.context import HandlerContext, Route
from bot.events import Event
from bot.plan import CASE_LABEL
from bot.router import Router
from handlers.classify import classify, is_service_request


def decide_route(event: Event, ctx: HandlerContext) -> Route:
    """The bot's own sub-tasks follow their case; a portal request is classified exactly once.

    A request nothing recognises takes the explicit fallback route, triage. Anything else (other
    projects, the bot's tracking issues) has no route and is ignored.
    """
    if event.is_subtask and CASE_LABEL in event.labels:
        return Route("lifecycle")
    if not is_service_request(event, ctx):
        return Route(None)
    found = classify(event, ctx)
    return Route(found.workflow or "triage", found)


def build_router() -> Router:
    """Every concern's routes in one table, dispatched by `decide_route`."""
    from handlers import (
        certificates,
        lifecycle,
        practice_change,
        question,
        renewal,
        replies,
        triage,
    )

    return Router(
        practice_change.router,
        renewal.router,
        question.router,
        replies.router,
        triage.router,
        lifecycle.router,
        certificates.router,
        decide=decide_route,
    )
