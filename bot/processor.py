"""Turns one stored delivery into Jira effects: parse, filter, gather facts, route, reconcile."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bot.catalog import is_handled
from bot.context import HandlerContext
from bot.envelope import parse_automation_payload, parse_jira_envelope, with_current_issue
from bot.events import Event
from bot.facts import KnownCaseSource, Scope, gather_context
from bot.inbox.store import Delivery
from bot.jira.gateway import JiraGateway
from bot.logs import add_log_fields
from bot.mappings import Mappings
from bot.reconciler import Reconciler
from bot.router import Router

log = logging.getLogger("uzibot.processor")


@dataclass
class Processor:
    """Everything needed to process a delivery; `process` returns the outcome label."""

    gateway: JiraGateway
    router: Router
    reconciler: Reconciler
    mappings: Mappings
    scope: Scope
    today: Callable[[], date]
    bot_account_id: str = ""
    cases: KnownCaseSource | None = None

    def account_id(self) -> str:
        """The bot's own account id: from settings, else asked once from GET /myself."""
        if not self.bot_account_id:
            self.bot_account_id = self.gateway.myself()
        return self.bot_account_id

    def event_of(self, delivery: Delivery) -> Event:
        """Re-parse the stored raw body (it was validated at intake)."""
        return self.event_of_payload(json.loads(delivery.body), delivery)

    def with_current_fields(self, event: Event, delivery: Delivery) -> Event:
        """Comment events and Automation requests carry only a few issue fields: re-read them.

        Jira's `comment_created` payload has no custom fields, request type or attachments, so
        the handlers would not recognise the request; one GET gives them the whole issue.
        """
        if not event.issue_key or not (
            event.name == "comment_created" or event.source == "automation"
        ):
            return event
        issue = self.gateway.get_issue(event.issue_key)
        if issue is None:
            return event
        payload = with_current_issue(json.loads(delivery.body), issue)
        refreshed = self.event_of_payload(payload, delivery)
        return refreshed.model_copy(
            update={"actor_account_id": event.actor_account_id, "actor_type": event.actor_type}
        )

    def event_of_payload(self, payload: object, delivery: Delivery) -> Event:
        """Parse a payload as the delivery's source would have sent it."""
        parse = parse_automation_payload if delivery.source == "automation" else parse_jira_envelope
        return parse(payload, delivery.id)

    def context_for_event(self, event: Event) -> HandlerContext:
        """The facts the handlers read, gathered from the site."""
        return gather_context(
            event,
            mappings=self.mappings,
            scope=self.scope,
            today=self.today(),
            source=self.gateway,
            cases=self.cases,
        )

    def process(self, delivery: Delivery) -> str:
        """Apply what the handlers want for this delivery; return the outcome label."""
        event = self.event_of(delivery)
        if not is_handled(event.name):
            return "ignored:event"
        if event.actor_account_id and event.actor_account_id == self.account_id():
            return "ignored:echo"
        event = self.with_current_fields(event, delivery)
        ctx = self.context_for_event(event)
        route = self.router.route(event, ctx)
        add_log_fields(workflow=route.workflow)
        if route.workflow is None:
            return "ignored:no-route"
        plans = self.router.dispatch(event, ctx, route)
        if not plans:
            return "ignored:no-plan"
        applied: list[str] = []
        for plan in plans:
            applied += self.reconciler.apply(plan, delivery.id)
        log.info(
            "delivery %s (%s %s, %s): %d effects applied",
            delivery.id,
            event.name,
            event.issue_key,
            route.workflow,
            len(applied),
        )
        return "done"
