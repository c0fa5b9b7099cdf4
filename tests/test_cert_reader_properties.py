"""Property tests (hypothesis): the certificate reader judges any bytes with a contract verdict.

Arbitrary bytes under every file name the portal accepts, and real uploads from
tests/certgen.py (PEM, DER, PKCS#7, PKCS#12, PEM with its key) mutated: bytes flipped,
cut, inserted, spliced. No exception escapes, the verdict is one of the contract's, a
report never quotes key material, and no failure falls through to the reader's last-resort
catch-all (every refusal names its reason).
"""

from __future__ import annotations

import functools
from datetime import date
from typing import get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.certs.reader import read_certificate
from bot.certs.report import CertReport, Verdict
from tests import certgen

EXAMPLES = settings(
    max_examples=2000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
VERDICTS = set(get_args(Verdict))
NAMES = ["upload.pem", "upload.crt", "upload.cer", "upload.der", "upload.p7b", "upload.p12",
         "upload.pfx", "upload.key", "upload.txt", "upload", ""]  # fmt: skip
LAST_RESORT = "The file could not be read ("


@functools.cache
def real_uploads() -> tuple[bytes, ...]:
    """One of each format the portal receives, built once."""
    chain = certgen.hierarchy("g1-production")
    leaf = certgen.server_cert("g1-production")
    key = certgen.rsa_key(2048, 0)
    return (
        certgen.pem(leaf),
        certgen.pem(leaf, *chain.cas),
        certgen.der(leaf),
        certgen.p7([leaf, *chain.cas]),
        certgen.p7([leaf], as_pem=True),
        certgen.p12(leaf, cas=chain.cas),
        certgen.pem(leaf) + certgen.key_pem(key),
    )


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real upload with a few edits: flips, cuts, insertions, or spliced with another."""
    data = bytearray(draw(st.sampled_from(real_uploads())))
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(st.sampled_from(["flip", "cut", "insert", "truncate", "splice"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if edit == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif edit == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif edit == "truncate":
            del data[at:]
        else:
            other = draw(st.sampled_from(real_uploads()))
            data[at:] = other[draw(st.integers(0, len(other) - 1)) :]
    return bytes(data)


def check(report: CertReport, data: bytes) -> None:
    assert report.verdict in VERDICTS
    assert not any(p.startswith(LAST_RESORT) for p in report.problems), report.problems
    dumped = report.model_dump_json()
    assert "PRIVATE KEY" not in dumped
    if report.verdict == "ok":  # chain problems are reported beside an ok, not as a verdict
        assert report.not_after is not None and not report.contains_private_key


@EXAMPLES
@given(
    data=st.binary(max_size=2048),
    name=st.sampled_from(NAMES),
    today=st.dates(date(2000, 1, 1), date(2100, 1, 1)),
    abonneenummer=st.none() | st.text(max_size=12),
)
def test_any_bytes_get_a_contract_verdict(
    data: bytes, name: str, today: date, abonneenummer: str | None
) -> None:
    check(read_certificate(data, name, today=today, abonneenummer=abonneenummer), data)


@pytest.mark.filterwarnings("ignore:PKCS#12 bundle could not be parsed as DER")
@EXAMPLES
@given(
    data=mutated(),
    name=st.sampled_from(NAMES),
    today=st.dates(date(2020, 1, 1), date(2035, 1, 1)),
    abonneenummer=st.none() | st.sampled_from(["01234567", "76543210"]) | st.text(max_size=12),
)
def test_mutated_real_uploads_get_a_contract_verdict(
    data: bytes, name: str, today: date, abonneenummer: str | None
) -> None:
    check(read_certificate(data, name, today=today, abonneenummer=abonneenummer), data)


def test_unmutated_uploads_are_read_as_uzi_server_certificates() -> None:
    """The mutation's starting points are good uploads (else the property proves little)."""
    verdicts = [
        read_certificate(data, "upload.pem", today=date(2026, 6, 1)).verdict
        for data in real_uploads()
    ]
    assert verdicts == ["ok"] * 6 + ["private_key_included"], verdicts


def test_a_certificate_with_an_unreadable_extension_is_refused_with_its_reason() -> None:
    """cryptography reads extensions lazily: a damaged one is named, not a bare ValueError."""
    data = bytearray(certgen.der(certgen.server_cert("g1-production")))
    at = data.rindex(b"zorg.praktijkdelinde.nl")  # the SAN's DNS name, after the subject
    data[at] = 0xFF  # not IA5
    report = read_certificate(bytes(data), "upload.der", today=date(2026, 6, 1))
    assert report.verdict == "unparseable"
    assert report.problems == (
        "The file holds no readable certificate. "
        "Certificate 1 in the file is damaged: its extensions cannot be read.",
    )
