"""The certificate registry, and a certificate that arrives with a customer comment."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.certs.reader import read_certificate
from bot.certs.registry import certificates_for, record_certificates
from bot.certs.report import CertReport
from bot.inbox.db import open_store
from bot.plan import CertificateRecord
from handlers.certificates import is_recordable, record_of
from tests import certgen as g
from tests.fakejira import FakeJira
from tests.harness import TODAY, load_fixture, make_harness

ISSUED = datetime(2024, 1, 5, tzinfo=UTC)


def records(
    reports: list[CertReport], practice: str | None, source: str
) -> list[CertificateRecord]:
    """What the certificates handler plans for these reports."""
    return [
        record_of(r, practice=practice, source_request=source) for r in reports if is_recordable(r)
    ]


def test_latest_expiry_is_current_and_older_ones_are_replaced(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    old = g.server_cert(not_before=ISSUED, not_after=datetime(2027, 1, 5, tzinfo=UTC))
    new = g.server_cert(
        uzi_number="987654321",
        not_before=datetime(2026, 11, 20, tzinfo=UTC),
        not_after=datetime(2029, 11, 20, tzinfo=UTC),
    )
    reports = [read_certificate(g.pem(c), "c.pem", today=TODAY) for c in (old, new)]
    assert record_certificates(store, records(reports[:1], "De Linde", "UZO-1")) == 1
    assert [r.status for r in certificates_for(store, "01234567")] == ["current"]
    record_certificates(store, records(reports, "De Linde", "UZO-2"))
    rows = certificates_for(store, "01234567")
    assert [(r.uzi_number, r.status) for r in rows] == [
        ("987654321", "current"),
        ("123456789", "replaced"),
    ]
    assert rows[1].source_request == "UZO-1"  # first seen on the earlier request
    garbage = read_certificate(b"not a certificate", "x.pem", today=TODAY)
    assert record_certificates(store, records([garbage], None, "UZO-3")) == 0
    store.close()


def test_certificate_sent_with_a_customer_comment_updates_the_case(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    created = load_fixture("renewal-cgm-huisarts-no-attachment")
    h.seed(created)
    h.post(created, delivery_id="created")
    h.drain()
    key = created["issue"]["key"]
    [link] = fake_jira.links(key)
    tracking = link.source if link.target == key else link.target
    assert fake_jira.issue(tracking).fields.get("duedate") is None

    # The practice attaches its certificate in a comment. Jira's comment_created payload
    # carries only a few issue fields (no custom fields, no attachments): the worker must
    # re-read the issue to see the certificate.
    comment = load_fixture("renewal-cgm-huisarts-comment")
    cert = g.server_cert(
        not_before=ISSUED, not_after=datetime(2027, 1, 5, 10, tzinfo=UTC), abonneenummer="07654321"
    )
    h.seed(comment, attachments={"10836": g.pem(cert)})
    reduced = dict(comment)
    reduced["issue"] = {
        "id": comment["issue"]["id"],
        "key": key,
        "fields": {
            k: comment["issue"]["fields"][k]
            for k in ("summary", "issuetype", "project", "status", "priority")
        },
    }
    assert h.post(reduced, delivery_id="comment").status_code == 202
    h.drain()
    assert h.services.store.get("comment").status == "done"  # type: ignore[union-attr]
    assert str(fake_jira.issue(tracking).fields.get("duedate")) == "2026-12-29"
    public = fake_jira.comments(key, public=True)
    assert len(public) == 2 and "29 december 2026" in public[-1].body
    assert [r.status for r in certificates_for(h.services.store, "07654321")] == ["current"]
    [row] = certificates_for(h.services.store, "07654321")
    reporter = comment["issue"]["fields"]["reporter"]["accountId"]
    # The request's reporter, practice and system are who the expiry watch will reach.
    assert (row.contact, row.practice, row.vendor, row.environment) == (
        reporter,
        "Huisartsenpraktijk Het Anker",
        "CGM Huisarts",
        "production",
    )
