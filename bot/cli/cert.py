"""The `uzibot cert FILE...` subcommand: inspect certificate files, as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # the reader pulls in cryptography and pydantic: loaded when a file is read
    from cryptography import x509

    from bot.certs.report import CertReport

TEXT_FIELDS = (
    "verdict",
    "abonneenummer",
    "uzi_number",
    "card_type",
    "ura",
    "fqdn",
    "subject_o",
    "environment",
    "generation",
    "issuer",
    "chain_verified",
    "not_before",
    "not_after",
    "deactivation_date",
    "latest_start",
    "deadline_state",
    "key_type",
    "key_size",
    "signature_algorithm",
    "fingerprint_sha256",
    "contains_private_key",
)

# Shown even when empty: the verdict, and whether the chain was checked (None: it could not be).
ALWAYS_SHOWN = frozenset({"verdict", "chain_verified"})


def run_cert(
    files: list[str],
    *,
    as_json: bool,
    abonneenummer: str | None,
    today: date,
    max_bytes: int,
    out: TextIO,
    trust: tuple[x509.Certificate, ...] | None = None,
) -> int:
    """Read each file, print the reports; 0 when every verdict is ok, else 1.

    `trust` replaces the shipped UZI CA certificates (`--ca`), e.g. for a test hierarchy.
    """
    reports = [_read_file(name, abonneenummer, today, max_bytes, trust) for name in files]
    if as_json:
        json.dump([report.model_dump(mode="json") for report in reports], out, indent=2)
        out.write("\n")
    else:
        out.write("\n".join(format_report(report) for report in reports))
    return 0 if reports and all(report.verdict == "ok" for report in reports) else 1


def _read_file(
    name: str,
    abonneenummer: str | None,
    today: date,
    max_bytes: int,
    trust: tuple[x509.Certificate, ...] | None,
) -> CertReport:
    from bot.certs.reader import read_certificate
    from bot.certs.report import CertReport

    try:
        with Path(name).open("rb") as handle:
            data = handle.read(max_bytes + 1)  # one byte more tells that it is too large
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return CertReport(
            file=name,
            verdict="unparseable",
            problems=(f"The file could not be opened: {reason}.",),
        )
    return read_certificate(
        data, name, today=today, abonneenummer=abonneenummer, max_bytes=max_bytes, trust=trust
    )


def format_report(report: CertReport) -> str:
    """A readable block: one aligned 'field  value' line each, then the problems."""
    values = report.model_dump(mode="json")
    width = max(len(field) for field in TEXT_FIELDS)
    lines = [f"{'file':<{width}}  {report.file}"]
    lines += [
        f"{field:<{width}}  {_show(values[field])}"
        for field in TEXT_FIELDS
        if values[field] is not None or field in ALWAYS_SHOWN
    ]
    if report.problems:
        lines.append(f"{'problems':<{width}}  - {report.problems[0]}")
        lines += [f"{'':<{width}}  - {problem}" for problem in report.problems[1:]]
    return "\n".join(lines) + "\n"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "not checked" if value is None else str(value)


def parse_day(text: str) -> date:
    """argparse type for --today: an ISO date (YYYY-MM-DD)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in the form YYYY-MM-DD: {text!r}") from None


def parse_ca_file(text: str) -> tuple[x509.Certificate, ...]:
    """argparse type for --ca: a readable PEM file holding at least one certificate."""
    from cryptography import x509

    try:
        certs = tuple(x509.load_pem_x509_certificates(Path(text).read_bytes()))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise argparse.ArgumentTypeError(f"cannot read {text}: {reason}") from None
    except ValueError:
        raise argparse.ArgumentTypeError(f"no PEM certificate in {text}") from None
    return certs


def add_cert_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Define `cert FILE... [--json] [--abonneenummer N] [--today YYYY-MM-DD] [--ca PEM]`.

    The parser's default `func` is `cert_command(args, out=sys.stdout) -> int`.
    """
    parser = subparsers.add_parser(
        "cert",
        help="inspect UZI server certificate files",
        description="Read certificate files (PEM, DER, PKCS#7, PKCS#12) and judge them.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="certificate files")
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument("--abonneenummer", metavar="N", help="the expected abonneenummer")
    parser.add_argument(
        "--today", type=parse_day, metavar="YYYY-MM-DD", help="the date to judge by"
    )
    parser.add_argument(
        "--ca",
        type=parse_ca_file,
        metavar="PEM",
        help="trust the CA certificates in this PEM file instead of the shipped UZI CAs",
    )
    parser.add_argument("--max-bytes", type=int, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=cert_command)
    return parser


def cert_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run the parsed `cert` subcommand; the clock (today in Amsterdam) is read here."""
    from bot.certs.deadlines import amsterdam
    from bot.certs.reader import DEFAULT_MAX_BYTES

    return run_cert(
        args.files,
        as_json=args.json,
        abonneenummer=args.abonneenummer,
        today=args.today or datetime.now(amsterdam()).date(),
        max_bytes=DEFAULT_MAX_BYTES if args.max_bytes is None else args.max_bytes,
        out=out or sys.stdout,
        trust=args.ca,
    )
