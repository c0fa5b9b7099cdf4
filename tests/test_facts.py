"""Reading attached certificates: by id, size-capped, never a URL from the payload."""

from __future__ import annotations

from datetime import date

import pytest

from bot.certs.attachments import read_attached_certificates
from bot.envelope import parse_jira_envelope
from bot.events import Event
from bot.jira.errors import AttachmentTooLarge, JiraNotFound, JiraRetryable
from tests import certgen as g


class Source:
    def __init__(self, answers: dict[str, bytes | Exception]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, int]] = []

    def attachment_bytes(self, attachment_id: str, *, max_bytes: int) -> bytes:
        self.asked.append((attachment_id, max_bytes))
        answer = self.answers[attachment_id]
        if isinstance(answer, Exception):
            raise answer
        return answer


def event_with(*files: tuple[str, str, int]) -> Event:
    payload = {
        "webhookEvent": "jira:issue_updated",
        "issue": {
            "key": "UZO-1",
            "fields": {
                "attachment": [
                    {"id": i, "filename": n, "size": size, "content": "https://evil.example/x"}
                    for i, n, size in files
                ]
            },
        },
    }
    return parse_jira_envelope(payload, "d")


def test_reads_certificate_files_by_id_and_skips_others() -> None:
    source = Source({"1": g.pem(g.server_cert()), "3": b"garbage"})
    event = event_with(("1", "cert.pem", 900), ("2", "photo.jpg", 10), ("3", "x.cer", 7))
    reports = read_attached_certificates(event, source, today=date(2026, 11, 28), max_bytes=4096)
    assert [r.verdict for r in reports] == ["ok", "unparseable"]
    assert source.asked == [("1", 4096), ("3", 4096)]


def test_oversize_and_missing_attachments_are_reported_not_fetched() -> None:
    source = Source({"2": AttachmentTooLarge(200, "too big"), "3": JiraNotFound(404, "gone")})
    event = event_with(("1", "big.pem", 10_000), ("2", "liar.pem", 10), ("3", "gone.pem", 10))
    reports = read_attached_certificates(event, source, today=date(2026, 11, 28), max_bytes=4096)
    assert [r.verdict for r in reports] == ["unparseable"] * 3
    assert "larger than 4096 bytes" in reports[0].problems[0]
    assert "larger than 4096 bytes" in reports[1].problems[0]
    assert "not downloadable" in reports[2].problems[0]
    assert [a for a, _ in source.asked] == ["2", "3"]


def test_jira_outage_while_reading_retries_the_delivery() -> None:
    source = Source({"1": JiraRetryable(503, "down")})
    with pytest.raises(JiraRetryable):
        read_attached_certificates(
            event_with(("1", "c.pem", 10)),
            source,
            today=date(2026, 11, 28),
            max_bytes=4096,
        )
