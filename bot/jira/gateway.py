"""The Jira gateway: typed case verbs over the REST primitives; Jira's JSON stays in bot/jira/.

The reconciler speaks only these verbs (create a case, find it again, its sub-tasks and their
states, comment on a request, resolve an issue) and never builds or walks Jira's shapes itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from bot.jira.errors import (
    AttachmentTooLarge,
    JiraError,
    JiraNotFound,
    JiraPermanent,
    JiraRetryable,
)
from bot.jira.issues import JiraIssues
from bot.jira.limits import fit_adf, fit_comment, fit_text
from bot.jira.models import BulkResult, IssueLink, IssueRef
from bot.jira.retry import RetryPolicy
from bot.plan import CASE_LABEL, CASE_PROPERTY, CaseSpec, RequestSpec, SubTaskSpec

SUMMARY_LIMIT = 250


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


@dataclass(frozen=True)
class SubtaskState:
    """One sub-task of a tracking issue as Jira has it now."""

    key: str
    summary: str
    status: str | None
    done: bool
    """True when its status is in Jira's `done` status category."""
    resolved: str | None = None
    """Its resolution date (ISO), when asked for."""


@dataclass(frozen=True)
class TrackingState:
    """A tracking issue as Jira has it now: done or not, dates, case property, sub-tasks."""

    key: str
    done: bool
    created: str | None
    due: str | None
    doc: Mapping[str, Any] | None
    subtasks: tuple[SubtaskState, ...]


class JiraGateway(JiraIssues):
    """The verbs the reconciler applies Plan effects with; one instance per process."""

    def create_case(self, case: CaseSpec, layout: CaseLayout, doc: Mapping[str, Any]) -> str:
        """Create the tracking issue, linked to its request, with the case property; its key."""
        fields: dict[str, Any] = {
            "project": {"key": layout.tracking_project},
            "issuetype": {"name": layout.types_for(case.workflow)[0]},
            "summary": case.summary[:SUMMARY_LIMIT],
            "description": fit_adf(case.description),
            "labels": list(case.labels),
        }
        if case.due_date is not None:
            fields["duedate"] = case.due_date.isoformat()
        if case.priority:
            fields["priority"] = {"name": case.priority}
        ref = self.create_issue(
            fields,
            links=[IssueLink(type=layout.link_type, key=case.request_key)],
            properties={CASE_PROPERTY: dict(doc)},
        )
        return ref.key

    def find_linked_case(self, request_key: str, workflow: str) -> str | None:
        """The tracking issue of `workflow` linked to the request (after an unknown outcome)."""
        issue = self.get_issue(request_key, ["issuelinks"])
        for link in _field_list(issue, "issuelinks"):
            other = link.get("inwardIssue") or link.get("outwardIssue") or {}
            key = other.get("key") if isinstance(other, dict) else None
            if not key:
                continue
            doc = self.get_property(str(key), CASE_PROPERTY)
            if (
                isinstance(doc, dict)
                and doc.get("workflow") == workflow
                and doc.get("request_key") == request_key
            ):
                return str(key)
        return None

    def create_subtasks(
        self,
        case: CaseSpec,
        parent: str,
        subtasks: Sequence[SubTaskSpec],
        layout: CaseLayout,
        docs: Sequence[Mapping[str, Any]],
    ) -> BulkResult:
        """Create sub-tasks under `parent` in bulk, each with its case property `docs[i]`."""
        return self.bulk_create(
            [
                {
                    "project": {"key": layout.tracking_project},
                    "issuetype": {"name": layout.types_for(case.workflow)[1]},
                    "parent": {"key": parent},
                    "summary": sub.summary[:SUMMARY_LIMIT],
                    "description": fit_adf(sub.description),
                    "labels": [CASE_LABEL],
                }
                for sub in subtasks
            ],
            properties=[{CASE_PROPERTY: dict(doc)} for doc in docs],
        )

    def subtask_states(self, parent: str) -> list[SubtaskState]:
        """The sub-tasks of a tracking issue, with their status, as Jira has them now."""
        return _subtask_states(self.get_issue(parent, ["subtasks"]))

    def tracking_state(self, key: str, *, dates: bool = False) -> TrackingState | None:
        """The tracking issue and its sub-tasks now; with `dates`, each done sub-task's
        resolution date too (one read per done sub-task). None when the issue is gone."""
        issue = self.get_issue(key, ["status", "created", "duedate", "subtasks"])
        if issue is None:
            return None
        fields = issue.get("fields") or {}
        subtasks = _subtask_states(issue)
        if dates:
            subtasks = [
                replace(sub, resolved=self._resolved_on(sub.key)) if sub.done else sub
                for sub in subtasks
            ]
        doc = self.get_property(key, CASE_PROPERTY)
        return TrackingState(
            key=key,
            done=_category(fields.get("status")) == "done",
            created=_text(fields.get("created")),
            due=_text(fields.get("duedate")),
            doc=doc if isinstance(doc, dict) else None,
            subtasks=tuple(subtasks),
        )

    def _resolved_on(self, key: str) -> str | None:
        issue = self.get_issue(key, ["resolutiondate"])
        return _text(((issue or {}).get("fields") or {}).get("resolutiondate"))

    def update_case(
        self,
        key: str,
        *,
        doc: Mapping[str, Any] | None = None,
        due_date: date | None = None,
        priority: str | None = None,
    ) -> None:
        """Rewrite the case property and/or the due date and priority of a tracking issue."""
        if doc is not None:
            self.set_property(key, CASE_PROPERTY, dict(doc))
        fields: dict[str, Any] = {}
        if due_date is not None:
            fields["duedate"] = due_date.isoformat()
        if priority:
            fields["priority"] = {"name": priority}
        if fields:
            self.edit_issue(key, fields)

    def add_label(self, key: str, label: str) -> None:
        """Add one label to an issue, keeping the labels it has."""
        self.edit_issue_ops(key, {"labels": [{"add": label}]})

    def comment(self, request_key: str, body: str, *, public: bool) -> str:
        """Comment on a portal request (public or internal note); the new comment's id.

        A body over Jira's limit is cut with a note saying so (bot.jira.limits.fit_comment),
        so the reply still goes out instead of a 400.
        """
        return self.comment_on_request(request_key, fit_comment(body, public=public), public=public)

    def note(self, key: str, body: str) -> str:
        """An internal note for the agents: on a request through the service desk API, on any
        other issue (a tracking issue) as a platform comment."""
        try:
            return self.comment_on_request(key, body, public=False)
        except JiraNotFound:
            return self.comment_on_issue(key, body)

    def find_comment(self, request_key: str, body: str) -> str | None:
        """The id of a comment with exactly this body (as `comment` posts it), if one exists."""
        bodies = {fit_comment(body, public=True), fit_comment(body, public=False)}
        for existing in self.request_comments(request_key):
            if existing.get("body") in bodies:
                return str(existing.get("id"))
        return None

    def resolve(self, key: str, transition: str) -> ResolveOutcome:
        """Move an issue to done: the transition called `transition`, else the one transition
        into a status of Jira's done category (declining ones left out). When neither exists,
        nothing is applied and `problem` says why (an issue already done counts as done)."""
        available = [t for t in self.transitions(key) if t.get("id") and t.get("isAvailable", True)]
        wanted = transition.strip().casefold()
        named = [t for t in available if str(t.get("name", "")).strip().casefold() == wanted]
        into_done = [t for t in available if _into_done(t) and not _declines(t)]
        chosen = named[:1] or (into_done if len(into_done) == 1 else [])
        if chosen:
            self.apply_transition(key, str(chosen[0]["id"]))
            return ResolveOutcome(moved=True, via=str(chosen[0].get("name")))
        issue = self.get_issue(key, ["status"])
        status = ((issue or {}).get("fields") or {}).get("status") or {}
        if _category(status) == "done":
            return ResolveOutcome(moved=False, already_done=True)
        names = ", ".join(
            f"{t.get('name')!r} -> {(t.get('to') or {}).get('name')!r}" for t in available
        )
        if len(into_done) > 1:
            why = "several transitions lead to a done status and none has the configured name"
        else:
            why = "no transition has the configured name or leads to a done status"
        return ResolveOutcome(
            moved=False,
            problem=(
                f"{why}: looked for {transition!r} from status {status.get('name')!r}; "
                f"available: {names or 'none'}"
            ),
        )

    def is_closed(self, key: str) -> bool:
        """True when the issue is gone, resolved, or in a status of the `done` category."""
        issue = self.get_issue(key, ["status", "resolution"])
        if issue is None:
            return True
        fields = issue.get("fields") or {}
        status = fields.get("status") or {}
        category = (status.get("statusCategory") or {}) if isinstance(status, dict) else {}
        return bool(fields.get("resolution")) or category.get("key") == "done"

    def note_on_issue(self, key: str, body: str) -> str:
        """An internal comment on an issue that is not a portal request (agents-only issues)."""
        return self.comment_on_issue(key, fit_comment(body, public=False), internal=True)

    def set_priority(self, key: str, priority: str) -> None:
        """Set the priority of any issue (a portal request or a tracking issue)."""
        self.edit_issue(key, {"priority": {"name": priority}})


@dataclass(frozen=True)
class ResolveOutcome:
    """What `resolve` did: moved (through `via`), found the issue already done, or neither."""

    moved: bool
    via: str | None = None
    already_done: bool = False
    problem: str | None = None

    @property
    def done(self) -> bool:
        """True when the issue is now in a done status."""
        return self.moved or self.already_done


DECLINING_WORDS = ("won't", "wont", "declin", "cancel", "reject", "afgewezen", "afwijz", "annul")
"""A transition into done whose name or target says this: not a resolution (\"Won't do\")."""


def _category(status: Any) -> str | None:
    category = status.get("statusCategory") if isinstance(status, dict) else None
    return str(category.get("key")) if isinstance(category, dict) else None


def _into_done(transition: Mapping[str, Any]) -> bool:
    return _category(transition.get("to")) == "done"


def _declines(transition: Mapping[str, Any]) -> bool:
    target = transition.get("to") if isinstance(transition.get("to"), dict) else {}
    text = f"{transition.get('name', '')} {(target or {}).get('name', '')}".casefold()
    return any(word in text for word in DECLINING_WORDS)


def _subtask_states(issue: Mapping[str, Any] | None) -> list[SubtaskState]:
    states = []
    for sub in _field_list(issue, "subtasks"):
        fields = sub.get("fields") or {}
        status = fields.get("status") or {}
        if sub.get("key") and fields.get("summary"):
            states.append(
                SubtaskState(
                    key=str(sub["key"]),
                    summary=str(fields["summary"]),
                    status=status.get("name") if isinstance(status, dict) else None,
                    done=_category(status) == "done",
                )
            )
    return states


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class RaisedRequest:
    """What `raise_request` created: a portal request or an agents-only tracking issue."""

    key: str
    kind: str
    """`request` or `tracking`."""
    note: str | None = None
    """Why a tracking issue was made although a contact was given (e.g. unknown e-mail)."""


class RequestRaiser:
    """Raises portal requests on behalf of customers; resolves desk, request type and contact.

    The service desk id and the request types are read once per instance (one per process).
    """

    def __init__(self, gateway: JiraGateway, service_desk_project: str) -> None:
        self.gateway = gateway
        self.service_desk_project = service_desk_project
        self._desk: str | None = None
        self._types: list[dict[str, Any]] | None = None

    def desk_id(self) -> str:
        """The service desk id of the service desk project (asked once)."""
        if self._desk is None:
            found = self.gateway.service_desk_id(self.service_desk_project)
            if found is None:
                raise JiraPermanent(
                    404, f"project {self.service_desk_project} is not a service desk"
                )
            self._desk = found
        return self._desk

    def request_type_id(self, id_or_name: str) -> str:
        """The id of the request type given by id or by name (compared without case)."""
        if self._types is None:
            self._types = self.gateway.request_types(self.desk_id())
        wanted = id_or_name.strip()
        for item in self._types:
            if str(item.get("id")) == wanted:
                return wanted
        for item in self._types:
            if str(item.get("name", "")).strip().casefold() == wanted.casefold():
                return str(item["id"])
        raise JiraPermanent(
            404, f"request type {wanted[:80]!r} not found in service desk {self.desk_id()}"
        )

    def open_requests_by_field(
        self, request_type: str, field_id: str, exclude: frozenset[str] = frozenset()
    ) -> dict[str, str]:
        """Open requests of the request type by the value of one field (e.g. Abonneenummer):
        value (digits left-padded to 8) -> the oldest such request's key, `exclude` left out."""
        found: dict[str, str] = {}
        for request in self.gateway.open_requests(
            self.desk_id(), self.request_type_id(request_type)
        ):
            for item in request.get("requestFieldValues") or []:
                if not isinstance(item, dict) or item.get("fieldId") != field_id:
                    continue
                value = str(item.get("value") or "").strip()
                key = request.get("issueKey")
                if value.isdigit() and len(value) <= 8 and key and key not in exclude:
                    found.setdefault(value.zfill(8), str(key))
        return found

    def _create(self, spec: RequestSpec, account: str) -> str:
        values: dict[str, Any] = {
            "summary": spec.summary[:SUMMARY_LIMIT],
            "description": fit_text(spec.description),
            **spec.fields,
        }
        return self.gateway.create_request(
            self.desk_id(), self.request_type_id(spec.request_type), values, account
        )

    def find_raised(self, spec: RequestSpec) -> RaisedRequest | None:
        """After an unknown outcome (lost answer, crash before the journal): the open request
        an earlier attempt at `spec` left in Jira, or None.

        JSM has no idempotency key, so the request is recognised by what the bot wrote: open,
        in the desk and of the request type, with the exact summary (it names the practice or
        abonneenummer and the dates), raised for the same customer, and with the same values
        for the fields it carries (a request raised without them still matches).
        """
        if not spec.on_behalf_of:
            return None
        account = self.customer_account(spec.on_behalf_of)
        if account is None:
            return None
        summary = spec.summary[:SUMMARY_LIMIT].strip()
        type_id = self.request_type_id(spec.request_type)
        for request in self.gateway.open_requests(self.desk_id(), type_id):
            values = {
                str(item.get("fieldId")): item.get("value")
                for item in request.get("requestFieldValues") or []
                if isinstance(item, dict)
            }
            reporter = request.get("reporter")
            owner = reporter.get("accountId") if isinstance(reporter, dict) else None
            if (
                str(values.get("summary") or "").strip() != summary
                or (owner is not None and owner != account)
                or not request.get("issueKey")
            ):
                continue
            if all(
                not isinstance(values.get(fid), str) or str(values[fid]).strip() == str(v).strip()
                for fid, v in spec.fields.items()
            ):
                return RaisedRequest(str(request["issueKey"]), "request")
        return None

    def customer_account(self, contact: str) -> str | None:
        """The accountId of a contact given as accountId or as a customer's e-mail."""
        if "@" not in contact:
            return contact
        for customer in self.gateway.desk_customers(self.desk_id(), contact):
            if str(customer.get("emailAddress", "")).casefold() == contact.casefold():
                return str(customer.get("accountId")) if customer.get("accountId") else None
        return None

    def raise_request(self, spec: RequestSpec, layout: CaseLayout) -> RaisedRequest:
        """A portal request on behalf of the contact; an agents-only issue without one."""
        note = None
        if spec.on_behalf_of:
            account = self.customer_account(spec.on_behalf_of)
            if account is not None:
                try:
                    return RaisedRequest(self._create(spec, account), "request")
                except JiraPermanent as exc:
                    if exc.status != 400:
                        raise
                    # Nothing was created. Jira refuses a field that is not on the request
                    # type's form, or a customer it does not know: try without the extra
                    # fields, then fall back to an issue the agents follow up by hand.
                    refusal = exc.message
                if spec.fields:
                    try:
                        bare = spec.model_copy(update={"fields": {}})
                        return RaisedRequest(self._create(bare, account), "request")
                    except JiraPermanent as exc:
                        if exc.status != 400:
                            raise
                        refusal = exc.message
                note = (
                    f"Jira refused to raise the request on behalf of {spec.on_behalf_of[:120]}: "
                    f"{refusal[:300]}"
                )
            else:
                note = (
                    f"The contact {spec.on_behalf_of[:120]} is not a customer of the service desk."
                )
        description = f"{note}\n\n{spec.description}" if note else spec.description
        ref = self.gateway.create_issue(
            {
                "project": {"key": layout.tracking_project},
                "issuetype": {"name": layout.types_for("expiry")[0]},
                "summary": spec.summary[:SUMMARY_LIMIT],
                "description": fit_adf(description),
                "labels": list(spec.labels or (CASE_LABEL,)),
            }
        )
        return RaisedRequest(ref.key, "tracking", note)


def _field_list(issue: Mapping[str, Any] | None, name: str) -> list[dict[str, Any]]:
    """The list-valued field `name` of an issue read with GET, dicts only."""
    value = ((issue or {}).get("fields") or {}).get(name) or ()
    return [item for item in value if isinstance(item, dict)]


__all__ = [
    "AttachmentTooLarge",
    "BulkResult",
    "CaseLayout",
    "IssueLink",
    "IssueRef",
    "JiraError",
    "JiraGateway",
    "JiraNotFound",
    "JiraPermanent",
    "JiraRetryable",
    "RaisedRequest",
    "RequestRaiser",
    "ResolveOutcome",
    "RetryPolicy",
    "SubtaskState",
    "TrackingState",
]
