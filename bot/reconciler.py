"""Applies a Plan through the gateway: find-or-create each effect, journalled; replays are free."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from bot.certs.registry import record_certificates
from bot.inbox.cases import remember_case
from bot.inbox.store import Store
from bot.jira.errors import JiraPermanent, TransitionUnavailable
from bot.jira.gateway import CaseLayout, JiraGateway, RequestRaiser
from bot.logs import add_log_fields
from bot.markup import escape_jira
from bot.plan import (
    TRACKING_KEY_TOKEN,
    CaseSpec,
    CertificateRecord,
    CommentSpec,
    LabelSpec,
    Plan,
    RequestSpec,
    TransitionSpec,
)

log = logging.getLogger("uzibot.reconciler")


class Reconciler:
    """Compares a Plan with the journal (and Jira, when an outcome is unknown) and fills the gap."""

    def __init__(
        self,
        gateway: JiraGateway,
        store: Store,
        layout: CaseLayout,
        on_effect: Callable[[str], None] | None = None,
        raiser: RequestRaiser | None = None,
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.layout = layout
        self.on_effect = on_effect or (lambda _eid: None)
        self.raiser = raiser

    def apply(self, plan: Plan, delivery_id: str) -> list[str]:
        """Make Jira match the plan; return the effect ids applied now (empty on a replay)."""
        applied: list[str] = []
        tracking_key = None
        requests = {plan.case.request_key} if plan.case else {c.issue_key for c in plan.comments}
        if len(requests) == 1:  # comments always go on the portal request
            add_log_fields(request=requests.pop())
        if plan.case is not None:
            tracking_key = self._ensure_case(plan.case, delivery_id, applied)
        for comment in plan.comments:
            self._ensure_comment(comment, tracking_key, delivery_id, applied)
        for transition in plan.transitions:
            self._ensure_transition(transition, delivery_id, applied)
        for record in plan.certificates:
            self._ensure_registered(record, delivery_id, applied)
        for label in plan.labels:
            self._ensure_label(label, delivery_id, applied)
        for request in plan.requests:
            self._ensure_request(request, delivery_id, applied)
        return applied

    # -- journal helpers ------------------------------------------------------
    def _done(self, eid: str, result: dict[str, Any], delivery_id: str, applied: list[str]) -> None:
        self.store.record_effect(eid, "done", json.dumps(result, sort_keys=True), delivery_id)
        applied.append(eid)
        self.on_effect(eid)

    def _journal(self, eid: str) -> tuple[str, dict[str, Any]] | None:
        rec = self.store.effect(eid)
        if rec is None:
            return None
        state, result = rec
        return state, (json.loads(result) if result else {})

    # -- the tracking issue -----------------------------------------------------
    def _ensure_case(self, case: CaseSpec, delivery_id: str, applied: list[str]) -> str:
        eid = f"case:{case.request_key}:{case.workflow}"
        rec = self._journal(eid)
        if rec is not None and rec[0] == "done":
            key = str(rec[1]["key"])
        else:
            key_found = (
                self.gateway.find_linked_case(case.request_key, case.workflow)
                if rec is not None
                else None
            )
            if key_found is None:
                self.store.record_effect(eid, "intent", None, delivery_id)
                key_found = self.gateway.create_case(case, self.layout, _case_doc(case, None, {}))
            key = key_found
            remember_case(
                self.store,
                workflow=case.workflow,
                request_key=case.request_key,
                tracking_key=key,
                abonneenummer=_fact(case, "abonneenummer"),
                reporter=_fact(case, "reporter"),
            )
            self._done(
                eid,
                {"key": key, "due": _iso(case), "priority": case.priority},
                delivery_id,
                applied,
            )
            rec = ("done", {"key": key, "due": _iso(case), "priority": case.priority})
        add_log_fields(case=key)
        subtask_keys = self._ensure_subtasks(case, key, delivery_id, applied)
        self._ensure_case_state(case, key, rec[1], subtask_keys, delivery_id, applied)
        return key

    def _ensure_case_state(
        self,
        case: CaseSpec,
        key: str,
        created: dict[str, Any],
        subtask_keys: dict[str, str],
        delivery_id: str,
        applied: list[str],
    ) -> None:
        """Keep the entity property and due date/priority equal to the latest plan."""
        doc = _case_doc(case, key, subtask_keys)
        digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
        eid = f"case-state:{case.request_key}:{case.workflow}"
        rec = self._journal(eid)
        last = (
            rec[1]
            if rec is not None and rec[0] == "done"
            else {"due": created.get("due"), "priority": created.get("priority"), "digest": None}
        )
        new_due = case.due_date if _iso(case) != last.get("due") else None
        new_priority = case.priority if case.priority != last.get("priority") else None
        new_doc = doc if last.get("digest") != digest else None
        if new_doc is None and new_due is None and not new_priority:
            return
        self.gateway.update_case(key, doc=new_doc, due_date=new_due, priority=new_priority)
        self._done(
            eid,
            {"digest": digest, "due": _iso(case), "priority": case.priority},
            delivery_id,
            applied,
        )

    # -- sub-tasks ----------------------------------------------------------------
    def _ensure_subtasks(
        self, case: CaseSpec, parent: str, delivery_id: str, applied: list[str]
    ) -> dict[str, str]:
        keys: dict[str, str] = {}
        unknown: list[str] = []
        for sub in case.subtasks:
            rec = self._journal(_subtask_eid(case, sub.slug))
            if rec is not None and rec[0] == "done":
                keys[sub.slug] = str(rec[1]["key"])
            elif rec is not None:
                unknown.append(sub.slug)
        if unknown:
            existing = {s.summary: s.key for s in self.gateway.subtask_states(parent)}
            for sub in case.subtasks:
                if sub.slug in unknown and sub.summary in existing:
                    keys[sub.slug] = existing[sub.summary]
                    self._done(
                        _subtask_eid(case, sub.slug), {"key": keys[sub.slug]}, delivery_id, applied
                    )
        missing = [sub for sub in case.subtasks if sub.slug not in keys]
        if not missing:
            return keys
        for sub in missing:
            self.store.record_effect(_subtask_eid(case, sub.slug), "intent", None, delivery_id)
        result = self.gateway.create_subtasks(
            case,
            parent,
            missing,
            self.layout,
            [
                {**_case_doc(case, parent, {}), "slug": sub.slug, "parent": parent}
                for sub in missing
            ],
        )
        for sub, ref in zip(missing, result.created, strict=True):
            if ref is not None:
                keys[sub.slug] = ref.key
                self._done(_subtask_eid(case, sub.slug), {"key": ref.key}, delivery_id, applied)
        if result.errors:
            raise JiraPermanent(400, f"sub-task creation failed: {result.errors}")
        return keys

    # -- comments and transitions -------------------------------------------------
    def _ensure_comment(
        self, comment: CommentSpec, tracking_key: str | None, delivery_id: str, applied: list[str]
    ) -> None:
        eid = f"comment:{comment.issue_key}:{comment.slug}"
        rec = self._journal(eid)
        if rec is not None and rec[0] == "done":
            return
        body = comment.body.replace(TRACKING_KEY_TOKEN, tracking_key or "(no tracking issue)")
        if rec is not None:
            found = self.gateway.find_comment(comment.issue_key, body)
            if found is not None:
                self._done(eid, {"id": found}, delivery_id, applied)
                return
        self.store.record_effect(eid, "intent", None, delivery_id)
        comment_id = self.gateway.comment(comment.issue_key, body, public=comment.public)
        self._done(eid, {"id": comment_id}, delivery_id, applied)

    def _ensure_transition(
        self, transition: TransitionSpec, delivery_id: str, applied: list[str]
    ) -> None:
        """Move the issue to done once; a move that could not be applied is never journalled.

        The agents get one internal note saying what to configure, and the delivery fails
        (retryable): it is retried with backoff and finally parked.
        """
        eid = f"transition:{transition.issue_key}:{transition.slug}"
        rec = self._journal(eid)
        if rec is not None and rec[0] == "done":
            return
        outcome = self.gateway.resolve(transition.issue_key, transition.transition)
        if not outcome.done:
            problem = outcome.problem or "no transition applied"
            log.warning("cannot move %s to done: %s", transition.issue_key, problem)
            self._note_stuck_transition(transition, problem, delivery_id, applied)
            raise TransitionUnavailable(transition.issue_key, problem)
        self._done(
            eid,
            {"moved": outcome.moved, "via": outcome.via, "already_done": outcome.already_done},
            delivery_id,
            applied,
        )

    def _note_stuck_transition(
        self, transition: TransitionSpec, problem: str, delivery_id: str, applied: list[str]
    ) -> None:
        """One internal note per stuck transition, however often the delivery is retried."""
        eid = f"comment:{transition.issue_key}:stuck:{transition.slug}"
        rec = self._journal(eid)
        if rec is not None and rec[0] == "done":
            return
        self.store.record_effect(eid, "intent", None, delivery_id)
        note_id = self.gateway.note(
            transition.issue_key, stuck_transition_note(transition, problem)
        )
        self._done(eid, {"id": note_id}, delivery_id, applied)

    def _ensure_label(self, label: LabelSpec, delivery_id: str, applied: list[str]) -> None:
        """Add a label once (adding a label Jira already has changes nothing there either)."""
        eid = f"label:{label.issue_key}:{label.label}"
        rec = self._journal(eid)
        if rec is not None and rec[0] == "done":
            return
        self.gateway.add_label(label.issue_key, label.label)
        self._done(eid, {"label": label.label}, delivery_id, applied)

    # -- the certificate registry -------------------------------------------------------
    def _ensure_registered(
        self, record: CertificateRecord, delivery_id: str, applied: list[str]
    ) -> None:
        """Record a certificate once per request; the upsert itself is idempotent."""
        eid = f"registry:{record.source_request}:{record.fingerprint}"
        rec = self._journal(eid)
        if rec is not None and rec[0] == "done":
            return
        record_certificates(self.store, [record])
        self._done(eid, {"abonneenummer": record.abonneenummer}, delivery_id, applied)

    # -- requests raised by the bot (expiry watch) ---------------------------------------------
    def _ensure_request(self, spec: RequestSpec, delivery_id: str, applied: list[str]) -> None:
        """Raise the request once. An intent without a result (crash or lost answer) is an
        unknown outcome: JSM offers no idempotency key, so Jira is asked first for the request
        that attempt may have raised (`find_raised`), which is adopted; only then raised again."""
        eid = f"request:{spec.slug}"
        rec = self._journal(eid)
        if rec is not None and rec[0] == "done":
            return
        if self.raiser is None:
            raise JiraPermanent(0, "no request raiser configured")
        if rec is not None:
            found = self.raiser.find_raised(spec)
            if found is not None:
                log.warning("%s: adopting %s, raised before an unknown outcome", eid, found.key)
                result = {"key": found.key, "kind": found.kind, "note": None, "found": True}
                self._done(eid, result, delivery_id, applied)
                return
            log.warning("raising %s again after an unknown outcome", eid)
        self.store.record_effect(eid, "intent", None, delivery_id)
        raised = self.raiser.raise_request(spec, self.layout)
        self._done(
            eid, {"key": raised.key, "kind": raised.kind, "note": raised.note}, delivery_id, applied
        )


def stuck_transition_note(transition: TransitionSpec, problem: str) -> str:
    """The agents' note when uzibot could not move an issue to done (English, wiki markup)."""
    return (
        f"*uzibot could not move {transition.issue_key} to a done status* "
        f"(step {{{{{transition.slug}}}}}).\n"
        f"{escape_jira(problem)}.\n"
        "Nothing was marked as done: uzibot retries this webhook delivery with backoff and "
        "parks it after the last attempt (`uzibot deliveries --failed` lists it, `uzibot replay` "
        "runs it again).\n"
        "To fix it, set `resolve_transition` (portal request) or `tracking_done_transition` "
        "(tracking issue) under `[<workflow>.lifecycle]` in mappings/workflows.toml to the "
        "name of this workflow's transition, or give the workflow one transition into a done "
        "status. Resolving the issue by hand also ends the retries."
    )


def _fact(case: CaseSpec, name: str) -> str | None:
    value = case.facts.get(name)
    return value if isinstance(value, str) and value else None


def _subtask_eid(case: CaseSpec, slug: str) -> str:
    return f"subtask:{case.request_key}:{case.workflow}:{slug}"


def _iso(case: CaseSpec) -> str | None:
    return case.due_date.isoformat() if case.due_date else None


def _case_doc(case: CaseSpec, key: str | None, subtasks: dict[str, str]) -> dict[str, Any]:
    doc: dict[str, Any] = dict(case.facts)
    doc.update(
        {
            "workflow": case.workflow,
            "request_key": case.request_key,
            "subtasks": dict(sorted(subtasks.items())),
        }
    )
    if key:
        doc["tracking_key"] = key
    # Round-trip through JSON so dates and tuples are stored exactly as Jira will return them.
    return dict(json.loads(json.dumps(doc, sort_keys=True, default=str)))
