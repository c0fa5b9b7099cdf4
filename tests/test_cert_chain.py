"""Tests for chain verification (bot.certs.chain) through read_certificate and the shipped CAs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from bot.certs.chain import ChainResult, load_pem_directory_certificates, shipped_trust_store
from bot.certs.reader import read_certificate
from tests import certgen as g
from tests.cert_support import FQDN, SHIPPED, bad_signature, read

CA_DIR = Path(__file__).resolve().parent.parent / "bot" / "certs" / "ca"


def test_generated_leaf_against_shipped_ca_is_a_bad_signature() -> None:
    report = read(g.pem(g.server_cert()), trust=SHIPPED)
    # It claims a shipped UZI CA as issuer and that CA did not sign it: not a genuine UZI
    # certificate (before issue 12's follow-up this was `ok` with the problem sentence).
    assert report.verdict == "not_uzi"
    assert report.chain_verified is False
    assert report.problems == (bad_signature(FQDN, "UZI-register Private Server CA G1"),)
    assert report.abonneenummer == "01234567"  # still described, for the agents


def test_an_issuer_that_is_not_shipped_is_not_checked_and_not_a_verdict() -> None:
    chain = g.hierarchy("g4")  # G4 chains are not shipped: not checked, judged by the rest
    report = read(g.pem(g.server_cert("g4"), *chain.cas), trust=SHIPPED)
    assert (report.verdict, report.chain_verified) == ("ok", None)


def test_chain_verifies_with_the_generated_hierarchy_as_trust_store() -> None:
    chain = g.hierarchy("g1-production")
    report = read(g.pem(g.server_cert()), trust=chain.cas)
    assert (report.verdict, report.chain_verified, report.problems) == ("ok", True, ())


def test_chain_uses_intermediates_from_the_bundle_up_to_a_trusted_root() -> None:
    chain = g.hierarchy("g1-production")
    upload = g.pem(g.server_cert(), chain.server_ca, chain.intermediate)
    report = read(upload, trust=[chain.root])
    assert (report.chain_verified, report.problems) == (True, ())


def test_a_leaf_signed_by_another_key_fails_against_a_known_issuer() -> None:
    chain = g.hierarchy("g1-production")
    forged = g.server_cert(signer=g.rsa_key(2048, 4))
    report = read(g.pem(forged, chain.server_ca), trust=chain.cas)
    assert (report.verdict, report.chain_verified) == ("not_uzi", False)
    assert report.problems == (bad_signature(FQDN, "UZI-register Private Server CA G1"),)


def test_g4_bundle_without_shipped_root_stops_at_an_untrusted_root() -> None:
    chain = g.hierarchy("g4")
    report = read(g.pem(g.server_cert("g4"), *chain.cas))
    assert report.chain_verified is None
    assert report.problems == (
        "The chain ends at the root 'Staat der Nederlanden - G4 Root Priv G-TLS - 2024', which "
        "is not one of the shipped UZI CA certificates, so the chain could not be checked.",
    )


def test_the_shipped_ca_files_are_the_real_uzi_chains() -> None:
    certs = load_pem_directory_certificates()
    names = [cert.subject.rfc4514_string() for cert in certs]
    assert names == [
        "CN=Staat der Nederlanden Private Root CA - G1,O=Staat der Nederlanden,C=NL",
        "CN=Staat der Nederlanden Private Services CA - G1,O=Staat der Nederlanden,C=NL",
        "CN=UZI-register Private Server CA G1,2.5.4.97=NTRNL-50000535,O=CIBG,C=NL",
        "CN=TEST Zorg CSP Private Root CA G1,O=CIBG,C=NL",
        "CN=TEST Zorg CSP Level 2 Private Services CA G1,O=CIBG,C=NL",
        "CN=TEST UZI-register Private Server CA G1,2.5.4.97=NTRNL-50000535,O=CIBG,C=NL",
    ]
    assert [c.subject for c in g.hierarchy("g1-production").cas[::-1]] == [
        c.subject for c in certs[:3]
    ]
    assert [c.subject for c in g.hierarchy("g1-test").cas[::-1]] == [c.subject for c in certs[3:]]
    store = shipped_trust_store()
    assert store.tail(certs[2]) == ChainResult(True, (certs[1], certs[0]))
    assert store.tail(certs[5]) == ChainResult(True, (certs[4], certs[3]))


def test_a_trusted_intermediate_is_an_anchor_and_bad_links_inside_the_store_fail() -> None:
    chain = g.hierarchy("g1-production")
    only_mid = read(g.pem(g.server_cert(), chain.server_ca), trust=[chain.intermediate])
    assert (only_mid.chain_verified, only_mid.problems) == (True, ())
    foreign_root = g.hierarchy("g1-test").root
    mixed = [
        chain.server_ca,
        chain.intermediate,
        g.ca_cert(chain.root.subject, chain.root.subject, g.rsa_key(2048, 4), g.rsa_key(2048, 4)),
        foreign_root,
    ]
    report = read(g.pem(g.server_cert()), trust=mixed)
    assert report.chain_verified is False
    assert report.problems == (
        bad_signature(
            "Staat der Nederlanden Private Services CA - G1",
            "Staat der Nederlanden Private Root CA - G1",
        ),
    )


def test_the_shipped_ca_files_as_an_upload_are_not_uzi() -> None:
    data = b"".join(path.read_bytes() for path in sorted(CA_DIR.glob("*.pem")))
    report = read(data, "uzi-ca.pem")
    assert report.verdict == "not_uzi"
    assert report.abonneenummer is None and report.issuer is None
    assert report.problems[0].startswith(
        "The file holds only CA certificates ('Staat der Nederlanden Private Root CA - G1', "
    )
    assert report.problems[0].endswith("), no server certificate.")


def test_an_uploaded_intermediate_with_an_unknown_issuer_stops_the_chain() -> None:
    chain = g.hierarchy("g4")
    report = read(g.pem(g.server_cert("g4"), chain.server_ca))
    assert report.chain_verified is None
    assert report.problems == (
        "The chain stops at 'UZI Server - G4 PKIo Priv G-TLS SYS - 2025', whose issuer "
        "'Staat der Nederlanden - G4 Intm Priv G-TLS SYS - 2024' is not one of the shipped UZI "
        "CA certificates, so the chain could not be checked.",
    )


def test_an_expired_ca_in_the_chain_is_a_problem() -> None:
    chain = g.hierarchy("g1-production")
    report = read_certificate(
        g.pem(g.server_cert()), "x", today=date(2028, 11, 20), trust=chain.cas
    )
    assert report.verdict == "expired"
    assert report.chain_verified is True
    assert "The CA certificate 'UZI-register Private Server CA G1' expired on 2028-11-12." in (
        report.problems
    )


def test_the_same_ca_walk_is_reused_for_the_next_upload() -> None:
    chain = g.hierarchy("g1-production")
    first = read(g.pem(g.server_cert(), chain.server_ca, chain.intermediate), trust=[chain.root])
    second = read(
        g.pem(g.server_cert(uzi_number="999999999"), chain.server_ca, chain.intermediate),
        trust=[chain.root],
    )
    assert first.chain_verified is second.chain_verified is True
    assert datetime(2028, 1, 1, 9, 30, tzinfo=UTC) == second.not_after
