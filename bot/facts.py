"""Reads the facts a pure handler needs from Jira before dispatch: the attached certificates."""

from __future__ import annotations

import logging
from datetime import date
from typing import Protocol

from bot.certmodel import CertReport
from bot.certs import read_certificate
from bot.events import Event
from bot.jira_errors import AttachmentTooLarge, JiraRetryable

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
            reports.append(
                read_certificate(
                    b"", attachment.filename, today=today, max_bytes=max_bytes
                ).model_copy(
                    update={
                        "problems": (
                            f"The file is larger than {max_bytes} bytes and was not read.",
                        )
                    }
                )
            )
            continue
        try:
            data = source.attachment_bytes(attachment.id, max_bytes=max_bytes)
        except Exception as exc:
            if isinstance(exc, JiraRetryable):
                raise
            reason = (
                "The file is larger than the size limit and was not read."
                if isinstance(exc, AttachmentTooLarge)
                else f"The attachment could not be downloaded from Jira: {exc}"
            )
            log.warning("attachment %s on %s not read: %s", attachment.id, event.issue_key, exc)
            reports.append(
                read_certificate(
                    b"", attachment.filename, today=today, max_bytes=max_bytes
                ).model_copy(update={"problems": (reason,)})
            )
            continue
        reports.append(
            read_certificate(data, attachment.filename, today=today, max_bytes=max_bytes)
        )
    return reports
