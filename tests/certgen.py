"""Test certificate factory: fake UZI CA hierarchies and server certificates (FACTS.md profile)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes as PublicKey
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Kind = Literal["g1-production", "g1-test", "g4"]
KeyFlavour = Literal["pkcs8", "traditional", "encrypted", "ec"]

OID_CA_PRODUCTION = "2.16.528.1.1003.1.3.5.5.5"
OID_CA_TEST = "2.16.528.1.1007.99.2110"
URA_ASSIGNER = "2.16.528.1.1007.3.3"
IA5 = 0x16
UTF8 = 0x0C
START = datetime(2025, 1, 1, 9, 30, tzinfo=UTC)
ORG_ID = x509.ObjectIdentifier("2.5.4.97")


def name(cn: str, o: str, *, org_id: str | None = None) -> x509.Name:
    """A CA name in the order CIBG uses: C, O, organizationIdentifier, CN."""
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, o),
    ]
    if org_id:
        attributes.append(x509.NameAttribute(ORG_ID, org_id))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attributes)


SDN = "Staat der Nederlanden"
NAMES: dict[Kind, tuple[x509.Name, x509.Name, x509.Name]] = {
    "g1-production": (
        name("Staat der Nederlanden Private Root CA - G1", SDN),
        name("Staat der Nederlanden Private Services CA - G1", SDN),
        name("UZI-register Private Server CA G1", "CIBG", org_id="NTRNL-50000535"),
    ),
    "g1-test": (
        name("TEST Zorg CSP Private Root CA G1", "CIBG"),
        name("TEST Zorg CSP Level 2 Private Services CA G1", "CIBG"),
        name("TEST UZI-register Private Server CA G1", "CIBG", org_id="NTRNL-50000535"),
    ),
    "g4": (
        name("Staat der Nederlanden - G4 Root Priv G-TLS - 2024", SDN),
        name("Staat der Nederlanden - G4 Intm Priv G-TLS SYS - 2024", SDN),
        name("UZI Server - G4 PKIo Priv G-TLS SYS - 2025", "CIBG", org_id="NTRNL-50000535"),
    ),
}


def rsa_key(bits: int = 2048, slot: int = 0) -> rsa.RSAPrivateKey:
    """A cached RSA key: slot 0 leaf, 1 root, 2 intermediate, 3 server CA, 4 rogue."""
    return _cached_rsa_key(bits, slot)


@functools.cache
def _cached_rsa_key(bits: int, slot: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@functools.cache
def ec_key() -> ec.EllipticCurvePrivateKey:
    """A cached P-256 key for non-UZI TLS certificates."""
    return ec.generate_private_key(ec.SECP256R1())


def _sign(builder: x509.CertificateBuilder, key: rsa.RSAPrivateKey, pss: bool) -> x509.Certificate:
    padded = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32) if pss else None
    return builder.sign(key, hashes.SHA256(), rsa_padding=padded)


def _base(
    subject: x509.Name, issuer: x509.Name, key: PublicKey, start: datetime, end: datetime
) -> x509.CertificateBuilder:
    builder = x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
    builder = builder.public_key(key).serial_number(x509.random_serial_number())
    return builder.not_valid_before(start).not_valid_after(end)


def ca_cert(
    subject: x509.Name,
    issuer: x509.Name,
    key: rsa.RSAPrivateKey,
    signer: rsa.RSAPrivateKey,
    *,
    path_length: int | None = None,
    pss: bool = False,
    not_after: datetime = datetime(2028, 11, 12, tzinfo=UTC),
) -> x509.Certificate:
    """A CA certificate with the given names and keys."""
    builder = (
        _base(subject, issuer, key.public_key(), datetime(2017, 3, 16, tzinfo=UTC), not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
    )
    return _sign(builder, signer, pss)


@dataclass(frozen=True)
class Hierarchy:
    """A fake root -> intermediate -> UZI server CA chain carrying the real names."""

    kind: Kind
    root: x509.Certificate
    intermediate: x509.Certificate
    server_ca: x509.Certificate
    server_ca_key: rsa.RSAPrivateKey
    pss: bool

    @property
    def cas(self) -> tuple[x509.Certificate, x509.Certificate, x509.Certificate]:
        """Issuing CA first, root last."""
        return (self.server_ca, self.intermediate, self.root)

    @property
    def oid_ca(self) -> str:
        """The OID CA that this hierarchy's certificates carry."""
        return OID_CA_TEST if self.kind == "g1-test" else OID_CA_PRODUCTION


@functools.cache
def hierarchy(kind: Kind = "g1-production") -> Hierarchy:
    """The fake hierarchy of one kind (G4 is signed with RSA-PSS)."""
    root_name, mid_name, server_name = NAMES[kind]
    pss = kind == "g4"
    root_key, mid_key, server_key = rsa_key(2048, 1), rsa_key(2048, 2), rsa_key(2048, 3)
    root = ca_cert(root_name, root_name, root_key, root_key, pss=pss)
    mid = ca_cert(mid_name, root_name, mid_key, root_key, pss=pss)
    server = ca_cert(server_name, mid_name, server_key, mid_key, path_length=0, pss=pss)
    return Hierarchy(kind, root, mid, server, server_key, pss)


def der_tlv(tag: int, value: bytes) -> bytes:
    """One DER tag-length-value (long-form length above 127 bytes)."""
    size = len(value)
    if size < 0x80:
        return bytes([tag, size]) + value
    body = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(body)]) + body + value


def encode_oid(dotted: str) -> bytes:
    """The content octets of an OBJECT IDENTIFIER."""
    arcs = [int(part) for part in dotted.split(".")]
    out = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


def uzi_string(
    *,
    oid_ca: str = OID_CA_PRODUCTION,
    version: str = "1",
    uzi_number: str = "123456789",
    card_type: str = "S",
    abonneenummer: str = "01234567",
    role: str = "00.000",
    agb: str = "00000000",
) -> str:
    """The 7-part UZI otherName text."""
    return "-".join([oid_ca, version, uzi_number, card_type, abonneenummer, role, agb])


def permanent_identifier(value: str | None, assigner: str | None = URA_ASSIGNER) -> bytes:
    """DER of permanentIdentifier SEQUENCE { identifierValue UTF8String, assigner OID }."""
    body = der_tlv(UTF8, value.encode()) if value is not None else b""
    if assigner is not None:
        body += der_tlv(0x06, encode_oid(assigner))
    return der_tlv(0x30, body)


def server_cert(
    kind: Kind = "g1-production",
    *,
    fqdn: str = "zorg.praktijkdelinde.nl",
    organisation: str = "Huisartsenpraktijk De Linde",
    uzi_number: str = "123456789",
    abonneenummer: str = "01234567",
    card_type: str = "S",
    oid_ca: str | None = None,
    uzi_text: str | None = None,
    string_tag: int = IA5,
    ura: str | None = None,
    uzi: bool = True,
    dns: bool = True,
    not_before: datetime = START,
    not_after: datetime | None = None,
    key_bits: int = 2048,
    pss: bool | None = None,
    signer: rsa.RSAPrivateKey | None = None,
) -> x509.Certificate:
    """A UZI server certificate issued by the fake hierarchy of `kind` (profile defaults)."""
    chain = hierarchy(kind)
    text = uzi_text or uzi_string(
        oid_ca=oid_ca or chain.oid_ca,
        uzi_number=uzi_number,
        card_type=card_type,
        abonneenummer=abonneenummer,
    )
    alt_names: list[x509.GeneralName] = []
    if uzi:
        alt_names.append(
            x509.OtherName(x509.ObjectIdentifier("2.5.5.5"), der_tlv(string_tag, text.encode()))
        )
    if ura is not None:
        alt_names.append(
            x509.OtherName(x509.ObjectIdentifier("1.3.6.1.5.5.7.8.3"), permanent_identifier(ura))
        )
    if dns:
        alt_names.append(x509.DNSName(fqdn))
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Utrecht"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "Utrecht"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, fqdn),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, uzi_number),
        ]
    )
    end = not_after or not_before + timedelta(days=3 * 365)
    builder = (
        _base(subject, chain.server_ca.subject, rsa_key(key_bits, 0).public_key(), not_before, end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, True, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    )
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    use_pss = chain.pss if pss is None else pss
    return _sign(builder, signer or chain.server_ca_key, use_pss)


def tls_cert(fqdn: str = "www.example.nl", *, not_before: datetime = START) -> x509.Certificate:
    """An ordinary TLS certificate (EC key) from a public-looking CA, without UZI data."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, fqdn)])
    issuer = name("Example Public TLS CA", "Example Trust")
    end = not_before + timedelta(days=90)
    builder = _base(subject, issuer, ec_key().public_key(), not_before, end).add_extension(
        x509.SubjectAlternativeName([x509.DNSName(fqdn)]), critical=False
    )
    return builder.sign(rsa_key(2048, 4), hashes.SHA256())


def key_pem(key: rsa.RSAPrivateKey | None = None, flavour: KeyFlavour = "pkcs8") -> bytes:
    """A private key as PEM: PKCS#8, traditional RSA, encrypted PKCS#8, or an EC key."""
    fmt = serialization.PrivateFormat
    chosen = fmt.TraditionalOpenSSL if flavour in ("traditional", "ec") else fmt.PKCS8
    private = ec_key() if flavour == "ec" else key or rsa_key(2048, 0)
    return private.private_bytes(
        serialization.Encoding.PEM,
        chosen,
        _encryption(b"geheim" if flavour == "encrypted" else None),
    )


def _encryption(password: bytes | None) -> serialization.KeySerializationEncryption:
    if password:
        return serialization.BestAvailableEncryption(password)
    return serialization.NoEncryption()


def pem(*certs: x509.Certificate) -> bytes:
    """Certificates as a PEM bundle in the given order."""
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)


def der(cert: x509.Certificate) -> bytes:
    """One certificate as DER (.cer/.crt)."""
    return cert.public_bytes(serialization.Encoding.DER)


def p7(certs: Sequence[x509.Certificate], *, as_pem: bool = False) -> bytes:
    """A certs-only PKCS#7 (.p7b), DER or PEM."""
    encoding = serialization.Encoding.PEM if as_pem else serialization.Encoding.DER
    return pkcs7.serialize_certificates(list(certs), encoding)


def p12(
    cert: x509.Certificate,
    *,
    key: rsa.RSAPrivateKey | None = None,
    cas: Sequence[x509.Certificate] = (),
    password: bytes | None = None,
) -> bytes:
    """A PKCS#12 (.p12/.pfx), without a password unless one is given, with or without key."""
    encryption = _encryption(password)
    return pkcs12.serialize_key_and_certificates(b"uzi", key, cert, list(cas) or None, encryption)
