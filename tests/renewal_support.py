"""Helpers for the renewal handler tests: fixtures as Events, real CertReports, one context."""

from __future__ import annotations

import functools
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from bot.certs.reader import read_certificate
from bot.certs.report import CertReport
from bot.cli.plan import example_field_ids
from bot.context import HandlerContext
from bot.envelope import parse_jira_envelope
from bot.events import Event
from bot.mappings import Mappings, load_mappings
from bot.plan import CommentSpec, Plan
from handlers.renewal import plan_renewal
from tests import certgen as g

FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
TODAY = date(2027, 2, 1)
FIELD_IDS = example_field_ids()
ISSUED = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


@functools.cache
def mappings() -> Mappings:
    """The shipped mappings, loaded once."""
    return load_mappings()


def payload(name: str) -> dict[str, Any]:
    """A fixture's JSON (name without .json)."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def event(name: str, data: dict[str, Any] | None = None) -> Event:
    """The Event of a fixture, parsed by the real envelope parser."""
    return parse_jira_envelope(data if data is not None else payload(name), "d1")


def context(*reports: CertReport, today: date = TODAY) -> HandlerContext:
    """A HandlerContext as the worker builds it, with the given certificate reports."""
    return HandlerContext(
        mappings=mappings(),
        today=today,
        tracking_project="UZT",
        service_desk_project="UZO",
        field_ids=FIELD_IDS,
        certificates=reports,
    )


def cert(not_after: datetime, *, not_before: datetime = ISSUED, **kwargs: Any) -> x509.Certificate:
    """A generated G1 production UZI server certificate (abonneenummer 01234567 by default)."""
    return g.server_cert(not_before=not_before, not_after=not_after, **kwargs)


def report(data: bytes, filename: str, today: date = TODAY) -> CertReport:
    """The real reader's report on an upload."""
    return read_certificate(data, filename, today=today)


def pem_report(certificate: x509.Certificate, filename: str, today: date = TODAY) -> CertReport:
    """The report on a PEM file holding one certificate."""
    return report(g.pem(certificate), filename, today)


def fp16(certificate: x509.Certificate) -> str:
    """The first 16 hex digits of a certificate's SHA-256 fingerprint."""
    return certificate.fingerprint(hashes.SHA256()).hex()[:16]


def plan_for(name: str, *reports: CertReport, today: date = TODAY) -> Plan:
    """The renewal plan for a fixture; fails when the handler declines."""
    plan = plan_renewal(event(name), context(*reports, today=today))
    assert plan is not None, f"no renewal plan for {name}"
    return plan


def comment(plan: Plan, slug: str) -> CommentSpec:
    """The plan's comment with this slug."""
    found = [c for c in plan.comments if c.slug == slug]
    assert len(found) == 1, f"{slug} not in {[c.slug for c in plan.comments]}"
    return found[0]


def slugs(plan: Plan) -> list[str]:
    """The plan's comment slugs, in order."""
    return [c.slug for c in plan.comments]


def ack(plan: Plan) -> str:
    """The body of the public first reply."""
    return comment(plan, "renewal:ack").body


def note(plan: Plan) -> str:
    """The body of the internal note."""
    return comment(plan, "renewal:note").body
