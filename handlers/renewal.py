"""Plans the case for a UZI server certificate renewal: case, sub-tasks, replies, wrong uploads."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from bot.context import HandlerContext
from bot.events import Event
from bot.mappings import Mappings
from bot.markup import trusted
from bot.plan import CaseSpec, CommentSpec, Plan, SubTaskSpec
from bot.router import Router
from handlers.certificates import unread_values
from handlers.classify import (
    Classification,
    RequestFacts,
    read_request_facts,
    routed_classification,
)
from handlers.renewal_certs import AttachedFile, Certificates, assess, file_facts, read_files
from handlers.renewal_problems import file_problems, request_problems
from handlers.renewal_values import (
    common_values,
    line_values,
    note_file_values,
    public_values,
    upload_values,
)

WORKFLOW = "renewal"
HANDLED_EVENTS = ("jira:issue_created", "jira:issue_updated", "comment_created")
ACK_SLUG = "renewal:ack"
NOTE_SLUG = "renewal:note"
KEY_SLUG = "renewal:private_key"
KEY_NOTE_SLUG = "renewal:private_key_note"
PRIORITY = {"too_late": "Highest", "tight": "High", "on_time": "Medium"}
# The case property (Jira: 32 KB) keeps facts, not per-file detail: at most this many files,
# each name cut to this length; the rest are counted.
FACTS_FILES = 10
# Files the agents' note describes one by one (with their problems); the rest are counted.
NOTE_FILES_SHOWN = 25
FACTS_NAME_CHARS = 100

router = Router()


def plan_renewal(event: Event, ctx: HandlerContext) -> Plan | None:
    """The case for a portal request recognised as a certificate renewal.

    Level-triggered: the same request state (fields, attachments, their certificates, today)
    gives the same Plan on every event. The first reply and note answer the files uploaded
    with the request; each certificate that arrives later gets a reply and a note of its own
    (slug per fingerprint), so the reconciler posts each exactly once.
    """
    found = routed_classification(event, ctx)
    if found is None or found.workflow != WORKFLOW or not event.issue_key:
        return None
    key = event.issue_key
    facts = read_request_facts(event, ctx)
    files = read_files(event, ctx.certificates, facts.abonneenummer, ctx.today)
    every = assess(files, ctx.today)
    first = assess([f for f in files if f.original], ctx.today)
    known = registered_file(ctx, every)
    if known is not None:
        every, first = replace(every, current=known), replace(first, current=known)
    base = common_values(key, found, facts)
    writer = _Writer(ctx, key, base, facts.abonneenummer)
    comments = [
        writer.comment(
            ACK_SLUG, "public", public=True, **public_values(first, ctx.today, facts.abonneenummer)
        ),
        writer.comment(NOTE_SLUG, "note", public=False, **_note_values(first, found, facts, ctx)),
    ]
    if every.key_files:
        keys = tuple(note_file_values(f, None) for f in every.key_files)
        comments.append(writer.comment(KEY_SLUG, "private_key", public=True, key_files=keys))
        comments.append(
            writer.comment(KEY_NOTE_SLUG, "private_key_note", public=False, key_files=keys)
        )
    for file in _later_files(files):
        comments.extend(writer.later(file, every))
    case = _case(ctx.mappings, key, found, facts, every, base, tuple(ctx.unread_certificates))
    deadline = every.current.report.deadline_state if every.current else None
    vendor = facts.vendor.name if facts.vendor else "unknown vendor"
    return Plan(
        handler=WORKFLOW,
        summary=(
            f"renewal ({vendor}, deadline {deadline or 'unknown'}) for {key}: case with "
            f"{len(case.subtasks)} sub-tasks, {len(comments)} comments"
        ),
        case=case,
        comments=tuple(comments),
    )


for _name in HANDLED_EVENTS:
    router.register(_name, WORKFLOW)(plan_renewal)


class _Writer:
    """Renders the renewal templates named in workflows.toml [renewal.templates]."""

    def __init__(
        self, ctx: HandlerContext, key: str, base: dict[str, Any], typed: str | None
    ) -> None:
        self.ctx, self.key, self.base, self.typed = ctx, key, base, typed
        self.templates = ctx.mappings.workflow(WORKFLOW).templates

    def comment(self, slug: str, template: str, /, public: bool, **values: Any) -> CommentSpec:
        """Render the template of this role (ack, note, ...) into a comment with this slug."""
        body = self.ctx.mappings.render(self.templates[template], **{**self.base, **values})
        return CommentSpec(slug=slug, issue_key=self.key, body=body, public=public)

    def later(self, file: AttachedFile, every: Certificates) -> list[CommentSpec]:
        """A reply and a note for a file that arrived after the request was made."""
        role = every.role(file)
        single = Certificates(
            files=(file,),
            current=file if role == "current" else None,
            new=file if role == "new" else None,
            described=file,
        )
        values = {
            **public_values(single, self.ctx.today, self.typed),
            "file": note_file_values(file, role),
            "received": upload_values(file, self.typed),
            "role": trusted(role) if role else None,
            "key": file.report.contains_private_key,
        }
        note = self.comment(
            file.note_slug,
            "certificate_note",
            public=False,
            **values,
            problems=file_problems(file, self.typed, self.ctx.today),
        )
        if not file.has_certificate and file.report.contains_private_key:
            return [note]  # nothing to acknowledge: the private-key reply covers it
        reply = self.comment(file.slug, "certificate_received", public=True, **values)
        return [reply, note]


def registered_file(ctx: HandlerContext, every: Certificates) -> AttachedFile | None:
    """The registry's current certificate, when nothing attached dates the renewal."""
    report = ctx.registered
    if report is None or every.current is not None or every.new is not None:
        return None
    if any(f.report.fingerprint_sha256 == report.fingerprint_sha256 for f in every.files):
        return None
    return AttachedFile(
        report=report,
        attachment_id=None,
        created=None,
        original=False,
        issues=(),
        abonneenummer_matches=True,
    )


def _later_files(files: tuple[AttachedFile, ...]) -> list[AttachedFile]:
    """Files that arrived later, one per certificate, not already answered in the first reply."""
    answered = {f.slug for f in files if f.original}
    out: dict[str, AttachedFile] = {}
    for file in sorted((f for f in files if not f.original), key=_created):
        if file.slug not in answered and file.slug not in out:
            out[file.slug] = file
    return list(out.values())


def _created(file: AttachedFile) -> str:
    return file.created.isoformat() if file.created else ""


def _note_files(certs: Certificates) -> list[AttachedFile]:
    """The files the note describes one by one: the current and new ones, then the first few."""
    chosen = [f for f in (certs.current, certs.new) if f is not None]
    for file in certs.files:
        if len(chosen) >= NOTE_FILES_SHOWN:
            break
        if file not in chosen:
            chosen.append(file)
    return [f for f in certs.files if f in chosen]


def _note_values(
    certs: Certificates, found: Classification, facts: RequestFacts, ctx: HandlerContext
) -> dict[str, Any]:
    typed = facts.abonneenummer
    problems = list(request_problems(facts, ctx.mappings))
    shown = _note_files(certs)
    for file in shown:
        problems.extend(file_problems(file, typed, ctx.today))
    rest = Counter(f.verdict for f in certs.files if f not in shown)
    return {
        **public_values(certs, ctx.today, typed),
        "files": tuple(note_file_values(f, certs.role(f)) for f in shown),
        "files_more": (
            trusted(", ".join(f"{n} {verdict}" for verdict, n in sorted(rest.items())))
            if rest
            else None
        ),
        "unread": unread_values(ctx.unread_certificates),
        "problems": tuple(problems),
    }


def _case(
    mappings: Mappings,
    key: str,
    found: Classification,
    facts: RequestFacts,
    every: Certificates,
    wiki: dict[str, Any],
    unread: tuple[str, ...],
) -> CaseSpec:
    flow = mappings.workflow(WORKFLOW)
    line = line_values(key, facts)
    subtasks = tuple(
        SubTaskSpec(
            slug=sub.slug,
            summary=mappings.render_line(f"{WORKFLOW}.{sub.slug}.title", **line),
            description=mappings.render(sub.description, **wiki),
        )
        for sub in mappings.subtasks_for(WORKFLOW)
    )
    current = every.current.report if every.current else None
    return CaseSpec(
        workflow=WORKFLOW,
        request_key=key,
        summary=mappings.render_line(f"{WORKFLOW}.summary", **line),
        description=mappings.render(flow.description, **wiki) if flow.description else "",
        labels=flow.labels,
        due_date=current.deactivation_date if current else None,
        priority=PRIORITY.get(current.deadline_state or "") if current else None,
        facts=_case_facts(key, found, facts, every, unread),
        subtasks=subtasks,
    )


def _case_facts(
    key: str,
    found: Classification,
    facts: RequestFacts,
    every: Certificates,
    unread: tuple[str, ...],
) -> dict[str, Any]:
    """The facts kept on the tracking issue (entity property): JSON-ready, no key material."""
    described, new, current = every.described, every.new, every.current
    certificate = file_facts(described, every.role(described)) if described else None
    return {
        "workflow": WORKFLOW,
        "request_key": key,
        "decided_by": found.decided_by,
        "vendor": facts.vendor.name if facts.vendor else None,
        "delivery": facts.vendor.delivery if facts.vendor else None,
        "abonneenummer": facts.abonneenummer or facts.abonneenummer_input,
        "practice_name": facts.practice_name,
        "reporter": facts.reporter,
        "certificate": certificate,
        "new_certificate": (
            file_facts(new, "new") if new is not None and new is not described else None
        ),
        "deactivation_date": _iso(current.report.deactivation_date if current else None),
        "latest_start": _iso(current.report.latest_start if current else None),
        "deadline_state": current.report.deadline_state if current else None,
        "abonneenummer_mismatch": every.mismatch,
        "private_key_uploaded": bool(every.key_files),
        "attachments": [
            {"file": _short(f.report.file), "verdict": f.verdict, "issues": list(f.issues)}
            for f in every.files[:FACTS_FILES]
        ],
        "attachments_not_listed": max(len(every.files) - FACTS_FILES, 0),
        "attachments_not_read": len(unread),
    }


def _short(name: str) -> str:
    """A file name as kept in the facts: at most FACTS_NAME_CHARS characters."""
    return name if len(name) <= FACTS_NAME_CHARS else name[: FACTS_NAME_CHARS - 1] + "…"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
