"""Judges the certificates attached to a renewal request: what is wrong per file, current, new."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from bot.certs.deadlines import local_date
from bot.certs.report import CertReport
from bot.events import Event

Issue = Literal[
    "unparseable",
    "key_only",
    "not_uzi",
    "not_a_server_certificate",
    "test",
    "abonneenummer_mismatch",
    "expired",
    "not_yet_valid",
]
Role = Literal["current", "new"]

# A file uploaded within ORIGINAL_WINDOW of the request's creation came with the request and is
# answered in the first reply; a later one gets a reply of its own.
ORIGINAL_WINDOW = timedelta(minutes=5)
# A valid certificate issued in the last FRESH_DAYS is the renewed ("new") one; the certificate in
# use ("current") is the valid one expiring last among the others: its dates set the deadline.
FRESH_DAYS = timedelta(days=180)
SERVER_CARD_TYPE = "S"
_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AttachedFile:
    """One report, where it came from, and what is wrong with it (empty issues: usable)."""

    report: CertReport
    attachment_id: str | None
    created: datetime | None
    original: bool
    issues: tuple[Issue, ...]
    abonneenummer_matches: bool | None

    @property
    def has_certificate(self) -> bool:
        """True when a certificate was read from the file."""
        return self.report.fingerprint_sha256 is not None

    @property
    def slug(self) -> str:
        """The identity of its own reply: the certificate's fingerprint, else the attachment."""
        fingerprint = self.report.fingerprint_sha256
        if fingerprint:
            return f"renewal:cert:{fingerprint[:16]}"
        if self.attachment_id:
            return f"renewal:file:{self.attachment_id}"
        digest = hashlib.sha256(self.report.file.encode()).hexdigest()[:16]
        return f"renewal:file:{digest}"

    @property
    def note_slug(self) -> str:
        """The identity of the internal note about this file."""
        _, kind, ident = self.slug.split(":", 2)
        return f"renewal:{kind}_note:{ident}"

    @property
    def dated(self) -> bool:
        """A valid production UZI server certificate: its dates count (a mismatch is flagged)."""
        return (
            self.has_certificate
            and self.report.not_after is not None
            and set(self.issues) <= {"abonneenummer_mismatch"}
        )

    @property
    def verdict(self) -> str:
        """The reader's verdict, with the abonneenummer comparison made here applied."""
        if self.report.verdict == "ok" and self.abonneenummer_matches is False:
            return "abonneenummer_mismatch"
        return self.report.verdict


@dataclass(frozen=True)
class Certificates:
    """The judged files of a request (or a part of them) and the roles found among them."""

    files: tuple[AttachedFile, ...]
    current: AttachedFile | None
    new: AttachedFile | None
    described: AttachedFile | None

    @property
    def key_files(self) -> tuple[AttachedFile, ...]:
        """Files that carried a private key."""
        return tuple(f for f in self.files if f.report.contains_private_key)

    @property
    def mismatch(self) -> bool:
        """True when any certificate belongs to another abonneenummer than the one typed."""
        return any(f.abonneenummer_matches is False for f in self.files)

    def role(self, file: AttachedFile) -> Role | None:
        """The file's role: current, new, or None."""
        if self.current is not None and file.slug == self.current.slug:
            return "current"
        if self.new is not None and file.slug == self.new.slug:
            return "new"
        return None


def read_files(
    event: Event, reports: Sequence[CertReport], typed: str | None, today: date
) -> tuple[AttachedFile, ...]:
    """Tie each report to its attachment (same file name, in order) and judge it."""
    attachments = _attachments(event)
    issue_created = _moment(event.fields.get("created"))
    used: set[int] = set()
    out = []
    for report in reports:
        index = next(
            (i for i, a in enumerate(attachments) if i not in used and a[1] == report.file), None
        )
        attachment_id, created = None, None
        if index is not None:
            used.add(index)
            attachment_id, _, created = attachments[index]
        original = (
            created is None or issue_created is None or (created <= issue_created + ORIGINAL_WINDOW)
        )
        matches = _matches(report.abonneenummer, typed)
        out.append(
            AttachedFile(
                report=report,
                attachment_id=attachment_id,
                created=created,
                original=original,
                issues=_issues(report, matches, today),
                abonneenummer_matches=matches,
            )
        )
    return tuple(out)


def assess(files: Sequence[AttachedFile], today: date) -> Certificates:
    """Find the current and the new certificate; `described` is the one the facts describe."""
    dated = [f for f in files if f.dated]
    fresh = [f for f in dated if _is_fresh(f.report, today)]
    in_use = [f for f in dated if f not in fresh]
    current = max(in_use, key=_not_after) if in_use else None
    new = max(fresh, key=_not_after) if fresh else None
    readable = [f for f in files if f.has_certificate]
    best = max(readable, key=_preference) if readable else (files[0] if files else None)
    return Certificates(files=tuple(files), current=current, new=new, described=current or best)


def file_facts(file: AttachedFile, role: Role | None) -> dict[str, Any]:
    """The JSON facts of one file for the case's entity property; never key material."""
    r = file.report
    return {
        "file": r.file if len(r.file) <= 100 else r.file[:99] + "…",
        "attachment_id": file.attachment_id,
        "role": role,
        "verdict": file.verdict,
        "issues": list(file.issues),
        "abonneenummer": r.abonneenummer,
        "abonneenummer_matches": file.abonneenummer_matches,
        "uzi_number": r.uzi_number,
        "card_type": r.card_type,
        "fingerprint": r.fingerprint_sha256,
        "not_before": _iso(r.not_before),
        "not_after": _iso(r.not_after),
        "deactivation_date": _iso(r.deactivation_date),
        "latest_start": _iso(r.latest_start),
        "deadline_state": r.deadline_state,
        "environment": r.environment,
        "generation": r.generation,
        "chain_verified": r.chain_verified,
        "contains_private_key": r.contains_private_key,
    }


def _issues(report: CertReport, matches: bool | None, today: date) -> tuple[Issue, ...]:
    """What is wrong, most fundamental first; a file that is not a server cert stops there."""
    if report.fingerprint_sha256 is None:
        return ("key_only",) if report.contains_private_key else ("unparseable",)
    if report.card_type is None:
        return ("not_uzi",)
    if report.card_type != SERVER_CARD_TYPE:
        return ("not_a_server_certificate",)
    found: list[Issue] = []
    if report.environment == "test":
        found.append("test")
    if matches is False:
        found.append("abonneenummer_mismatch")
    if report.not_after is not None and local_date(report.not_after) < today:
        found.append("expired")
    if report.not_before is not None and local_date(report.not_before) > today:
        found.append("not_yet_valid")
    return tuple(found)


def _matches(found: str | None, typed: str | None) -> bool | None:
    """Compare abonneenummers left-padded to 8 digits; None when either is missing."""
    if not found or not typed:
        return None
    return found.zfill(8) == typed.zfill(8)


def _is_fresh(report: CertReport, today: date) -> bool:
    return report.not_before is not None and local_date(report.not_before) > today - FRESH_DAYS


def _not_after(file: AttachedFile) -> datetime:
    return file.report.not_after or _OLDEST


def _preference(file: AttachedFile) -> tuple[bool, bool, datetime]:
    """Prefer a UZI server certificate, then production, then the latest not_after."""
    r = file.report
    return (r.card_type == SERVER_CARD_TYPE, r.environment == "production", _not_after(file))


def _attachments(event: Event) -> list[tuple[str, str, datetime | None]]:
    """(id, filename, created) of the issue's attachments, from the raw `attachment` field."""
    raw = event.fields.get("attachment")
    out = []
    for item in raw if isinstance(raw, list) else ():
        if isinstance(item, dict) and item.get("id") is not None:
            name = item.get("filename")
            if isinstance(name, str):
                out.append((str(item["id"]), name, _moment(item.get("created"))))
    return out


def _moment(raw: Any) -> datetime | None:
    """A Jira timestamp ("2025-06-03T09:32:04.113+0200") as an aware datetime, or None."""
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None
