"""Make the bundled example certificate and the example CA that issued it (run once, commit).

The example (bot/examples/servercertificaat.crt) has the UZI server certificate profile but is
made up: it is issued by "uzibot Example Server CA G1" (bot/examples/example-ca.pem), not by
CIBG. Its private keys are thrown away after signing. `uzibot cert --ca
bot/examples/example-ca.pem bot/examples/servercertificaat.crt` verifies its chain; against the
shipped UZI CAs it is reported as coming from an unknown issuer, never as a bad signature.

    python -m tests.make_example_cert
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.certgen import IA5, der_tlv, uzi_string

EXAMPLES = Path(__file__).resolve().parents[1] / "bot" / "examples"
CA_NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "uzibot example, not CIBG"),
        x509.NameAttribute(NameOID.COMMON_NAME, "uzibot Example Server CA G1"),
    ]
)
FQDN = "digid.huisartsenoosterpoort.nl"
UZI_NUMBER = "900012345"


def make() -> tuple[x509.Certificate, x509.Certificate]:
    """(example CA, example server certificate), with fresh keys that are not kept."""
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (
        x509.CertificateBuilder()
        .subject_name(CA_NAME)
        .issuer_name(CA_NAME)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2034, 1, 1, tzinfo=UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    text = uzi_string(uzi_number=UZI_NUMBER, abonneenummer="07654321")
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Utrecht"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "Utrecht"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Gezondheidscentrum Oost"),
            x509.NameAttribute(NameOID.COMMON_NAME, FQDN),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, UZI_NUMBER),
        ]
    )
    alt_names: list[x509.GeneralName] = [
        x509.OtherName(x509.ObjectIdentifier("2.5.5.5"), der_tlv(IA5, text.encode())),
        x509.DNSName(FQDN),
    ]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(CA_NAME)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime(2024, 3, 1, 10, tzinfo=UTC))
        .not_valid_after(datetime(2027, 3, 1, 10, tzinfo=UTC))
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
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca, leaf


def main() -> None:
    ca, leaf = make()
    pem = serialization.Encoding.PEM
    (EXAMPLES / "example-ca.pem").write_bytes(ca.public_bytes(pem))
    (EXAMPLES / "servercertificaat.crt").write_bytes(leaf.public_bytes(pem))
    print(f"wrote {EXAMPLES / 'example-ca.pem'} and {EXAMPLES / 'servercertificaat.crt'}")


if __name__ == "__main__":
    main()
