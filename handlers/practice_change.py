"""Plans the case for a reported practice data change: tracking issue, sub-tasks, two comments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from bot.context import HandlerContext
from bot.events import Event
from bot.mappings import Mappings
from bot.markup import escape_inline, plain_line, trusted
from bot.plan import ISSUE_KEY, TRACKING_KEY_TOKEN, CaseSpec, CommentSpec, Plan, SubTaskSpec
from bot.router import Router
from handlers.certificates import unread_values
from handlers.classify import (
    Classification,
    RequestFacts,
    looks_like_oin,
    normalise_abonneenummer,
    read_request_facts,
    routed_classification,
)

WORKFLOW = "practice_change"
HANDLED_EVENTS = ("jira:issue_created", "jira:issue_updated", "comment_created")
ACK_SLUG = "practice_change:ack"
NOTE_SLUG = "practice_change:note"

router = Router()


def plan_practice_change(event: Event, ctx: HandlerContext) -> Plan | None:
    """The case for a portal request recognised as a practice change of a known kind."""
    found = routed_classification(event, ctx)
    if found is None or found.workflow != WORKFLOW or found.kind is None or not event.issue_key:
        return None
    mappings = ctx.mappings
    flow = mappings.workflow(WORKFLOW)
    key = event.issue_key
    facts = read_request_facts(event, ctx)
    wiki = template_values(key, found, facts, mappings, WIKI)
    plain = template_values(key, found, facts, mappings, PLAIN)
    line = template_values(key, found, facts, mappings, LINE)
    subtasks = tuple(
        SubTaskSpec(
            slug=sub.slug,
            summary=mappings.render_line(f"{WORKFLOW}.{sub.slug}.title", **line),
            description=mappings.render_plain(sub.description, **plain),
        )
        for sub in mappings.subtasks_for(WORKFLOW, found.kind)
    )
    case = CaseSpec(
        workflow=WORKFLOW,
        request_key=key,
        summary=mappings.render_line(f"{WORKFLOW}.summary", **line),
        description=mappings.render_plain(flow.description, **plain) if flow.description else "",
        labels=(*flow.labels, "uzibot-kind-" + found.kind.replace("_", "-")),
        facts=_case_facts(key, found, facts),
        subtasks=subtasks,
    )
    comments = (
        CommentSpec(
            slug=ACK_SLUG,
            issue_key=key,
            body=mappings.render(flow.templates["public"], **wiki),
            public=True,
        ),
        CommentSpec(
            slug=NOTE_SLUG,
            issue_key=key,
            body=mappings.render(
                flow.templates["note"],
                **{
                    **wiki,
                    "unread": unread_values(ctx.unread_certificates),
                },
            ),
            public=False,
        ),
    )
    vendor = facts.vendor.name if facts.vendor else "unknown vendor"
    return Plan(
        handler=WORKFLOW,
        summary=(
            f"practice change ({found.kind}, {vendor}) for {key}: "
            f"case with {len(subtasks)} sub-tasks, public reply, internal note"
        ),
        case=case,
        comments=comments,
    )


for _name in HANDLED_EVENTS:
    router.register(_name, WORKFLOW)(plan_practice_change)


@dataclass(frozen=True)
class View:
    """How values are made safe for one kind of template: customer text and authored text."""

    customer: Callable[[str], str]
    authored: Callable[[str], str]


WIKI = View(customer=partial(escape_inline, limit=300), authored=trusted)
PLAIN = View(customer=partial(plain_line, limit=300), authored=plain_line)
LINE = View(customer=partial(plain_line, limit=60), authored=plain_line)


def template_values(
    key: str, found: Classification, facts: RequestFacts, mappings: Mappings, view: View
) -> dict[str, Any]:
    """The values every practice-change template may use, made safe through `view`."""
    assert found.kind is not None
    kind = mappings.kinds[found.kind]
    vendor = facts.vendor
    c, a = view.customer, view.authored

    def given(value: str | None) -> str | None:
        return c(value) if value else None

    return {
        "request_key": a(key) if ISSUE_KEY.match(key) else c(key),
        "kind": a(found.kind),
        "kind_label": a(kind.label_nl),
        "kind_label_en": a(kind.label_en),
        "kind_phrase": a(kind.phrase_nl),
        "practice_name": given(facts.practice_name),
        "abonneenummer": a(facts.abonneenummer)
        if facts.abonneenummer
        else given(facts.abonneenummer_input),
        "old_value": given(facts.old_value),
        "new_value": given(facts.new_value),
        "vendor": c(vendor.name) if vendor else None,
        "delivery": a(vendor.delivery) if vendor else None,
        "fallback_login": vendor.fallback_login if vendor else True,
        "vendor_source": a(facts.vendor_source) if facts.vendor_source else None,
        "decided_by": a(found.decided_by) if found.decided_by else None,
        "reasons": tuple(c(reason) for reason in found.reasons),
        "problems": tuple(c(problem) for problem in problems(found, facts, mappings)),
        "tracking_key": a(TRACKING_KEY_TOKEN),
        "fields": field_labels(mappings, view),
        "upload_vendors": tuple(c(v.name) for v in mappings.vendors if v.delivery == "self_upload"),
        "sending_vendors": tuple(c(v.name) for v in mappings.vendors if v.delivery == "vendor"),
        "unread": None,
    }


def field_labels(mappings: Mappings, view: View = WIKI) -> dict[str, str]:
    """The request fields' display names, made safe, keyed like FieldNames."""
    return {key: view.customer(name) for key, name in mappings.fields.model_dump().items()}


def _case_facts(key: str, found: Classification, facts: RequestFacts) -> dict[str, Any]:
    """The facts kept on the tracking issue (entity property): raw values, JSON-ready."""
    return {
        "workflow": WORKFLOW,
        "request_key": key,
        "kind": found.kind,
        "decided_by": found.decided_by,
        "vendor": facts.vendor.name if facts.vendor else None,
        "vendor_delivery": facts.vendor.delivery if facts.vendor else None,
        "abonneenummer": facts.abonneenummer or facts.abonneenummer_input,
        "practice_name": facts.practice_name,
        "reporter": facts.reporter,
        "old_value": facts.old_value,
        "new_value": facts.new_value,
    }


def problems(found: Classification, facts: RequestFacts, mappings: Mappings) -> tuple[str, ...]:
    """What looks odd or missing, as English sentences (raw: escape before showing)."""
    names = mappings.fields
    out: list[str] = []
    if not facts.practice_name:
        out.append(f"{names.practice_name} is empty.")
    out += _number_problems(names.abonneenummer, facts.abonneenummer_input, required=True)
    if found.kind == "abonneenummer":
        out += _number_problems(names.new_value, facts.new_value, required=True)
        out += _number_problems(names.old_value, facts.old_value, required=False)
        old, new = (
            normalise_abonneenummer(facts.old_value),
            normalise_abonneenummer(facts.new_value),
        )
        if old and old == new:
            out.append(f"{names.old_value} and {names.new_value} are the same number ({new}).")
    if found.kind == "practice_name":
        out.append(
            "A new name in the UZI register usually means a new abonneenummer: the reply asks "
            "the practice to check. If it changed, a new UZI server certificate is likely needed."
        )
    if facts.vendor_field and facts.vendor_source != "field":
        out.append(f"{names.vendor} value {_quote(facts.vendor_field)} is not a known vendor.")
    if facts.vendor is None and len(facts.vendors_named) > 1:
        out.append(f"The request names several vendors ({', '.join(facts.vendors_named)}).")
    return tuple(out)


def _number_problems(field: str, value: str | None, *, required: bool) -> list[str]:
    if not value:
        return [f"{field} is empty."] if required else []
    if looks_like_oin(value):
        return [
            f"{field} {_quote(value)} has 20 digits: it looks like an OIN, not an abonneenummer. "
            "How an OIN relates to the abonneenummer is not documented, so uzibot did not "
            "derive one: ask the practice for its abonneenummer (at most 8 digits)."
        ]
    if normalise_abonneenummer(value) is None:
        return [f"{field} {_quote(value)} is not an abonneenummer (a number of at most 8 digits)."]
    return []


def _quote(value: str) -> str:
    return '"' + " ".join(value.split())[:120] + '"'
