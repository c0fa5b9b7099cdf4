"""Applies a Plan through the gateway: find-or-create each effect, journalled; replays are free."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.inbox.store import Store
from bot.jira.adf import text_to_adf
from bot.jira.errors import JiraPermanent
from bot.jira.gateway import IssueLink, JiraGateway
from bot.plan import CaseSpec, CommentSpec, Plan, TransitionSpec

log = logging.getLogger("uzibot.reconciler")

TRACKING_KEY_TOKEN = "@@TRACKING_KEY@@"  # noqa: S105 - a placeholder, not a secret
CASE_PROPERTY = "uzibot"
CASE_LABEL = "uzibot"


@dataclass(frozen=True)
class CaseLayout:
    """Where and as what the case's issues are created (from settings and mappings)."""

    tracking_project: str
    issue_types: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """workflow -> (tracking issue type, sub-task issue type); others use Task/Sub-task."""
    link_type: str = "Relates"

    def types_for(self, workflow: str) -> tuple[str, str]:
        """(tracking issue type, sub-task issue type) of a workflow."""
        return self.issue_types.get(workflow, ("Task", "Sub-task"))


class Reconciler:
    """Compares a Plan with the journal (and Jira, when an outcome is unknown) and fills the gap."""

    def __init__(
        self,
        gateway: JiraGateway,
        store: Store,
        layout: CaseLayout,
        on_effect: Callable[[str], None] | None = None,
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.layout = layout
        self.on_effect = on_effect or (lambda _eid: None)

    def apply(self, plan: Plan, delivery_id: str) -> list[str]:
        """Make Jira match the plan; return the effect ids applied now (empty on a replay)."""
        applied: list[str] = []
        tracking_key = None
        if plan.case is not None:
            tracking_key = self._ensure_case(plan.case, delivery_id, applied)
        for comment in plan.comments:
            self._ensure_comment(comment, tracking_key, delivery_id, applied)
        for transition in plan.transitions:
            self._ensure_transition(transition, delivery_id, applied)
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
            key_found = self._find_case(case) if rec is not None else None
            if key_found is None:
                self.store.record_effect(eid, "intent", None, delivery_id)
                ref = self.gateway.create_issue(
                    self._case_fields(case),
                    links=[IssueLink(type=self.layout.link_type, key=case.request_key)],
                    properties={CASE_PROPERTY: _case_doc(case, None, {})},
                )
                key_found = ref.key
            key = key_found
            self._done(
                eid,
                {"key": key, "due": _iso(case), "priority": case.priority},
                delivery_id,
                applied,
            )
            rec = ("done", {"key": key, "due": _iso(case), "priority": case.priority})
        subtask_keys = self._ensure_subtasks(case, key, delivery_id, applied)
        self._ensure_case_state(case, key, rec[1], subtask_keys, delivery_id, applied)
        return key

    def _find_case(self, case: CaseSpec) -> str | None:
        """After an unknown outcome: look for our tracking issue among the request's links."""
        issue = self.gateway.get_issue(case.request_key, ["issuelinks"])
        for link in ((issue or {}).get("fields") or {}).get("issuelinks") or ():
            other = link.get("inwardIssue") or link.get("outwardIssue") or {}
            key = other.get("key")
            if not key:
                continue
            doc = self.gateway.get_property(key, CASE_PROPERTY)
            if (
                isinstance(doc, dict)
                and doc.get("workflow") == case.workflow
                and doc.get("request_key") == case.request_key
            ):
                return str(key)
        return None

    def _case_fields(self, case: CaseSpec) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "project": {"key": self.layout.tracking_project},
            "issuetype": {"name": self.layout.types_for(case.workflow)[0]},
            "summary": case.summary[:250],
            "description": text_to_adf(case.description),
            "labels": list(case.labels),
        }
        if case.due_date is not None:
            fields["duedate"] = case.due_date.isoformat()
        if case.priority:
            fields["priority"] = {"name": case.priority}
        return fields

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
        changed_fields: dict[str, Any] = {}
        if _iso(case) != last.get("due") and case.due_date is not None:
            changed_fields["duedate"] = case.due_date.isoformat()
        if case.priority != last.get("priority") and case.priority:
            changed_fields["priority"] = {"name": case.priority}
        if last.get("digest") == digest and not changed_fields:
            return
        if last.get("digest") != digest:
            self.gateway.set_property(key, CASE_PROPERTY, doc)
        if changed_fields:
            self.gateway.edit_issue(key, changed_fields)
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
            existing = self._existing_subtasks(parent)
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
        result = self.gateway.bulk_create(
            [
                {
                    "project": {"key": self.layout.tracking_project},
                    "issuetype": {"name": self.layout.types_for(case.workflow)[1]},
                    "parent": {"key": parent},
                    "summary": sub.summary[:250],
                    "description": text_to_adf(sub.description),
                    "labels": [CASE_LABEL],
                }
                for sub in missing
            ],
            properties=[
                {CASE_PROPERTY: {**_case_doc(case, parent, {}), "slug": sub.slug, "parent": parent}}
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

    def _existing_subtasks(self, parent: str) -> dict[str, str]:
        issue = self.gateway.get_issue(parent, ["subtasks"])
        out: dict[str, str] = {}
        for sub in ((issue or {}).get("fields") or {}).get("subtasks") or ():
            summary = (sub.get("fields") or {}).get("summary")
            if summary and sub.get("key"):
                out[str(summary)] = str(sub["key"])
        return out

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
            for existing in self.gateway.request_comments(comment.issue_key):
                if existing.get("body") == body:
                    self._done(eid, {"id": str(existing.get("id"))}, delivery_id, applied)
                    return
        self.store.record_effect(eid, "intent", None, delivery_id)
        comment_id = self.gateway.comment_on_request(comment.issue_key, body, public=comment.public)
        self._done(eid, {"id": comment_id}, delivery_id, applied)

    def _ensure_transition(
        self, transition: TransitionSpec, delivery_id: str, applied: list[str]
    ) -> None:
        eid = f"transition:{transition.issue_key}:{transition.slug}"
        rec = self._journal(eid)
        if rec is not None and rec[0] == "done":
            return
        moved = self.gateway.transition(transition.issue_key, transition.transition)
        if not moved:
            log.warning(
                "transition %r not available on %s", transition.transition, transition.issue_key
            )
        self._done(eid, {"moved": moved}, delivery_id, applied)


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
