"""Tests for bot.certs.read_certificate: every verdict, every format, the UZI fields."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from cryptography.hazmat.primitives import hashes

from bot.certs.reader import KEY_SENTENCE, TEST_SENTENCE, read_certificate
from tests import certgen as g
from tests.cert_support import FQDN, SHIPPED, bad_signature, read


def test_g1_production_bundle_in_any_order_reports_every_field() -> None:
    chain = g.hierarchy("g1-production")
    leaf = g.server_cert("g1-production", ura="01234567")
    report = read(g.pem(chain.root, leaf, chain.intermediate, chain.server_ca), trust=SHIPPED)
    # Against the real CAs the fake chain is not genuine: not_uzi, with every field reported.
    assert report.verdict == "not_uzi"
    assert report.abonneenummer == "01234567"
    assert report.uzi_number == "123456789"
    assert report.card_type == "S"
    assert report.role == "00.000"
    assert report.agb == "00000000"
    assert report.oid_ca == "2.16.528.1.1003.1.3.5.5.5"
    assert report.ura == "01234567"
    assert report.fqdn == FQDN
    assert report.subject_cn == FQDN
    assert report.subject_o == "Huisartsenpraktijk De Linde"
    assert report.not_before == datetime(2025, 1, 1, 9, 30, tzinfo=UTC)
    assert report.not_after == datetime(2028, 1, 1, 9, 30, tzinfo=UTC)
    assert report.not_after is not None and report.not_after.tzinfo is not None
    assert report.deactivation_date == date(2027, 12, 25)
    assert report.latest_start == date(2027, 12, 4)
    assert report.deadline_state == "on_time"
    assert report.environment == "production"
    assert report.generation == "G1"
    assert report.issuer == "UZI-register Private Server CA G1"
    assert report.key_type == "RSA"
    assert report.key_size == 2048
    assert report.signature_algorithm == "sha256WithRSAEncryption"
    assert report.fingerprint_sha256 == leaf.fingerprint(hashes.SHA256()).hex()
    assert report.contains_private_key is False
    # The fake CAs carry the real names: the uploaded root is not the shipped one.
    assert report.chain_verified is False
    assert report.problems == (
        "The root 'Staat der Nederlanden Private Root CA - G1' in the upload carries the name "
        "of a shipped UZI root CA but is a different certificate; the chain is not trusted.",
    )


def test_g1_test_certificate_is_judged_by_dates_with_a_test_sentence() -> None:
    report = read(g.pem(g.server_cert("g1-test")))  # issued by the trusted generated copy
    assert report.verdict == "ok"
    assert report.environment == "test"
    assert report.generation == "G1"
    assert report.oid_ca == "2.16.528.1.1007.99.2110"
    assert report.issuer == "TEST UZI-register Private Server CA G1"
    assert report.chain_verified is True
    assert TEST_SENTENCE in report.problems
    assert TEST_SENTENCE.startswith("This is a TEST (acceptance) certificate")
    real = read(g.pem(g.server_cert("g1-test")), trust=SHIPPED)
    assert (real.verdict, real.chain_verified) == ("not_uzi", False)
    assert real.environment == "test" and TEST_SENTENCE in real.problems
    assert bad_signature(FQDN, "TEST UZI-register Private Server CA G1") in real.problems


def test_production_oid_under_a_test_issuer_is_treated_as_test() -> None:
    report = read(g.pem(g.server_cert("g1-test", oid_ca=g.OID_CA_PRODUCTION)))
    assert report.environment == "test"
    assert any("production value but the issuer is a TEST CA" in p for p in report.problems)


def test_g4_rsa_pss_4096() -> None:
    chain = g.hierarchy("g4")
    leaf = g.server_cert("g4", key_bits=4096, uzi_number="987654321")
    report = read(g.der(leaf), "server.cer")
    assert report.verdict == "ok"
    assert report.generation == "G4"
    assert report.environment == "production"
    assert report.issuer == "UZI Server - G4 PKIo Priv G-TLS SYS - 2025"
    assert report.signature_algorithm == "RSASSA-PSS with SHA256"
    assert (report.key_type, report.key_size) == ("RSA", 4096)
    assert report.uzi_number == "987654321"
    # G4 CAs are not shipped yet: an unknown issuer is reported, not rejected.
    assert report.chain_verified is None
    assert report.problems == (
        "The issuer 'UZI Server - G4 PKIo Priv G-TLS SYS - 2025' is not one of the shipped "
        "UZI CA certificates, so the chain could not be checked.",
    )
    trusted = read(g.der(leaf), trust=chain.cas)
    assert (trusted.chain_verified, trusted.problems) == (True, ())


def test_utf8string_other_name() -> None:
    report = read(g.pem(g.server_cert(string_tag=g.UTF8, abonneenummer="00012345")))
    assert (report.verdict, report.abonneenummer, report.card_type) == ("ok", "00012345", "S")


def test_permanent_identifier_that_differs_from_the_abonneenummer() -> None:
    report = read(g.pem(g.server_cert(ura="7654321")))
    assert report.ura == "7654321"
    assert (
        "The URA in the permanentIdentifier (7654321) differs from the abonneenummer in the "
        "UZI otherName (01234567)." in report.problems
    )


@pytest.mark.parametrize(
    ("make", "fmt"),
    [
        (lambda leaf, cas: g.der(leaf), "DER"),
        (lambda leaf, cas: g.p7([*cas, leaf]), "PKCS#7 DER"),
        (lambda leaf, cas: g.p7([leaf, *cas], as_pem=True), "PKCS#7 PEM"),
        (lambda leaf, cas: g.p12(leaf, cas=cas), "PKCS#12"),
        (lambda leaf, cas: g.p12(leaf), "PKCS#12 leaf only"),
    ],
)
def test_every_format_reads_the_same_certificate(make: object, fmt: str) -> None:
    chain = g.hierarchy("g1-production")
    leaf = g.server_cert()
    data = make(leaf, list(chain.cas))  # type: ignore[operator]
    report = read(data, "upload.bin", trust=chain.cas)
    assert report.verdict == "ok", fmt
    assert report.fingerprint_sha256 == leaf.fingerprint(hashes.SHA256()).hex()
    assert report.chain_verified is True
    assert report.contains_private_key is False


def test_expired() -> None:
    report = read(g.pem(g.server_cert(not_after=datetime(2026, 5, 20, tzinfo=UTC))))
    assert report.verdict == "expired"
    assert report.deadline_state == "too_late"
    assert "The certificate expired on 2026-05-20." in report.problems


def test_expiry_is_judged_by_the_amsterdam_date() -> None:
    # 22:30 UTC on 31 May is 00:30 on 1 June in Amsterdam: still its last valid day.
    leaf = g.server_cert(not_after=datetime(2026, 5, 31, 22, 30, tzinfo=UTC))
    assert read(g.pem(leaf)).verdict == "ok"
    assert read_certificate(g.pem(leaf), "x", today=date(2026, 6, 2)).verdict == "expired"


def test_not_yet_valid() -> None:
    leaf = g.server_cert(not_before=datetime(2026, 6, 2, 8, tzinfo=UTC))
    report = read(g.pem(leaf))
    assert report.verdict == "not_yet_valid"
    assert "The certificate is not valid before 2026-06-02." in report.problems


def test_a_card_certificate_is_not_a_server_certificate() -> None:
    report = read(g.pem(g.server_cert(card_type="Z")))
    assert report.verdict == "not_a_server_certificate"
    assert report.card_type == "Z"
    assert (
        "The UZI card type is 'Z': this is a card certificate, not a server certificate "
        "(type 'S')." in report.problems
    )


def test_a_uzi_card_certificate_is_production_without_fqdn() -> None:
    # A UZI card (here a "Z" card of the 1003 arc): its CN is a person's name, not a server.
    card_oid = "2.16.528.1.1003.1.3.5.5.2"
    cert = g.server_cert(card_type="Z", oid_ca=card_oid, dns=False, fqdn="J. de Vries")
    report = read(g.pem(cert))
    assert report.verdict == "not_a_server_certificate"
    assert report.environment == "production"
    assert report.fqdn is None
    assert not any("neither the production nor the test" in p for p in report.problems)
    assert any("this is a card certificate" in p for p in report.problems)
    # The card OID alone (a card type of "S" would be a contradiction) says the same.
    odd = read(g.pem(g.server_cert(oid_ca=card_oid, dns=False, fqdn="J. de Vries")))
    assert odd.verdict == "not_a_server_certificate" and odd.fqdn is None
    assert any("is a UZI card value, not the server value" in p for p in odd.problems)
    # Outside the UZI arcs it is still neither production nor test.
    other = read(g.pem(g.server_cert(oid_ca="2.16.528.1.9999.1")))
    assert any("neither the production nor the test" in p for p in other.problems)


def test_a_plain_tls_certificate_is_not_uzi() -> None:
    report = read(g.pem(g.tls_cert()))
    assert report.verdict == "not_uzi"
    assert report.fqdn == "www.example.nl"
    assert report.abonneenummer is None
    assert (report.key_type, report.key_size) == ("EC secp256r1", 256)
    assert report.environment is None and report.generation is None
    assert report.chain_verified is None
    assert report.problems[0] == (
        "The certificate has no UZI otherName (2.5.5.5), so it is not a UZI server certificate."
    )


def test_a_uzi_name_without_seven_parts_is_not_uzi() -> None:
    report = read(g.pem(g.server_cert(uzi_text="2.16.528.1.1003.1.3.5.5.5-1-123456789-S")))
    assert report.verdict == "not_uzi"
    assert "The UZI otherName has 4 '-'-separated parts instead of 7" in report.problems[0]


def test_a_serial_number_that_differs_from_the_uzi_number_is_a_problem() -> None:
    text = g.uzi_string(uzi_number="555555555")
    report = read(g.pem(g.server_cert(uzi_text=text, uzi_number="123456789")))
    assert report.verdict == "ok"
    assert report.uzi_number == "555555555"
    assert report.problems[0] == (
        "The subject serialNumber (123456789) differs from the UZI number in the UZI "
        "otherName (555555555)."
    )


def test_fqdn_falls_back_to_the_common_name() -> None:
    report = read(g.pem(g.server_cert(dns=False, fqdn="alleen-cn.example.nl")))
    assert report.fqdn == "alleen-cn.example.nl"


@pytest.mark.parametrize("flavour", ["pkcs8", "traditional", "encrypted", "ec"])
def test_pem_with_a_private_key_reports_fields_but_never_the_key(flavour: str) -> None:
    leaf = g.server_cert()
    key = g.key_pem(flavour=flavour)  # type: ignore[arg-type]
    report = read(key + g.pem(leaf))
    assert report.verdict == "private_key_included"
    assert report.contains_private_key is True
    assert report.abonneenummer == "01234567"
    assert report.problems[0] == KEY_SENTENCE
    dumped = report.model_dump_json()
    assert "PRIVATE KEY" not in dumped
    body_lines = [line for line in key.decode().splitlines() if "-----" not in line]
    assert all(line not in dumped for line in body_lines if len(line) > 16)


def test_private_key_wins_over_every_other_verdict() -> None:
    leaf = g.server_cert(card_type="N", not_after=datetime(2025, 6, 1, tzinfo=UTC))
    report = read(g.pem(leaf) + g.key_pem(), abonneenummer="999")
    assert report.verdict == "private_key_included"
    assert report.card_type == "N"


def test_a_key_alone_and_a_pkcs12_with_key() -> None:
    alone = read(g.key_pem())
    assert (alone.verdict, alone.contains_private_key) == ("private_key_included", True)
    assert alone.problems == (KEY_SENTENCE, "The upload holds no certificate.")
    bundle = read(g.p12(g.server_cert(), key=g.rsa_key()), "cert.pfx")
    assert (bundle.verdict, bundle.abonneenummer) == ("private_key_included", "01234567")


def test_a_password_protected_pkcs12_cannot_be_read() -> None:
    report = read(g.p12(g.server_cert(), key=g.rsa_key(), password=b"pw"), "cert.p12")
    assert report.verdict == "unparseable"
    assert "protected by a password" in report.problems[0]


@pytest.mark.parametrize(
    ("data", "sentence"),
    [
        (b"", "The file is empty."),
        (b"  \n\t", "The file is empty."),
        (b"\x00garbage\xff" * 10, "The file is not a certificate in a known format"),
        (b"hello world, this is a letter", "The file is not a certificate in a known format"),
        (b"-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n", "PEM file"),
    ],
)
def test_garbage_and_empty_are_unparseable(data: bytes, sentence: str) -> None:
    report = read(data)
    assert report.verdict == "unparseable"
    assert report.problems[0].startswith(sentence) or sentence in report.problems[0]
    assert report.contains_private_key is False


def test_over_size_is_checked_before_parsing() -> None:
    data = g.pem(g.server_cert())
    report = read(data, max_bytes=len(data) - 1)
    assert report.verdict == "unparseable"
    assert report.problems == (f"The file is larger than {len(data) - 1} bytes.",)
    assert read(data, max_bytes=len(data)).verdict == "ok"


def test_truncated_and_mangled_input_never_raises() -> None:
    whole = g.der(g.server_cert())
    for cut in range(1, len(whole), 37):
        assert read(whole[:cut]).verdict == "unparseable"
    flipped = bytearray(whole)
    flipped[200] ^= 0xFF
    assert read(bytes(flipped)).verdict in {"unparseable", "ok"}


@pytest.mark.parametrize(
    ("typed", "verdict", "problem"),
    [
        ("1234567", "ok", None),
        ("01234567", "ok", None),
        (" 0123 45.67 ", "ok", None),
        ("  ", "ok", None),
        ("7654321", "abonneenummer_mismatch", "01234567, not 07654321 as given."),
        ("12-34", "ok", "The abonneenummer given ('12-34') is not a number; it was not compared."),
        ("123456789", "ok", "has more than 8 digits; it was not compared."),
        ("00000009012345670000", "ok", "It looks like an OIN"),
    ],
)  # fmt: skip
def test_abonneenummer_comparison(typed: str, verdict: str, problem: str | None) -> None:
    report = read(g.pem(g.server_cert()), abonneenummer=typed)
    assert report.verdict == verdict
    if problem is None:
        assert not any("abonneenummer" in sentence for sentence in report.problems)
    else:
        assert any(problem in sentence for sentence in report.problems)


def test_mismatch_comes_before_expired() -> None:
    leaf = g.server_cert(not_after=datetime(2026, 1, 1, tzinfo=UTC))
    assert read(g.pem(leaf), abonneenummer="1").verdict == "abonneenummer_mismatch"
    assert read(g.pem(leaf), abonneenummer="1234567").verdict == "expired"


def test_several_uzi_certificates_pick_the_server_that_expires_last() -> None:
    old = g.server_cert(uzi_number="111111111")
    new = g.server_cert(uzi_number="222222222", not_before=datetime(2026, 1, 1, tzinfo=UTC))
    card = g.server_cert(uzi_number="333333333", card_type="Z")
    report = read(g.pem(new, card, old))
    assert report.uzi_number == "222222222"
    assert report.problems[0] == (
        "The upload holds 3 end-entity certificates; this report is about "
        "'zorg.praktijkdelinde.nl', the server certificate expiring last."
    )


def test_json_dump_has_the_contract_fields() -> None:
    dumped = json.loads(read(g.pem(g.server_cert())).model_dump_json())
    for field in ("file", "verdict", "abonneenummer", "uzi_number", "card_type", "fqdn"):
        assert field in dumped
    assert dumped["not_after"] == "2028-01-01T09:30:00Z"
    assert dumped["deactivation_date"] == "2027-12-25"
