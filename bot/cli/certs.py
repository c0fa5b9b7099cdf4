"""`uzibot certs import PATH... [--contacts CSV]` and `uzibot certs list [--json]`."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.cli.cert import parse_day

if TYPE_CHECKING:  # the parser is built for every command: the rest loads when it runs
    from bot.certs.registry import PracticeFacts
    from bot.certs.report import CertReport
    from bot.inbox.store import Store
    from bot.plan import CertificateRecord

CSV_COLUMNS = ("abonneenummer", "practice", "vendor", "contact")
MAX_CSV_BYTES = 16 * 1024 * 1024
MAX_FILES = 100_000
RECORDED = frozenset({"ok", "expired", "not_yet_valid"})


class UsageError(Exception):
    """A problem with the command line or the contacts file: exit 2, nothing recorded."""


@dataclass
class ImportOutcome:
    """What an import recorded, merged and refused (with a reason per file)."""

    recorded: list[tuple[str, CertificateRecord]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def add_certs_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Define `certs import` and `certs list`."""
    certs = subparsers.add_parser("certs", help="the certificate registry (import, list)")
    sub = certs.add_subparsers(dest="certs_command", required=True)
    imp = sub.add_parser("import", help="record certificate files and directories")
    imp.add_argument("paths", nargs="+", metavar="PATH")
    imp.add_argument("--contacts", metavar="CSV", help="abonneenummer,practice,vendor,contact")
    lst = sub.add_parser("list", help="the current certificate per abonneenummer")
    lst.add_argument("--json", action="store_true", dest="as_json")
    lst.add_argument(
        "--today", type=parse_day, metavar="YYYY-MM-DD", help="the date the ! flag is judged by"
    )


def certs_command(args: argparse.Namespace, store: Store, out: TextIO) -> int:
    """Run `certs import` or `certs list`."""
    from bot.certs.deadlines import amsterdam

    today = datetime.now(amsterdam()).date()
    if args.certs_command == "list":
        day = args.today or today
        return list_certificates(store, today=day, as_json=args.as_json, out=out)
    try:
        contacts = read_contacts(Path(args.contacts)) if args.contacts else {}
        files = list(collect_files(args.paths))
    except UsageError as exc:
        print(f"uzibot certs import: {exc}", file=sys.stderr)
        return 2
    outcome = import_files(store, files, contacts, today=today)
    print_outcome(outcome, out)
    return 1 if outcome.refused else 0


# -- import ---------------------------------------------------------------------------------


def collect_files(paths: list[str]) -> Iterator[Path]:
    """Every regular file named or found (recursively, sorted) under the paths given."""
    count = 0
    for name in paths:
        path = Path(name)
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs.sort()
                for item in sorted(names):
                    count += 1
                    if count > MAX_FILES:
                        raise UsageError(f"more than {MAX_FILES} files; import in parts")
                    yield Path(root) / item
        elif path.is_file():
            count += 1
            yield path
        else:
            raise UsageError(f"{name}: no such file or directory")


def read_contacts(path: Path) -> dict[str, PracticeFacts]:
    """The contacts CSV by abonneenummer (header row names the columns; others are ignored)."""
    from bot.certs.registry import PracticeFacts

    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or type(exc).__name__}") from None
    if len(data) > MAX_CSV_BYTES:
        raise UsageError(f"{path}: larger than {MAX_CSV_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise UsageError(f"{path}: the header row lacks {', '.join(missing)}")
    reader.fieldnames = header
    out: dict[str, PracticeFacts] = {}
    for line, row in enumerate(reader, start=2):
        number = normalise(row.get("abonneenummer"))
        if number is None:
            raise UsageError(
                f"{path}:{line}: abonneenummer {row.get('abonneenummer')!r} is not 1-8 digits"
            )
        out[number] = PracticeFacts(
            abonneenummer=number,
            practice=_cell(row.get("practice"), 200),
            vendor=_cell(row.get("vendor"), 100),
            contact=_cell(row.get("contact"), 200),
        )
    return out


def normalise(value: str | None) -> str | None:
    """An abonneenummer as 8 digits (left-padded), None when it is not 1-8 digits."""
    text = (value or "").strip()
    return text.zfill(8) if text.isdigit() and len(text) <= 8 else None


def _cell(value: str | None, limit: int) -> str | None:
    text = " ".join((value or "").split())
    return text[:limit] or None


def import_files(
    store: Store,
    files: list[Path],
    contacts: dict[str, PracticeFacts],
    *,
    today: date,
    progress: TextIO | None = None,
) -> ImportOutcome:
    """Read each file; record the UZI server certificates, refuse the rest with a reason.

    A progress bar over the files goes to `progress` (stderr) when that is a terminal.
    """
    from bot.certs.registry import record_certificates, record_practice_facts
    from bot.cli.progress import Progress

    outcome = ImportOutcome()
    seen: dict[str, str] = {}
    with Progress(len(files), "reading", stream=progress or sys.stderr) as bar:
        for path in files:
            _import_one(path, today, contacts, seen, outcome)
            bar.advance()
    record_certificates(store, [r for _, r in outcome.recorded])
    if contacts:
        without = record_practice_facts(store, list(contacts.values()))
        outcome.notes += [
            f"contacts row for {n}: no certificate of this abonneenummer is registered"
            for n in sorted(without)
        ]
    return outcome


def _import_one(
    path: Path,
    today: date,
    contacts: dict[str, PracticeFacts],
    seen: dict[str, str],
    outcome: ImportOutcome,
) -> None:
    """Read one file into `outcome`: recorded, a duplicate of one seen, or refused."""
    from bot.plan import CertificateRecord

    report = _read(path, today)
    reason = refusal(report)
    if reason is not None:
        outcome.refused.append((str(path), reason))
        return
    assert report.fingerprint_sha256 and report.abonneenummer
    if report.fingerprint_sha256 in seen:
        outcome.duplicates.append((str(path), seen[report.fingerprint_sha256]))
        return
    seen[report.fingerprint_sha256] = str(path)
    facts = contacts.get(report.abonneenummer)
    outcome.recorded.append(
        (
            str(path),
            CertificateRecord(
                fingerprint=report.fingerprint_sha256,
                abonneenummer=report.abonneenummer,
                uzi_number=report.uzi_number,
                not_before=report.not_before.isoformat() if report.not_before else None,
                not_after=report.not_after.isoformat() if report.not_after else None,
                practice=(facts.practice if facts else None) or report.subject_o,
                vendor=facts.vendor if facts else None,
                contact=facts.contact if facts else None,
                environment=report.environment,
            ),
        )
    )


def _read(path: Path, today: date) -> CertReport:
    from bot.certs.reader import DEFAULT_MAX_BYTES, read_certificate
    from bot.certs.report import CertReport

    try:
        with path.open("rb") as handle:
            data = handle.read(DEFAULT_MAX_BYTES + 1)
    except OSError as exc:
        return CertReport(
            file=str(path),
            verdict="unparseable",
            problems=(f"The file could not be opened: {exc.strerror or type(exc).__name__}.",),
        )
    return read_certificate(data, str(path), today=today)


def refusal(report: CertReport) -> str | None:
    """Why a file is not recorded, or None for a UZI server certificate of production."""
    if report.verdict == "private_key_included":
        return "contains a private key (not read, not kept): export the certificate alone"
    if report.verdict == "not_a_server_certificate":
        return f"a UZI card certificate (card type {report.card_type or '?'}), not a server one"
    if report.verdict not in RECORDED or report.card_type != "S":
        return report.problems[0] if report.problems else f"verdict {report.verdict}"
    if report.environment == "test":
        return "a TEST (acceptance) certificate, not a production one"
    if not report.fingerprint_sha256 or not report.abonneenummer:
        return "no abonneenummer found in the certificate"
    return None


def print_outcome(outcome: ImportOutcome, out: TextIO) -> None:
    """A summary line, then the duplicates, refusals and notes, one per line."""
    numbers = {r.abonneenummer for _, r in outcome.recorded}
    out.write(
        f"recorded {len(outcome.recorded)} certificate(s) for {len(numbers)} abonneenummer(s); "
        f"{len(outcome.duplicates)} duplicate(s); {len(outcome.refused)} refused\n"
    )
    for path, first in outcome.duplicates:
        out.write(f"  same certificate: {path} = {first}\n")
    for path, reason in outcome.refused:
        out.write(f"  refused: {path}: {reason}\n")
    for note in outcome.notes:
        out.write(f"  note: {note}\n")


# -- list -----------------------------------------------------------------------------------


def certificate_rows(store: Store) -> list[dict[str, Any]]:
    """The current certificate per abonneenummer with its dates and open case, soonest first."""
    from bot.certs.deadlines import deactivation_date, latest_start, local_date
    from bot.certs.registry import current_certificates
    from bot.inbox.claims import steps_with_prefix
    from bot.watch import PREFIX, case_states

    cases = case_states(steps_with_prefix(store, PREFIX))
    rows = []
    for cert in current_certificates(store):
        not_after = datetime.fromisoformat(cert.not_after) if cert.not_after else None
        case = cases.get((cert.abonneenummer, cert.fingerprint))
        rows.append(
            {
                "abonneenummer": cert.abonneenummer,
                "practice": cert.practice,
                "system": cert.vendor,
                "contact": cert.contact,
                "environment": cert.environment,
                "expiry": local_date(not_after).isoformat() if not_after else None,
                "switch_off": deactivation_date(not_after).isoformat() if not_after else None,
                "latest_start": latest_start(not_after).isoformat() if not_after else None,
                "open_case": case.key if case else None,
                "fingerprint": cert.fingerprint,
            }
        )
    rows.sort(key=lambda r: (r["switch_off"] or "9999", r["abonneenummer"]))
    return rows


def list_certificates(store: Store, *, today: date, as_json: bool, out: TextIO) -> int:
    """Print the registry's current certificates as a table (or JSON)."""
    rows = certificate_rows(store)
    if as_json:
        json.dump(rows, out, indent=2)
        out.write("\n")
        return 0
    header = ("abonnee", "practice", "system", "expiry", "switch-off", "start by", "case")
    late = today.isoformat()
    table = [
        (
            r["abonneenummer"],
            _fit(r["practice"], 15),
            _fit(r["system"], 10),
            r["expiry"] or "-",
            r["switch_off"] or "-",
            (r["latest_start"] or "-") + ("!" if (r["latest_start"] or late) < late else ""),
            r["open_case"] or "-",
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *table, strict=False)]
    for line in (header, *table):
        out.write(" ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
        out.write("\n")
    out.write(f"{len(rows)} abonneenummer(s); ! = latest start passed\n")
    return 0


def _fit(value: str | None, width: int) -> str:
    text = " ".join((value or "-").split())
    return text if len(text) <= width else text[: width - 1] + "…"
