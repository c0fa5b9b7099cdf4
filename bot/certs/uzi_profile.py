"""Reads the UZI profile of a certificate: otherName, URA, abonneenummer, environment, keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

UZI_OTHERNAME_OID = x509.ObjectIdentifier("2.5.5.5")
PERMANENT_IDENTIFIER_OID = x509.ObjectIdentifier("1.3.6.1.5.5.7.8.3")
OID_CA_PRODUCTION = "2.16.528.1.1003.1.3.5.5.5"
OID_CA_TEST = "2.16.528.1.1007.99.2110"
OID_CA_UZI_ARC = "2.16.528.1.1003.1.3.5.5."
"""The production (1003) arc of the UZI OID CA values: .5 is the server value, others cards."""


def is_card_oid(oid_ca: str | None) -> bool:
    """True for a production UZI OID CA value other than the server one (a UZI card)."""
    return bool(oid_ca) and oid_ca != OID_CA_PRODUCTION and str(oid_ca).startswith(OID_CA_UZI_ARC)


URA_ASSIGNER = "2.16.528.1.1007.3.3"
SERVER_CARD_TYPE = "S"

TAG_INTEGER = 0x02
TAG_OID = 0x06
TAG_UTF8 = 0x0C
TAG_SEQUENCE = 0x30
_STRING_TAGS = {0x16: "ascii", TAG_UTF8: "utf-8", 0x13: "ascii"}  # IA5, UTF8, Printable
_GENERATION = re.compile(r"\bG([14])\b")

Environment = Literal["production", "test"]
Generation = Literal["G1", "G4"]


class ProfileError(ValueError):
    """A UZI value is present but cannot be read; the message is an English sentence."""


@dataclass(frozen=True)
class UziName:
    """The seven parts of the UZI otherName (2.5.5.5)."""

    oid_ca: str
    version: str
    uzi_number: str
    card_type: str
    abonneenummer: str
    role: str
    agb: str


@dataclass(frozen=True)
class PermanentIdentifier:
    """permanentIdentifier (RFC 4043): the URA and the OID of who assigned it."""

    value: str | None
    assigner: str | None


def read_tlv(data: bytes, offset: int = 0) -> tuple[int, int, int]:
    """Read one DER header at offset: (tag, start of value, end of value); ValueError if bad."""
    if offset + 2 > len(data):
        raise ValueError("DER value is truncated")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte DER tags are not supported")
    first = data[offset + 1]
    start = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise ValueError("DER length is invalid")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise ValueError("DER value is longer than the data")
    return tag, start, end


def decode_der_string(raw: bytes) -> str:
    """Decode a DER IA5String/UTF8String/PrintableString (tag and length included)."""
    tag, start, end = read_tlv(raw)
    encoding = _STRING_TAGS.get(tag)
    if encoding is None:
        raise ValueError(f"tag 0x{tag:02x} is not a text string")
    if end != len(raw):
        raise ValueError("trailing bytes after the string")
    return raw[start:end].decode(encoding)


def decode_oid(content: bytes) -> str:
    """Decode the content octets of a DER OBJECT IDENTIFIER to dotted form."""
    if not content:
        raise ValueError("empty OID")
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if content[-1] & 0x80:
        raise ValueError("truncated OID")
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(arc) for arc in head + arcs[1:])


def parse_uzi_name(text: str) -> UziName:
    """Split the 7-part UZI string; raise ProfileError when it does not have that form."""
    parts = text.strip().split("-")
    if len(parts) != 7:
        raise ProfileError(
            f"The UZI otherName has {len(parts)} '-'-separated parts instead of 7, so it "
            "cannot be read."
        )
    return UziName(*parts)


def check_uzi_name(name: UziName) -> list[str]:
    """Sentences about parts of a UZI name that break the profile (empty when fine)."""
    problems: list[str] = []
    if not (name.uzi_number.isdigit() and len(name.uzi_number) == 9):
        problems.append("The UZI number in the UZI otherName is not 9 digits.")
    if not (name.abonneenummer.isdigit() and len(name.abonneenummer) == 8):
        problems.append("The abonneenummer in the UZI otherName is not 8 digits.")
    if not (name.agb.isdigit() and len(name.agb) == 8):
        problems.append("The AGB code in the UZI otherName is not 8 digits.")
    if name.oid_ca not in (OID_CA_PRODUCTION, OID_CA_TEST) and not is_card_oid(name.oid_ca):
        problems.append(
            f"The OID CA {name.oid_ca!r} is neither the production nor the test UZI value."
        )
    return problems


def parse_permanent_identifier(raw: bytes) -> PermanentIdentifier:
    """Parse SEQUENCE { identifierValue UTF8String OPTIONAL, assigner OID OPTIONAL }."""
    tag, start, end = read_tlv(raw)
    if tag != TAG_SEQUENCE or end != len(raw):
        raise ValueError("permanentIdentifier is not a single SEQUENCE")
    value: str | None = None
    assigner: str | None = None
    offset = start
    while offset < end:
        inner_tag, inner_start, inner_end = read_tlv(raw, offset)
        if inner_tag == TAG_UTF8 and value is None and assigner is None:
            value = raw[inner_start:inner_end].decode("utf-8")
        elif inner_tag == TAG_OID and assigner is None:
            assigner = decode_oid(raw[inner_start:inner_end])
        else:
            raise ValueError(f"unexpected tag 0x{inner_tag:02x} in permanentIdentifier")
        offset = inner_end
    return PermanentIdentifier(value, assigner)


@dataclass(frozen=True)
class AltNames:
    """What the subjectAltName holds for the UZI profile, read in one pass."""

    uzi: bytes | None = None  # raw DER of the first 2.5.5.5 otherName value
    permanent_identifiers: tuple[bytes, ...] = ()
    dns: tuple[str, ...] = ()


def alt_names(cert: x509.Certificate) -> AltNames:
    """The UZI otherName, permanentIdentifiers and dNSNames (empty when there is no SAN)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return AltNames()
    uzi: bytes | None = None
    permanent: list[bytes] = []
    dns: list[str] = []
    for entry in san:
        if isinstance(entry, x509.OtherName):
            if entry.type_id == UZI_OTHERNAME_OID and uzi is None:
                uzi = entry.value
            elif entry.type_id == PERMANENT_IDENTIFIER_OID:
                permanent.append(entry.value)
        elif isinstance(entry, x509.DNSName):
            dns.append(entry.value)
    return AltNames(uzi, tuple(permanent), tuple(dns))


def is_ca(cert: x509.Certificate) -> bool:
    """True when basicConstraints says CA (absent counts as not a CA)."""
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def first_attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    """The first value of one attribute in a distinguished name, as text."""
    values = name.get_attributes_for_oid(oid)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def issuer_label(cert: x509.Certificate) -> str:
    """The issuer as shown in reports: its CN, else the full RFC 4514 string."""
    return first_attribute(cert.issuer, NameOID.COMMON_NAME) or cert.issuer.rfc4514_string()


def subject_label(cert: x509.Certificate) -> str:
    """The subject as shown in reports: its CN, else the full RFC 4514 string."""
    return first_attribute(cert.subject, NameOID.COMMON_NAME) or cert.subject.rfc4514_string()


def detect_generation(issuer_names: list[str]) -> Generation | None:
    """G1 or G4 from the first issuer name (leaf issuer first) that names a generation."""
    for name in issuer_names:
        match = _GENERATION.search(name)
        if match:
            return "G1" if match.group(1) == "1" else "G4"
    return None


def detect_environment(oid_ca: str | None, issuer: str) -> tuple[Environment | None, list[str]]:
    """production/test from the OID CA, cross-checked with TEST in the issuer name."""
    test_issuer = "TEST" in issuer.upper().split()
    if oid_ca == OID_CA_TEST:
        return "test", []
    if oid_ca == OID_CA_PRODUCTION or is_card_oid(oid_ca):
        if test_issuer:
            return "test", [
                "The OID CA is the production value but the issuer is a TEST CA; "
                "the certificate is treated as a test certificate."
            ]
        return "production", []
    if test_issuer:
        return "test", []
    return None, []


def compare_abonneenummer(
    typed: str | None, own: str | None, is_uzi: bool, problems: list[str]
) -> bool:
    """True on a real mismatch; unusable input only adds a problem sentence; blank is None."""
    cleaned = re.sub(r"[\s.]", "", typed or "")
    if not cleaned or not is_uzi or own is None:
        return False
    shown = (typed or "").strip()[:30]
    if not re.fullmatch(r"[0-9]+", cleaned):
        problems.append(
            f"The abonneenummer given ({shown!r}) is not a number; it was not compared."
        )
        return False
    if len(cleaned) > 8:
        extra = (
            " It looks like an OIN; how an OIN maps to an abonneenummer is not documented."
            if len(cleaned) == 20
            else ""
        )
        problems.append(
            f"The abonneenummer given ({shown!r}) has more than 8 digits; it was not compared."
            + extra
        )
        return False
    if cleaned.zfill(8) != own:
        problems.append(
            f"The certificate is for abonneenummer {own}, not {cleaned.zfill(8)} as given."
        )
        return True
    return False


def key_facts(cert: x509.Certificate) -> tuple[str | None, int | None]:
    """The public key's type and size in bits (None when unknown)."""
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return None, None
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}", key.curve.key_size
    return type(key).__name__.removeprefix("_").removesuffix("PublicKey") or None, None


def signature_algorithm_name(cert: x509.Certificate) -> str:
    """The signature algorithm as a readable name, e.g. 'RSASSA-PSS with SHA256'."""
    oid = cert.signature_algorithm_oid
    try:
        hash_name = cert.signature_hash_algorithm
        parameters = cert.signature_algorithm_parameters
    except (ValueError, UnsupportedAlgorithm):
        hash_name, parameters = None, None
    if isinstance(parameters, padding.PSS):
        return f"RSASSA-PSS with {hash_name.name.upper()}" if hash_name else "RSASSA-PSS"
    name = oid._name
    return oid.dotted_string if name == "Unknown OID" else name
