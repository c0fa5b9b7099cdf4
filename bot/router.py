"""Routes an Event to the handlers of its (event name, workflow); routers compose (gidgethub style).

The workflow is decided once per event, before dispatch, by the `decide` function the router is
built with; the triage route is the explicit fallback for requests nothing recognised.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

from bot.catalog import HANDLED_EVENTS
from bot.context import HandlerContext, Route
from bot.events import Event
from bot.plan import Plan

Handler = Callable[[Event, HandlerContext], Plan | None]
Decide = Callable[[Event, HandlerContext], Route]


class Router:
    """A table of (event name, workflow) -> handlers; `Router(*others)` merges their tables."""

    def __init__(self, *others: Router, decide: Decide | None = None) -> None:
        self._table: dict[tuple[str, str], list[Handler]] = defaultdict(list)
        self.decide = decide
        for other in others:
            for route, handlers in other._table.items():
                self._table[route].extend(handlers)

    def register(self, event_name: str, workflow: str) -> Callable[[Handler], Handler]:
        """Decorator: call the function for every Event of this name routed to `workflow`."""
        if event_name not in HANDLED_EVENTS:
            raise ValueError(f"{event_name!r} is not declared handled in bot.catalog")

        def decorate(func: Handler) -> Handler:
            self._table[(event_name, workflow)].append(func)
            return func

        return decorate

    def routes(self) -> frozenset[tuple[str, str]]:
        """Every (event name, workflow) at least one handler listens to."""
        return frozenset(route for route, handlers in self._table.items() if handlers)

    def route(self, event: Event, ctx: HandlerContext) -> Route:
        """Decide the event's workflow once; no decider means no route."""
        return self.decide(event, ctx) if self.decide is not None else Route(None)

    def dispatch(self, event: Event, ctx: HandlerContext, route: Route | None = None) -> list[Plan]:
        """Run the handlers of the event's route; keep the plans that want something done."""
        route = route or self.route(event, ctx)
        if route.workflow is None:
            return []
        routed = replace(ctx, route=route)
        plans = []
        for handler in self._table.get((event.name, route.workflow), ()):
            plan = handler(event, routed)
            if plan is not None and not plan.is_empty():
                plans.append(plan)
        return plans
