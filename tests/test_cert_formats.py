"""Tests for upload decoding (bot.certs.formats) and the DER/UZI readers (bot.certs.uzi_profile)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization

from bot.certs.formats import FormatError, decode_upload
from bot.certs.uzi_profile import (
    ProfileError,
    check_uzi_name,
    decode_der_string,
    decode_oid,
    detect_environment,
    detect_generation,
    parse_permanent_identifier,
    parse_uzi_name,
    read_tlv,
)
from tests import certgen as g

UZI = "2.16.528.1.1003.1.3.5.5.5-1-123456789-S-01234567-00.000-00000000"


def test_decode_der_string_short_and_long_form_lengths() -> None:
    assert decode_der_string(g.der_tlv(0x16, UZI.encode())) == UZI
    assert decode_der_string(g.der_tlv(0x0C, "zorg é".encode())) == "zorg é"
    long_text = "x" * 200
    raw = g.der_tlv(0x16, long_text.encode())
    assert raw[:3] == b"\x16\x81\xc8"
    assert decode_der_string(raw) == long_text
    very_long = "y" * 300
    assert g.der_tlv(0x0C, very_long.encode())[:4] == b"\x0c\x82\x01\x2c"
    assert decode_der_string(g.der_tlv(0x0C, very_long.encode())) == very_long


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x16", b"\x16\x05abc", b"\x04\x03abc", b"\x16\x80", b"\x16\x85\x01\x01\x01\x01\x01"],
)
def test_decode_der_string_rejects_bad_input(raw: bytes) -> None:
    with pytest.raises(ValueError):
        decode_der_string(raw)


def test_read_tlv_offsets() -> None:
    data = b"\x30\x06\x02\x01\x03\x04\x01\x00"
    assert read_tlv(data) == (0x30, 2, 8)
    assert read_tlv(data, 2) == (0x02, 4, 5)


@pytest.mark.parametrize(
    "dotted", ["2.16.528.1.1007.3.3", "1.3.6.1.5.5.7.8.3", "2.5.5.5", "1.2.840.113549.1.1.10"]
)
def test_oid_round_trip(dotted: str) -> None:
    assert decode_oid(g.encode_oid(dotted)) == dotted


def test_permanent_identifier_variants() -> None:
    full = parse_permanent_identifier(g.permanent_identifier("01234567"))
    assert (full.value, full.assigner) == ("01234567", "2.16.528.1.1007.3.3")
    only_value = parse_permanent_identifier(g.permanent_identifier("42", assigner=None))
    assert (only_value.value, only_value.assigner) == ("42", None)
    only_assigner = parse_permanent_identifier(g.permanent_identifier(None))
    assert (only_assigner.value, only_assigner.assigner) == (None, "2.16.528.1.1007.3.3")
    with pytest.raises(ValueError):
        parse_permanent_identifier(b"\x0c\x02ab")


def test_parse_uzi_name_and_checks() -> None:
    name = parse_uzi_name(UZI)
    assert (name.oid_ca, name.version, name.uzi_number, name.card_type) == (
        "2.16.528.1.1003.1.3.5.5.5",
        "1",
        "123456789",
        "S",
    )
    assert (name.abonneenummer, name.role, name.agb) == ("01234567", "00.000", "00000000")
    assert check_uzi_name(name) == []
    odd = parse_uzi_name("1.2.3-1-12345-S-1234-00.000-abc")
    assert len(check_uzi_name(odd)) == 4
    with pytest.raises(ProfileError):
        parse_uzi_name("a-b-c")


def test_generation_and_environment() -> None:
    assert detect_generation(["UZI-register Private Server CA G1"]) == "G1"
    assert detect_generation(["UZI Server - G4 PKIo Priv G-TLS SYS - 2025"]) == "G4"
    assert detect_generation(["Example CA", "Staat der Nederlanden Private Root CA - G1"]) == "G1"
    assert detect_generation(["Example CA"]) is None
    assert detect_environment("2.16.528.1.1007.99.2110", "x") == ("test", [])
    assert detect_environment("2.16.528.1.1003.1.3.5.5.5", "UZI-register") == ("production", [])
    assert detect_environment(None, "TEST UZI-register Private Server CA G1") == ("test", [])
    assert detect_environment(None, "Example CA") == (None, [])


def test_pem_with_headers_noise_and_crlf() -> None:
    leaf = g.server_cert()
    noisy = b"Bag Attributes\r\n    friendlyName: uzi\r\n" + g.pem(leaf).replace(b"\n", b"\r\n")
    upload = decode_upload(noisy)
    assert upload.certificates == [leaf]
    assert upload.contains_private_key is False


def test_utf16_pem_and_bare_base64() -> None:
    leaf = g.server_cert()
    assert decode_upload(g.pem(leaf).decode().encode("utf-16")).certificates == [leaf]
    bare = base64.encodebytes(g.der(leaf))
    upload = decode_upload(bare)
    assert (upload.certificates, upload.format) == ([leaf], "base64 DER")


def test_trusted_certificate_label_and_ignored_blocks() -> None:
    leaf = g.server_cert()
    body = base64.encodebytes(g.der(leaf) + b"\x30\x00")
    trusted = (
        b"-----BEGIN TRUSTED CERTIFICATE-----\n" + body + b"-----END TRUSTED CERTIFICATE-----\n"
    )
    public = leaf.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    upload = decode_upload(public + trusted)
    assert upload.certificates == [leaf]
    assert upload.problems == []


def test_a_csr_is_explained() -> None:
    csr_pem = b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
    with pytest.raises(FormatError, match="certificate signing request"):
        decode_upload(csr_pem)


@pytest.mark.parametrize(
    "key_der",
    [
        lambda: g.rsa_key().private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        lambda: g.rsa_key().private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
        lambda: g.rsa_key().private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pw"),
        ),
    ],
)
def test_der_private_keys_are_detected(key_der: object) -> None:
    upload = decode_upload(key_der())  # type: ignore[operator]
    assert upload.contains_private_key is True
    assert upload.certificates == []


def test_a_cut_off_key_block_still_counts_as_a_key() -> None:
    data = g.pem(g.server_cert()) + b"-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n"
    upload = decode_upload(data)
    assert upload.contains_private_key is True
    assert len(upload.certificates) == 1


def test_pkcs12_key_only() -> None:
    data = serialization.pkcs12.serialize_key_and_certificates(
        b"k", g.rsa_key(), None, None, serialization.NoEncryption()
    )
    upload = decode_upload(data)
    assert (upload.contains_private_key, upload.certificates) == (True, [])


def test_unknown_pem_block_alone_is_an_error() -> None:
    with pytest.raises(FormatError, match="no readable certificate"):
        decode_upload(b"-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n")
