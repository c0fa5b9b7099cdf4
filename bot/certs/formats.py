"""Decodes an upload (PEM, DER, PKCS#7, PKCS#12) into certificates and notes any private key."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from bot.certs.uzi_profile import TAG_INTEGER, TAG_SEQUENCE, read_tlv

_PEM_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 #]{1,64})-----")
_CERT_LABELS = {b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"}
_PKCS7_LABELS = {b"PKCS7", b"PKCS #7 SIGNED DATA", b"CMS"}
_IGNORED_LABELS = {b"PUBLIC KEY", b"RSA PUBLIC KEY", b"X509 CRL"}
_CSR_LABELS = {b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST"}
_BASE64_ONLY = re.compile(rb"[A-Za-z0-9+/=\s]+")
# What cryptography raises for bytes it cannot read: damaged DER, an unknown X.509 version,
# a PKCS#7 that is not signed-data.
_UNREADABLE = (ValueError, UnsupportedAlgorithm, x509.InvalidVersion)


class FormatError(ValueError):
    """The upload cannot be decoded; the message is an English sentence for agents."""


@dataclass
class DecodedUpload:
    """What was found in an upload: certificates in file order, and whether a key was there."""

    certificates: list[x509.Certificate] = field(default_factory=list)
    contains_private_key: bool = False
    format: str = "unknown"
    problems: list[str] = field(default_factory=list)


def decode_upload(data: bytes) -> DecodedUpload:
    """Decode by content, never by file name; raise FormatError when nothing can be read."""
    return _without_damaged(_decode(data))


# cryptography reads these parts of a certificate only when asked; a damaged one raises then.
_LAZY_PARTS = ("subject", "issuer", "extensions", "not_valid_before_utc", "not_valid_after_utc")


def _damaged_part(cert: x509.Certificate) -> str | None:
    """The first part of a certificate that cannot be read, or None when all can."""
    for part in _LAZY_PARTS:
        try:
            getattr(cert, part)
        except ValueError:
            return part.removesuffix("_utc").replace("_", " ")
    return None


def _without_damaged(upload: DecodedUpload) -> DecodedUpload:
    """Leave out certificates whose parts cannot be read, each with a sentence saying so."""
    kept: list[x509.Certificate] = []
    for number, cert in enumerate(upload.certificates, 1):
        part = _damaged_part(cert)
        if part is None:
            kept.append(cert)
        else:
            upload.problems.append(
                f"Certificate {number} in the file is damaged: its {part} cannot be read."
            )
    if not kept and upload.certificates and not upload.contains_private_key:
        raise FormatError(_join("The file holds no readable certificate.", upload.problems))
    upload.certificates = kept
    return upload


def _decode(data: bytes) -> DecodedUpload:
    data = _to_ascii_if_utf16(data)
    if b"-----BEGIN" in data:
        return _decode_pem(data)
    stripped = data.strip()
    if stripped[:1] != b"\x30" and _BASE64_ONLY.fullmatch(stripped):
        try:
            decoded = base64.b64decode(b"".join(stripped.split()), validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if decoded[:1] == b"\x30":
            upload = _decode_der(decoded)
            upload.format = f"base64 {upload.format}"
            return upload
    return _decode_der(data)


def _to_ascii_if_utf16(data: bytes) -> bytes:
    """Windows tools sometimes save PEM as UTF-16; turn that back into bytes."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16").encode("ascii", "ignore")
        except UnicodeDecodeError:
            return data
    return data


def _decode_pem(data: bytes) -> DecodedUpload:
    upload = DecodedUpload(format="PEM")
    # Any key marker counts, even in a block that is cut off or malformed.
    if b"PRIVATE KEY-----" in data:
        upload.contains_private_key = True
    for label, body in _pem_blocks(data):
        if b"PRIVATE KEY" in label:
            upload.contains_private_key = True
            continue
        der = _pem_body(body)
        if label in _CERT_LABELS:
            cert = _load_der_certificate(der)
            if cert is None:
                upload.problems.append("A CERTIFICATE block in the PEM file could not be read.")
            else:
                upload.certificates.append(cert)
        elif label in _PKCS7_LABELS:
            try:
                upload.certificates.extend(pkcs7.load_der_pkcs7_certificates(der))
            except _UNREADABLE:
                upload.problems.append("A PKCS#7 block in the PEM file could not be read.")
        elif label in _CSR_LABELS:
            upload.problems.append(
                "The file holds a certificate signing request, which is not a certificate."
            )
        elif label not in _IGNORED_LABELS:
            name = label.decode("ascii", "replace")[:40]
            upload.problems.append(f"A PEM block of type {name!r} was ignored.")
    if not upload.certificates and not upload.contains_private_key:
        raise FormatError(_join("The PEM file holds no readable certificate.", upload.problems))
    return upload


def _pem_blocks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(label, body) of every complete BEGIN/END block, in file order."""
    blocks: list[tuple[bytes, bytes]] = []
    position = 0
    while match := _PEM_BEGIN.search(data, position):
        label = match.group(1)
        end = data.find(b"-----END " + label + b"-----", match.end())
        if end < 0:
            position = match.end()
            continue
        blocks.append((label.strip(), data[match.end() : end]))
        position = end
    return blocks


def _pem_body(body: bytes) -> bytes:
    """Base64-decode a PEM body, skipping RFC 1421 header lines such as Proc-Type."""
    if b":" in body:
        body = b"".join(line for line in body.splitlines() if b":" not in line)
    try:
        return base64.b64decode(body)  # skips line breaks and other non-alphabet bytes
    except (binascii.Error, ValueError):
        return b""


def _load_der_certificate(der: bytes) -> x509.Certificate | None:
    """Load one DER certificate, ignoring bytes after it (OpenSSL TRUSTED CERTIFICATE aux)."""
    try:
        return x509.load_der_x509_certificate(der)
    except _UNREADABLE:
        pass
    try:
        _, _, end = read_tlv(der)
        return x509.load_der_x509_certificate(der[:end]) if end < len(der) else None
    except _UNREADABLE:
        return None


def _decode_der(data: bytes) -> DecodedUpload:
    if not data.strip():
        raise FormatError("The file is empty.")
    cert = _load_der_certificate(data)
    if cert is not None:
        return DecodedUpload(certificates=[cert], format="DER")
    try:
        return DecodedUpload(
            certificates=list(pkcs7.load_der_pkcs7_certificates(data)), format="PKCS#7"
        )
    except _UNREADABLE:
        pass
    if _looks_like_pkcs12(data):
        return _decode_pkcs12(data)
    if _is_der_private_key(data):
        return DecodedUpload(contains_private_key=True, format="private key")
    raise FormatError(
        "The file is not a certificate in a known format "
        "(PEM, DER, PKCS#7 or PKCS#12 without a password)."
    )


def _looks_like_pkcs12(data: bytes) -> bool:
    """PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, ... }."""
    try:
        tag, start, _ = read_tlv(data)
        if tag != TAG_SEQUENCE:
            return False
        inner_tag, inner_start, inner_end = read_tlv(data, start)
    except ValueError:
        return False
    return inner_tag == TAG_INTEGER and data[inner_start:inner_end] == b"\x03"


def _decode_pkcs12(data: bytes) -> DecodedUpload:
    for password in (None, b""):
        try:
            bundle = pkcs12.load_pkcs12(data, password)
        except _UNREADABLE:
            continue
        certs = [bundle.cert.certificate] if bundle.cert is not None else []
        certs.extend(item.certificate for item in bundle.additional_certs)
        upload = DecodedUpload(
            certificates=certs, contains_private_key=bundle.key is not None, format="PKCS#12"
        )
        if not certs and not upload.contains_private_key:
            raise FormatError("The PKCS#12 file holds no certificate.")
        return upload
    raise FormatError(
        "The file is a PKCS#12 (.p12/.pfx) protected by a password, so it cannot be read; "
        "such files usually also hold the private key. Ask for the certificate alone "
        "(PEM, .cer or .p7b), without the key."
    )


def _is_der_private_key(data: bytes) -> bool:
    """True for a DER private key in any flavour, including an encrypted PKCS#8 one."""
    try:
        serialization.load_der_private_key(data, None, unsafe_skip_rsa_key_validation=True)
    except TypeError:
        return True  # encrypted: a key all the same
    except (ValueError, UnsupportedAlgorithm):
        return _looks_like_encrypted_pkcs8(data)
    return True


def _looks_like_encrypted_pkcs8(data: bytes) -> bool:
    """EncryptedPrivateKeyInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }."""
    try:
        tag, start, end = read_tlv(data)
        if tag != TAG_SEQUENCE or end != len(data):
            return False
        alg_tag, _, alg_end = read_tlv(data, start)
        oct_tag, _, oct_end = read_tlv(data, alg_end)
        algorithm = data[start:alg_end]
    except ValueError:
        return False
    pbes = (b"\x2a\x86\x48\x86\xf7\x0d\x01\x05", b"\x2a\x86\x48\x86\xf7\x0d\x01\x0c")
    return (
        alg_tag == TAG_SEQUENCE
        and oct_tag == 0x04
        and oct_end == end
        and any(prefix in algorithm for prefix in pbes)
    )


def _join(first: str, rest: list[str]) -> str:
    return " ".join([first, *rest])
