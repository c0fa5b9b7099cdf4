"""Turns one stored delivery into Jira effects: parse, filter, gather facts, route, reconcile."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bot.catalog import is_handled
from bot.certs.attachments import read_attached_certificates
from bot.certs.registry import record_certificates
from bot.context import HandlerContext
from bot.envelope import parse_automation_payload, parse_jira_envelope
from bot.events import Event
from bot.inbox.store import Delivery, Store
from bot.jira.gateway import JiraGateway
from bot.mappings import Mappings
from bot.reconciler import CASE_LABEL, CASE_PROPERTY, Reconciler
from bot.router import Router

log = logging.getLogger("uzibot.processor")


@dataclass
class Processor:
    """Everything needed to process a delivery; `process` returns the outcome label."""

    gateway: JiraGateway
    router: Router
    reconciler: Reconciler
    store: Store
    mappings: Mappings
    service_desk_project: str
    tracking_project: str
    today: Callable[[], date]
    max_cert_bytes: int
    bot_account_id: str = ""

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
        payload = json.loads(delivery.body)
        payload["issue"] = {**payload.get("issue", {}), **issue}
        refreshed = self.event_of_payload(payload, delivery)
        return refreshed.model_copy(
            update={"actor_account_id": event.actor_account_id, "actor_type": event.actor_type}
        )

    def event_of_payload(self, payload: object, delivery: Delivery) -> Event:
        """Parse a payload as the delivery's source would have sent it."""
        parse = parse_automation_payload if delivery.source == "automation" else parse_jira_envelope
        return parse(payload, delivery.id)

    def context_for(self, event: Event, *, with_certificates: bool) -> HandlerContext:
        """Collect the facts the handlers read: field ids, today, certificates, case property."""
        today = self.today()
        case_property = None
        if event.issue_key and CASE_LABEL in event.labels and event.name == "jira:issue_updated":
            found = self.gateway.get_property(event.issue_key, CASE_PROPERTY)
            case_property = found if isinstance(found, dict) else None
        certificates = (
            read_attached_certificates(
                event, self.gateway, today=today, max_bytes=self.max_cert_bytes
            )
            if with_certificates and event.attachments
            else []
        )
        return HandlerContext(
            mappings=self.mappings,
            today=today,
            tracking_project=self.tracking_project,
            service_desk_project=self.service_desk_project,
            field_ids=self.field_ids(),
            certificates=certificates,
            case_property=case_property,
        )

    def field_ids(self) -> dict[str, str]:
        """Display name -> field id: ids fixed in mappings win, the rest are asked (once)."""
        configured = self.mappings.field_ids
        missing = [n for n in self.mappings.field_names() if n not in configured]
        resolved = self.gateway.field_ids(missing) if missing else {}
        return {**resolved, **configured}

    def context_for_event(self, event: Event) -> HandlerContext:
        """The context for this event; certificates only for requests of the service desk."""
        wants_certs = event.project_key == self.service_desk_project and not event.is_subtask
        return self.context_for(event, with_certificates=wants_certs)

    def process(self, delivery: Delivery) -> str:
        """Apply what the handlers want for this delivery; return the outcome label."""
        event = self.event_of(delivery)
        if not is_handled(event.name) or event.name not in self.router.event_names():
            return "ignored:event"
        if event.actor_account_id and event.actor_account_id == self.account_id():
            return "ignored:echo"
        event = self.with_current_fields(event, delivery)
        ctx = self.context_for_event(event)
        plans = self.router.dispatch(event, ctx)
        if ctx.certificates:
            record_certificates(
                self.store,
                ctx.certificates,
                practice=ctx.field_text(event, self.mappings.fields.practice_name),
                source_request=event.issue_key,
            )
        if not plans:
            return "ignored:no-plan"
        applied: list[str] = []
        for plan in plans:
            applied += self.reconciler.apply(plan, delivery.id)
        log.info(
            "delivery %s (%s %s): %d effects applied",
            delivery.id,
            event.name,
            event.issue_key,
            len(applied),
        )
        return "done"
