"""Recognises what a portal request is about: its request type, 'Soort wijziging', its words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast, get_args

from bot.context import HandlerContext
from bot.events import Event
from bot.mappings import Kind, Mappings, Vendor
from bot.mappings_schema import RequestTypeRule
from bot.plan import CASE_LABEL
from bot.textmatch import MAX_TEXT_CHARS, find_any, tokens
from handlers.wording import TextSignals, read_signals

WorkflowName = Literal["practice_change", "renewal", "question"]
DecidedBy = Literal["request_type", "field", "text"]

__all__ = [
    "Classification",
    "DecidedBy",
    "RequestFacts",
    "TextSignals",
    "WorkflowName",
    "classify",
    "is_service_request",
    "looks_like_oin",
    "normalise_abonneenummer",
    "read_request_facts",
    "read_signals",
    "reporter_of",
    "request_text",
    "routed_classification",
]


@dataclass(frozen=True)
class Classification:
    """What decided the request's workflow and kind; None when nothing decides (see reasons)."""

    workflow: WorkflowName | None
    kind: Kind | None
    decided_by: DecidedBy | None
    reasons: tuple[str, ...]
    kinds_in_text: tuple[Kind, ...] = ()
    change_kind_field: str | None = None
    request_type_mapped: bool = False
    request_type_generic: bool = False

    @property
    def decided(self) -> bool:
        """True when a workflow was recognised."""
        return self.workflow is not None


@dataclass(frozen=True)
class RequestFacts:
    """The request form's values as the practice typed them (raw: escape before showing)."""

    practice_name: str | None
    abonneenummer_input: str | None
    abonneenummer: str | None
    vendor: Vendor | None
    vendor_source: Literal["field", "text"] | None
    vendor_field: str | None
    vendors_named: tuple[str, ...]
    old_value: str | None
    new_value: str | None
    reporter: str | None = None
    """The account id of the request's reporter (the practice's portal account)."""


def is_service_request(event: Event, ctx: HandlerContext) -> bool:
    """A practice's portal request in the service desk project (not the bot's own issues)."""
    return (
        event.issue_key is not None
        and event.request_type_id is not None
        and event.project_key == ctx.service_desk_project
        and not event.is_subtask
        and CASE_LABEL not in event.labels
    )


def routed_classification(event: Event, ctx: HandlerContext) -> Classification | None:
    """The classification the router decided for this event, None when it is no portal request.

    A dispatched event carries it in `ctx.route`, so it is computed once per event; only a
    handler called directly (tests, one-off tools) classifies here.
    """
    if ctx.route is not None:
        found = ctx.route.classification
        return found if isinstance(found, Classification) else None
    return classify(event, ctx) if is_service_request(event, ctx) else None


def request_text(event: Event) -> str:
    """The practice's own words: summary and description."""
    return f"{event.summary}\n{event.description}"


def read_request_facts(event: Event, ctx: HandlerContext) -> RequestFacts:
    """Read the form fields; the vendor comes from its field, else from the request's words."""
    names = ctx.mappings.fields
    abonneenummer_input = ctx.field_text(event, names.abonneenummer)
    vendor_field = ctx.field_text(event, names.vendor)
    vendor = ctx.mappings.match_vendor(vendor_field)
    named = ctx.mappings.vendors_in_text(request_text(event))
    source: Literal["field", "text"] | None = "field" if vendor else None
    if vendor is None and len(named) == 1:
        vendor, source = named[0], "text"
    return RequestFacts(
        practice_name=ctx.field_text(event, names.practice_name),
        abonneenummer_input=abonneenummer_input,
        abonneenummer=normalise_abonneenummer(abonneenummer_input),
        vendor=vendor,
        vendor_source=source,
        vendor_field=vendor_field,
        vendors_named=tuple(v.name for v in named),
        old_value=ctx.field_text(event, names.old_value),
        new_value=ctx.field_text(event, names.new_value),
        reporter=reporter_of(event),
    )


def reporter_of(event: Event) -> str | None:
    """The reporter's account id from the issue fields, None when absent."""
    reporter = event.fields.get("reporter")
    account = reporter.get("accountId") if isinstance(reporter, dict) else None
    return account[:200] if isinstance(account, str) and account else None


def normalise_abonneenummer(text: str | None) -> str | None:
    """Eight digits, zero-padded, from what a practice typed; None when it is not that."""
    digits = _number(text)
    return digits.zfill(8) if digits and len(digits) <= 8 else None


def looks_like_oin(text: str | None) -> bool:
    """True for a 20-digit number: an OIN, not an abonneenummer."""
    digits = _number(text)
    return digits is not None and len(digits) == 20


def _number(text: str | None) -> str | None:
    cleaned = re.sub(r"[\s.\-]", "", text or "")
    return cleaned if re.fullmatch(r"[0-9]+", cleaned) else None


def classify(event: Event, ctx: HandlerContext) -> Classification:
    """Request type first; if unmapped or generic the 'Soort wijziging' field; then the words."""
    mappings = ctx.mappings
    rule = mappings.request_type_rule(event.request_type_id, event.request_type_name)
    field_value = ctx.field_text(event, mappings.fields.change_kind)
    signals = read_signals(request_text(event), mappings)
    decide = _Decider(
        mappings=mappings,
        signals=signals,
        field_value=field_value,
        mapped=rule is not None,
        generic=bool(rule and rule.generic),
    )
    label = _request_type_label(event)
    if signals.unread_chars:
        decide.reasons.append(
            f"the request text is too long: only its first {MAX_TEXT_CHARS:,} characters "
            f"were read ({signals.unread_chars:,} not read)"
        )
    decide.attached = bool(event.attachments)
    if rule is None and _reads_as_question(event.request_type_name, mappings):
        decide.question_type = True
        decide.reasons.append(
            f"request type {label} is not mapped; its name reads as a question type"
        )
    elif rule is None:
        decide.reasons.append(f"request type {label} is not mapped")
    elif rule.workflow is not None and (rule.workflow != "practice_change" or rule.kind):
        what = f"{rule.workflow} ({rule.kind})" if rule.kind else rule.workflow
        decide.reasons.append(f"request type {label} maps to {what}")
        field_kind = _field_kind(mappings, field_value)
        if rule.kind and field_kind and field_kind != rule.kind:
            decide.reasons.append(
                f'"{mappings.fields.change_kind}" says {field_kind}; the request type wins'
            )
        return decide.result(_workflow(rule.workflow), rule.kind, "request_type")
    elif rule.workflow == "practice_change":
        decide.reasons.append(f"request type {label} is a practice change of no fixed kind")
    else:
        decide.reasons.append(f"request type {label} is generic: the field and the words decide")
    return _decide_by_field_or_words(decide, rule.workflow if rule else None, rule, label)


def _decide_by_field_or_words(
    decide: _Decider, fixed: str | None, rule: RequestTypeRule | None, label: str
) -> Classification:
    mappings, signals = decide.mappings, decide.signals
    field_name = mappings.fields.change_kind
    field_kind = _field_kind(mappings, decide.field_value)
    if field_kind is not None:
        decide.reasons.append(f'"{field_name}" is {decide.field_value!r}: {field_kind}')
        return decide.result("practice_change", field_kind, "field")
    if decide.field_value:
        decide.reasons.append(f'"{field_name}" value {decide.field_value!r} is not a known kind')
    else:
        decide.reasons.append(f'"{field_name}" is empty')
    if len(signals.kinds) > 1:
        decide.reasons.append(f"the words name more than one kind: {', '.join(signals.kinds)}")
        return decide.result(None, None, None)
    if len(signals.kinds) == 1:
        kind = signals.kinds[0]
        decide.reasons.append(f"the words name one kind: {kind}")
        if signals.renewal:
            decide.reasons.append("the words also mention a certificate renewal")
        return decide.result("practice_change", kind, "text")
    if fixed == "practice_change":
        decide.reasons.append("the words name no kind of change")
        return decide.result(None, None, None)
    if signals.renewal and signals.question and signals.topics and not decide.attached:
        decide.reasons.append(
            f"the words ask a common question ({', '.join(signals.topics)}) and ask for no "
            "renewal (no certificate attached)"
        )
        return decide.result("question", None, "text")
    if signals.renewal:
        decide.reasons.append("the words ask for a certificate renewal")
        return decide.result("renewal", None, "text")
    fallback = rule.fallback_workflow if rule else ("question" if decide.question_type else None)
    if fallback is not None:
        decide.reasons.append(f"no change or renewal words: request type {label} means {fallback}")
        return decide.result(_workflow(fallback), None, "request_type")
    if signals.question:
        decide.reasons.append("the words ask a question")
        return decide.result("question", None, "text")
    decide.reasons.append("the words name no change, renewal or question")
    return decide.result(None, None, None)


@dataclass
class _Decider:
    mappings: Mappings
    signals: TextSignals
    field_value: str | None
    mapped: bool
    generic: bool

    def __post_init__(self) -> None:
        self.reasons: list[str] = []
        self.attached = False
        self.question_type = False

    def result(
        self, workflow: WorkflowName | None, kind: Kind | None, decided_by: DecidedBy | None
    ) -> Classification:
        return Classification(
            workflow=workflow,
            kind=kind,
            decided_by=decided_by,
            reasons=tuple(self.reasons),
            kinds_in_text=self.signals.kinds,
            change_kind_field=self.field_value,
            request_type_mapped=self.mapped,
            request_type_generic=self.generic,
        )


def _field_kind(mappings: Mappings, value: str | None) -> Kind | None:
    """The kind of a 'Soort wijziging' value: an option, else one kind's words in it."""
    kind = mappings.kind_for_option(value)
    if kind is not None or not value:
        return kind
    named = read_signals(value, mappings, subjects_alone=True).kinds
    return named[0] if len(named) == 1 else None


def _reads_as_question(name: str | None, mappings: Mappings) -> bool:
    """True when an unmapped request type's name says it is for questions ("Vraag over ...")."""
    return bool(name) and bool(find_any(mappings.question_type_phrases, tokens(name or "")))


def _workflow(name: str) -> WorkflowName:
    """Narrow a validated workflow name (bot.mappings checks request_types.toml at load)."""
    for known in get_args(WorkflowName):
        if name == known:
            return cast(WorkflowName, known)
    raise ValueError(f"unknown workflow {name!r}")


def _request_type_label(event: Event) -> str:
    name = event.request_type_name or "(no name)"
    return f'"{name}" ({event.request_type_id or "no id"})'
