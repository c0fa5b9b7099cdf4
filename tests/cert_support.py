"""Shared helpers for the certificate reader tests: one clock, one reader call, one sentence."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.certs.chain import load_pem_directory_certificates
from bot.certs.reader import read_certificate
from bot.certs.report import CertReport

TODAY = date(2026, 6, 1)
FQDN = "zorg.praktijkdelinde.nl"
SHIPPED = load_pem_directory_certificates()
"""The real UZI CA certificates only (the suite also trusts certgen's copy: tests/conftest.py)."""


def read(data: bytes, name: str = "upload.pem", **kwargs: Any) -> CertReport:
    """The reader's report on `data`, judged on TODAY."""
    return read_certificate(data, name, today=TODAY, **kwargs)


def bad_signature(subject: str, issuer: str) -> str:
    """The problem sentence for a certificate that a shipped CA of that name did not sign."""
    return (
        f"The signature of {subject!r} does not verify against the shipped UZI CA named "
        f"{issuer!r}: it was not issued by that CA, or it was altered."
    )
