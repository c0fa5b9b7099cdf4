"""The certificate report: what the reader found in one uploaded file (DESIGN.md contract)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Verdict = Literal[
    "ok",
    "expired",
    "not_yet_valid",
    "not_a_server_certificate",
    "not_uzi",
    "private_key_included",
    "unparseable",
    "abonneenummer_mismatch",
]
DeadlineState = Literal["on_time", "tight", "too_late"]


class CertReport(BaseModel):
    """One file's verdict and facts; never holds key material."""

    model_config = ConfigDict(frozen=True)

    file: str
    verdict: Verdict
    abonneenummer: str | None = None
    uzi_number: str | None = None
    card_type: str | None = None
    agb: str | None = None
    role: str | None = None
    oid_ca: str | None = None
    ura: str | None = None
    fqdn: str | None = None
    subject_cn: str | None = None
    subject_o: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    deactivation_date: date | None = None
    latest_start: date | None = None
    deadline_state: DeadlineState | None = None
    environment: Literal["production", "test"] | None = None
    generation: Literal["G1", "G4"] | None = None
    issuer: str | None = None
    chain_verified: bool | None = None
    key_type: str | None = None
    key_size: int | None = None
    signature_algorithm: str | None = None
    fingerprint_sha256: str | None = None
    contains_private_key: bool = False
    problems: tuple[str, ...] = Field(default_factory=tuple)
