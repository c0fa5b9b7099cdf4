"""Routes an Event to the handlers registered for its name; routers compose (gidgethub style)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from bot.context import HandlerContext
from bot.events import Event
from bot.plan import Plan

Handler = Callable[[Event, HandlerContext], Plan | None]


class Router:
    """A table of event name -> handlers; `Router(*others)` merges other routers' tables."""

    def __init__(self, *others: Router) -> None:
        self._table: dict[str, list[Handler]] = defaultdict(list)
        for other in others:
            for name, handlers in other._table.items():
                self._table[name].extend(handlers)

    def register(self, event_name: str) -> Callable[[Handler], Handler]:
        """Decorator: call the function for every Event with this name."""

        def decorate(func: Handler) -> Handler:
            self._table[event_name].append(func)
            return func

        return decorate

    def event_names(self) -> frozenset[str]:
        """The event names at least one handler listens to."""
        return frozenset(name for name, handlers in self._table.items() if handlers)

    def dispatch(self, event: Event, ctx: HandlerContext) -> list[Plan]:
        """Run every handler for the event; keep the plans that want something done."""
        plans = []
        for handler in self._table.get(event.name, ()):
            plan = handler(event, ctx)
            if plan is not None and not plan.is_empty():
                plans.append(plan)
        return plans
