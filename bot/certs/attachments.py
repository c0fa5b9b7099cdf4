"""Reads the facts a pure handler needs from Jira before dispatch: the attached certificates."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Protocol

from bot.certs.reader import read_certificate
from bot.certs.report import CertReport
from bot.events import Attachment, Event
from bot.jira.errors import AttachmentTooLarge, JiraError, JiraRetryable

log = logging.getLogger("uzibot.facts")

CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der", ".p7b", ".p7c", ".p12", ".pfx", ".key", ".txt")
CERT_MIME_TYPES = frozenset(
    {
        "application/x-x509-ca-cert",
        "application/x-x509-user-cert",
        "application/pkix-cert",
        "application/x-pem-file",
        "application/pkcs7-mime",
        "application/x-pkcs7-certificates",
        "application/x-pkcs12",
        "application/pkcs8",
    }
)
DEFAULT_MAX_FILES = 10


class AttachmentSource(Protocol):
    """The one gateway method this module uses."""

    def attachment_bytes(self, attachment_id: str, *, max_bytes: int) -> bytes: ...


def looks_like_certificate(filename: str, mime_type: str | None = None) -> bool:
    """Attachments worth reading: certificate, bundle and key file extensions or types."""
    if mime_type and mime_type.split(";")[0].strip().lower() in CERT_MIME_TYPES:
        return True
    return filename.lower().endswith(CERT_SUFFIXES)


def select_attachments(
    attachments: Sequence[Attachment], max_files: int
) -> tuple[list[Attachment], list[Attachment]]:
    """(to read, left unread): certificate-like files, smallest first, at most `max_files`."""
    candidates = [a for a in attachments if looks_like_certificate(a.filename, a.mime_type)]
    ordered = sorted(candidates, key=lambda a: a.size)  # stable: same size keeps Jira's order
    chosen = {id(a) for a in ordered[:max_files]}
    return [a for a in candidates if id(a) in chosen], ordered[max_files:]


def read_attached_certificates(
    event: Event,
    source: AttachmentSource,
    *,
    today: date,
    max_bytes: int,
    max_files: int = DEFAULT_MAX_FILES,
) -> list[CertReport]:
    """Fetch (by id, from the configured site only) and read the certificate-like attachments.

    At most `max_files` are downloaded, the smallest first, so a request with a thousand files
    costs no more than one with ten; `unread_certificates` names the others.
    """
    chosen, _ = select_attachments(event.attachments, max_files)
    reports = []
    for attachment in chosen:
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


def unread_certificates(event: Event, max_files: int = DEFAULT_MAX_FILES) -> tuple[str, ...]:
    """Names of the certificate-like attachments past the limit (not downloaded, not read)."""
    return tuple(a.filename for a in select_attachments(event.attachments, max_files)[1])


def _unread(filename: str, why: str) -> CertReport:
    """The report for an attachment that was not read at all."""
    return CertReport(
        file=filename, verdict="unparseable", problems=(f"The file was not read: {why}.",)
    )
