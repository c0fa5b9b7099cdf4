"""Template values for the renewal texts: values escaped first, dates in Dutch words."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.certs.deadlines import local_date
from bot.markup import JiraText, PlainLine, escape_inline, plain_line, trusted
from bot.plan import ISSUE_KEY, TRACKING_KEY_TOKEN
from handlers.classify import Classification, RequestFacts
from handlers.renewal_certs import AttachedFile, Certificates, Role

MONTHS_NL = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def format_date_nl(day: date) -> str:
    """A date as Dutch text ("12 maart 2027"), no locale needed; a moment is taken in Amsterdam."""
    if isinstance(day, datetime):
        day = local_date(day)
    return f"{day.day} {MONTHS_NL[day.month - 1]} {day.year}"


def common_values(key: str, found: Classification, facts: RequestFacts) -> dict[str, Any]:
    """Values every renewal template (and the sub-task descriptions) may use."""
    vendor = facts.vendor
    return {
        "request_key": trusted(key) if ISSUE_KEY.match(key) else escape_inline(key),
        "practice_name": _escaped(facts.practice_name),
        "abonneenummer": (
            trusted(facts.abonneenummer)
            if facts.abonneenummer
            else _escaped(facts.abonneenummer_input)
        ),
        "vendor": escape_inline(vendor.name) if vendor else None,
        "delivery": trusted(vendor.delivery) if vendor else None,
        "fallback_login": vendor.fallback_login if vendor else True,
        "vendor_source": trusted(facts.vendor_source) if facts.vendor_source else None,
        "decided_by": trusted(found.decided_by) if found.decided_by else None,
        "reasons": tuple(escape_inline(reason, 300) for reason in found.reasons),
        "kind": None,
        "kind_label": None,
        "tracking_key": trusted(TRACKING_KEY_TOKEN),
    }


# Files with a problem described one by one in a public reply; the rest are counted.
UPLOADS_SHOWN = 10


def line_values(key: str, facts: RequestFacts) -> dict[str, PlainLine | None]:
    """Values for one-line templates (summary, sub-task titles)."""
    vendor = facts.vendor
    return {
        "request_key": plain_line(key),
        "practice_name": plain_line(facts.practice_name, 60) if facts.practice_name else None,
        "abonneenummer": plain_line(facts.abonneenummer) if facts.abonneenummer else None,
        "vendor": plain_line(vendor.name) if vendor else None,
        "delivery": plain_line(vendor.delivery) if vendor else None,
        "kind": None,
        "kind_label": None,
    }


def public_values(certs: Certificates, today: date, typed: str | None) -> dict[str, Any]:
    """What the public reply says about the certificates it answers for (Dutch dates).

    At most UPLOADS_SHOWN files with a problem are described one by one; the rest are counted.
    """
    wrong = [f for f in certs.files if f.issues]
    return {
        "deadline": deadline_values(certs.current, today),
        "new_cert": new_cert_values(certs.new),
        "uploads": tuple(upload_values(f, typed) for f in wrong[:UPLOADS_SHOWN]),
        "uploads_more": len(wrong) - UPLOADS_SHOWN if len(wrong) > UPLOADS_SHOWN else 0,
        "has_files": bool(certs.files),
    }


def deadline_values(file: AttachedFile | None, today: date) -> dict[str, Any] | None:
    """The dates of the current certificate: expiry, switch-off day, latest start, state."""
    if file is None:
        return None
    r = file.report
    if r.not_after is None or r.deactivation_date is None or r.latest_start is None:
        return None
    return {
        "expiry": trusted(format_date_nl(r.not_after)),
        "deactivation": trusted(format_date_nl(r.deactivation_date)),
        "latest_start": trusted(format_date_nl(r.latest_start)),
        "deactivation_iso": trusted(r.deactivation_date.isoformat()),
        "latest_start_iso": trusted(r.latest_start.isoformat()),
        "state": trusted(r.deadline_state or "on_time"),
        "state_text": escape_inline(r.deadline_state or "unknown"),
        "passed": r.deactivation_date < today,
        "from_registry": file.attachment_id is None and r.file == "registry",
        "today": r.deactivation_date == today,
    }


def new_cert_values(file: AttachedFile | None) -> dict[str, Any] | None:
    """The validity of a recently issued (new) certificate."""
    if file is None or file.report.not_before is None or file.report.not_after is None:
        return None
    return {
        "file": escape_inline(file.report.file, 120),
        "not_before": trusted(format_date_nl(file.report.not_before)),
        "not_after": trusted(format_date_nl(file.report.not_after)),
    }


def upload_values(file: AttachedFile, typed: str | None) -> dict[str, Any]:
    """One file and what is wrong with it, for the Dutch wording of each issue."""
    r = file.report
    return {
        "file": escape_inline(r.file, 120),
        "issues": tuple(trusted(issue) for issue in file.issues),
        "cert_abonneenummer": _escaped(r.abonneenummer),
        "typed_abonneenummer": _escaped(typed),
        "not_before": trusted(format_date_nl(r.not_before)) if r.not_before else None,
        "not_after": trusted(format_date_nl(r.not_after)) if r.not_after else None,
    }


def note_file_values(file: AttachedFile, role: Role | None) -> dict[str, Any]:
    """One file's facts for the agents (English, ISO dates); never key material."""
    r = file.report
    return {
        "file": escape_inline(r.file, 120),
        "attachment_id": _escaped(file.attachment_id),
        "verdict": escape_inline(file.verdict),
        "role": trusted(role) if role else None,
        "has_certificate": file.has_certificate,
        "dated": file.dated,
        "abonneenummer": _escaped(r.abonneenummer),
        "matches": file.abonneenummer_matches,
        "uzi_number": _escaped(r.uzi_number),
        "card_type": _escaped(r.card_type),
        "environment": _escaped(r.environment),
        "generation": _escaped(r.generation),
        "issuer": _escaped(r.issuer),
        "subject_o": _escaped(r.subject_o),
        "fqdn": _escaped(r.fqdn),
        "not_before": _iso(local_date(r.not_before) if r.not_before else None),
        "not_after": _iso(local_date(r.not_after) if r.not_after else None),
        "deactivation": _iso(r.deactivation_date),
        "latest_start": _iso(r.latest_start),
        "deadline_state": _escaped(r.deadline_state),
        "chain_verified": r.chain_verified,
        "fingerprint": _escaped(r.fingerprint_sha256),
        "key": r.contains_private_key,
        "problems": tuple(escape_inline(p, 400) for p in r.problems),
    }


def _escaped(value: str | None) -> JiraText | None:
    return escape_inline(value) if value else None


def _iso(value: date | None) -> JiraText | None:
    return trusted(value.isoformat()) if value is not None else None
