"""Plans the registry records for the UZI server certificates attached to a portal request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.certs.report import CertReport
from bot.context import HandlerContext
from bot.events import Event
from bot.markup import escape_inline, trusted
from bot.plan import CertificateRecord, Plan
from bot.router import Router

REQUEST_WORKFLOWS = ("practice_change", "renewal", "question", "triage")
REQUEST_EVENTS = ("jira:issue_created", "jira:issue_updated", "comment_created")
# Verdicts whose certificate is a UZI server certificate worth remembering.
RECORDED_VERDICTS = frozenset(
    {"ok", "expired", "not_yet_valid", "abonneenummer_mismatch", "private_key_included"}
)

router = Router()

# Names of unread files shown in the agents' note; the rest are counted.
UNREAD_NAMES_SHOWN = 20


def unread_values(names: Sequence[str]) -> dict[str, Any] | None:
    """The agents' note about certificate files left unread (past MAX_CERT_FILES)."""
    if not names:
        return None
    shown = names[:UNREAD_NAMES_SHOWN]
    return {
        "count": trusted(f"{len(names):,}"),
        "names": tuple(escape_inline(name, 120) for name in shown),
        "more": trusted(f"{len(names) - len(shown):,}") if len(names) > len(shown) else None,
    }


def plan_certificate_records(event: Event, ctx: HandlerContext) -> Plan | None:
    """One registry record per attached UZI server certificate, whatever the request is about."""
    practice = ctx.field_text(event, ctx.mappings.fields.practice_name)
    vendor_text = ctx.field_text(event, ctx.mappings.fields.vendor)
    known = ctx.mappings.match_vendor(vendor_text)
    vendor = known.name if known else vendor_text
    records = tuple(
        record_of(
            report,
            practice=practice,
            source_request=event.issue_key,
            vendor=vendor,
            contact=event.reporter_account_id,
        )
        for report in ctx.certificates
        if is_recordable(report)
    )
    if not records:
        return None
    return Plan(
        handler="certificates",
        summary=f"{len(records)} certificate(s) from {event.issue_key} into the registry",
        certificates=records,
    )


def is_recordable(report: CertReport) -> bool:
    """A UZI server certificate (card type S) with a fingerprint and an abonneenummer."""
    return bool(
        report.fingerprint_sha256
        and report.abonneenummer
        and report.card_type == "S"
        and report.verdict in RECORDED_VERDICTS
    )


def record_of(
    report: CertReport,
    *,
    practice: str | None,
    source_request: str | None,
    vendor: str | None = None,
    contact: str | None = None,
) -> CertificateRecord:
    """The registry facts of one certificate report."""
    assert report.fingerprint_sha256 and report.abonneenummer
    return CertificateRecord(
        fingerprint=report.fingerprint_sha256,
        abonneenummer=report.abonneenummer,
        uzi_number=report.uzi_number,
        not_before=report.not_before.isoformat() if report.not_before else None,
        not_after=report.not_after.isoformat() if report.not_after else None,
        practice=practice,
        source_request=source_request,
        vendor=vendor,
        contact=contact,
        environment=report.environment,
    )


for _event in REQUEST_EVENTS:
    for _workflow in REQUEST_WORKFLOWS:
        router.register(_event, _workflow)(plan_certificate_records)
