"""Reads the facts a pure handler needs from Jira before dispatch: the attached certificates."""

from __future__ import annotations

import logging
from datetime import date
from typing import Protocol

from bot.certs.reader import read_certificate
from bot.certs.report import CertReport
from bot.events import Event
from bot.jira.errors import AttachmentTooLarge, JiraError, JiraRetryable

log = logging.getLogger("uzibot.facts")

CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der", ".p7b", ".p7c", ".p12", ".pfx", ".key", ".txt")


class AttachmentSource(Protocol):
    """The one gateway method this module uses."""

    def attachment_bytes(self, attachment_id: str, *, max_bytes: int) -> bytes: ...


def looks_like_certificate(filename: str) -> bool:
    """Attachments worth reading: certificate, bundle and key file extensions."""
    return filename.lower().endswith(CERT_SUFFIXES)


def read_attached_certificates(
    event: Event, source: AttachmentSource, *, today: date, max_bytes: int
) -> list[CertReport]:
    """Fetch (by id, from the configured site only) and read each certificate-like attachment."""
    reports = []
    for attachment in event.attachments:
        if not looks_like_certificate(attachment.filename):
            continue
        if attachment.size > max_bytes:
            reports.append(_unread(attachment.filename, f"larger than {max_bytes} bytes"))
            continue
        try:
            data = source.attachment_bytes(attachment.id, max_bytes=max_bytes)
        except JiraRetryable:
            raise  # Jira is busy or down: the whole delivery is retried later
        except AttachmentTooLarge:
            reports.append(_unread(attachment.filename, f"larger than {max_bytes} bytes"))
            continue
        except JiraError as exc:
            log.warning("attachment %s on %s not read: %s", attachment.id, event.issue_key, exc)
            reports.append(_unread(attachment.filename, f"not downloadable from Jira ({exc})"))
            continue
        reports.append(
            read_certificate(data, attachment.filename, today=today, max_bytes=max_bytes)
        )
    return reports


def _unread(filename: str, why: str) -> CertReport:
    """The report for an attachment that was not read at all."""
    return CertReport(
        file=filename, verdict="unparseable", problems=(f"The file was not read: {why}.",)
    )
