"""Reads one uploaded certificate file into a CertReport; the public entry point, never raises."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from bot.certs.chain import shipped_trust_store, trust_store_for, verify_chain
from bot.certs.deadlines import compute_deadlines, local_date
from bot.certs.formats import DecodedUpload, FormatError, decode_upload
from bot.certs.report import CertReport, Verdict
from bot.certs.uzi_profile import (
    OID_CA_PRODUCTION,
    SERVER_CARD_TYPE,
    URA_ASSIGNER,
    AltNames,
    ProfileError,
    alt_names,
    check_uzi_name,
    compare_abonneenummer,
    decode_der_string,
    detect_environment,
    detect_generation,
    first_attribute,
    is_ca,
    is_card_oid,
    issuer_label,
    key_facts,
    parse_permanent_identifier,
    parse_uzi_name,
    signature_algorithm_name,
    subject_label,
)

DEFAULT_MAX_BYTES = 262_144
KEY_SENTENCE = (
    "The upload contains a private key. The key was not read or kept, but it has left the "
    "practice: only the certificate should ever be sent, and the key should be treated as exposed."
)
TEST_SENTENCE = (
    "This is a TEST (acceptance) certificate, not a production one; it cannot serve the live "
    "DigiD connection."
)


def read_certificate(
    data: bytes,
    filename: str,
    *,
    today: date,
    abonneenummer: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    trust: Sequence[x509.Certificate] | None = None,
) -> CertReport:
    """Judge one upload; any failure becomes an `unparseable` report, never an exception.

    Verdict precedence (first match wins): private_key_included, unparseable, not_uzi,
    not_a_server_certificate, abonneenummer_mismatch, expired, not_yet_valid, ok.
    `issuer` is the issuer's CN (RFC 4514 string when it has none). Dates are judged as
    calendar days in Europe/Amsterdam. `trust` replaces the shipped CA certificates.
    """
    key_seen = False
    try:
        if len(data) > max_bytes:
            key_seen = b"PRIVATE KEY-----" in data
            return _failed(filename, key_seen, f"The file is larger than {max_bytes} bytes.")
        if not data.strip():
            return _failed(filename, False, "The file is empty.")
        try:
            upload = decode_upload(data)
        except FormatError as exc:
            return _failed(filename, False, str(exc))
        key_seen = upload.contains_private_key
        return _report(upload, filename, today, abonneenummer, trust)
    except Exception as exc:  # the contract: never raise to the caller
        name = type(exc).__name__
        return _failed(filename, key_seen, f"The file could not be read ({name}).")


def _failed(filename: str, key_seen: bool, sentence: str) -> CertReport:
    problems = (KEY_SENTENCE, sentence) if key_seen else (sentence,)
    verdict: Verdict = "private_key_included" if key_seen else "unparseable"
    return CertReport(
        file=filename, verdict=verdict, contains_private_key=key_seen, problems=problems
    )


def _report(
    upload: DecodedUpload,
    filename: str,
    today: date,
    typed: str | None,
    trust: Sequence[x509.Certificate] | None,
) -> CertReport:
    problems: list[str] = [KEY_SENTENCE] if upload.contains_private_key else []
    problems.extend(upload.problems)
    certs = list(dict.fromkeys(upload.certificates))
    if not certs:
        problems.append("The upload holds no certificate.")
        return _finish(filename, "private_key_included", {}, problems, upload)
    picked = _pick_leaf(certs, problems)
    if picked is None:
        names = ", ".join(repr(subject_label(cert)) for cert in certs)
        problems.append(f"The file holds only CA certificates ({names}), no server certificate.")
        return _finish(filename, "not_uzi", {}, problems, upload)
    leaf, alt = picked
    fields, is_uzi = _describe(leaf, alt, problems)
    store = shipped_trust_store() if trust is None else trust_store_for(tuple(trust))
    others = [cert for cert in certs if cert is not leaf]
    chain = verify_chain(leaf, others, store, today=today)
    fields["chain_verified"] = chain.verified
    problems.extend(chain.problems)
    if is_uzi:  # generation and environment only mean something for UZI certificates
        issuer_names = [fields["issuer"], *(subject_label(cert) for cert in chain.path)]
        fields["generation"] = detect_generation(issuer_names)
        environment, env_problems = detect_environment(fields["oid_ca"], fields["issuer"])
        fields["environment"] = environment
        problems.extend(env_problems)
        if environment == "test":
            problems.append(TEST_SENTENCE)
        if fields["generation"] is None:
            problems.append("The issuer does not show whether this is a G1 or a G4 certificate.")
    mismatch = compare_abonneenummer(typed, fields.get("abonneenummer"), is_uzi, problems)
    expired = local_date(leaf.not_valid_after_utc) < today
    early = local_date(leaf.not_valid_before_utc) > today
    if expired:
        day = local_date(leaf.not_valid_after_utc).isoformat()
        problems.append(f"The certificate expired on {day}.")
    if early:
        day = local_date(leaf.not_valid_before_utc).isoformat()
        problems.append(f"The certificate is not valid before {day}.")
    verdict: Verdict
    if upload.contains_private_key:
        verdict = "private_key_included"
    elif not is_uzi or chain.verified is False:
        verdict = "not_uzi"
    elif fields.get("card_type") != SERVER_CARD_TYPE or is_card_oid(fields.get("oid_ca")):
        verdict = "not_a_server_certificate"
    elif mismatch:
        verdict = "abonneenummer_mismatch"
    elif expired:
        verdict = "expired"
    elif early:
        verdict = "not_yet_valid"
    else:
        verdict = "ok"
    deadlines = compute_deadlines(leaf.not_valid_after_utc, today)
    fields.update(
        deactivation_date=deadlines.deactivation_date,
        latest_start=deadlines.latest_start,
        deadline_state=deadlines.state,
    )
    return _finish(filename, verdict, fields, problems, upload)


def _finish(
    filename: str,
    verdict: Verdict,
    fields: dict[str, Any],
    problems: list[str],
    upload: DecodedUpload,
) -> CertReport:
    return CertReport(
        file=filename,
        verdict=verdict,
        contains_private_key=upload.contains_private_key,
        problems=tuple(dict.fromkeys(problems)),
        **fields,
    )


def _pick_leaf(
    certs: list[x509.Certificate], problems: list[str]
) -> tuple[x509.Certificate, AltNames] | None:
    """THE UZI server certificate: a non-CA with the UZI otherName, else a non-CA leaf."""
    leaves = [(cert, alt_names(cert)) for cert in certs if not is_ca(cert)]
    candidates = [entry for entry in leaves if entry[1].uzi is not None]
    if not candidates:  # a UZI otherName on a CA certificate is odd, but it still decides
        cas = [(cert, alt_names(cert)) for cert in certs if is_ca(cert)]
        candidates = [entry for entry in cas if entry[1].uzi is not None] or leaves
    if not candidates:
        return None
    chosen = max(candidates, key=lambda e: (_is_server(e[1]), e[0].not_valid_after_utc))
    if len(candidates) > 1:
        problems.append(
            f"The upload holds {len(candidates)} end-entity certificates; this report is about "
            f"{subject_label(chosen[0])!r}, the server certificate expiring last."
        )
    return chosen


def _is_server(alt: AltNames) -> bool:
    if alt.uzi is None:
        return False
    try:
        return parse_uzi_name(decode_der_string(alt.uzi)).card_type == SERVER_CARD_TYPE
    except ValueError:
        return False


def _describe(
    leaf: x509.Certificate, alt: AltNames, problems: list[str]
) -> tuple[dict[str, Any], bool]:
    """The report fields read from the leaf, and whether its UZI otherName could be read."""
    subject = leaf.subject
    cn = first_attribute(subject, NameOID.COMMON_NAME)
    key_type, key_size = key_facts(leaf)
    fields: dict[str, Any] = {
        "subject_cn": cn,
        "subject_o": first_attribute(subject, NameOID.ORGANIZATION_NAME),
        "fqdn": alt.dns[0] if alt.dns else cn,
        "not_before": leaf.not_valid_before_utc,
        "not_after": leaf.not_valid_after_utc,
        "issuer": issuer_label(leaf),
        "key_type": key_type,
        "key_size": key_size,
        "signature_algorithm": signature_algorithm_name(leaf),
        "fingerprint_sha256": leaf.fingerprint(hashes.SHA256()).hex(),
    }
    is_uzi = alt.uzi is not None and _read_uzi_name(alt.uzi, fields, problems)
    for raw in alt.permanent_identifiers:
        _read_permanent_identifier(raw, fields, problems)
    if alt.uzi is None:
        problems.append(
            "The certificate has no UZI otherName (2.5.5.5), so it is not a UZI server certificate."
        )
    elif is_uzi and (fields["card_type"] != SERVER_CARD_TYPE or is_card_oid(fields["oid_ca"])):
        fields["fqdn"] = None  # a card's CN is a person's name, not a server
        if fields["card_type"] != SERVER_CARD_TYPE:
            problems.append(
                f"The UZI card type is {fields['card_type']!r}: this is a card certificate, "
                "not a server certificate (type 'S')."
            )
        else:
            problems.append(
                f"The OID CA {fields['oid_ca']!r} is a UZI card value, not the server value "
                f"({OID_CA_PRODUCTION!r}): this is a card certificate, not a server certificate."
            )
    serial = first_attribute(subject, NameOID.SERIAL_NUMBER)
    if is_uzi and serial and serial != fields["uzi_number"]:
        problems.append(
            f"The subject serialNumber ({serial[:20]}) differs from the UZI number in the UZI "
            f"otherName ({fields['uzi_number']})."
        )
    ura, own = fields.get("ura"), fields.get("abonneenummer")
    if ura and own and ura.zfill(8) != own:
        problems.append(
            f"The URA in the permanentIdentifier ({ura}) differs from the abonneenummer in "
            f"the UZI otherName ({own})."
        )
    return fields, is_uzi


def _read_uzi_name(raw: bytes, fields: dict[str, Any], problems: list[str]) -> bool:
    try:
        uzi = parse_uzi_name(decode_der_string(raw))
    except ProfileError as exc:
        problems.append(str(exc))
        return False
    except ValueError:
        problems.append("The UZI otherName (2.5.5.5) is not a readable text string.")
        return False
    fields.update(
        oid_ca=uzi.oid_ca,
        uzi_number=uzi.uzi_number,
        card_type=uzi.card_type,
        abonneenummer=uzi.abonneenummer,
        role=uzi.role,
        agb=uzi.agb,
    )
    problems.extend(check_uzi_name(uzi))
    return True


def _read_permanent_identifier(raw: bytes, fields: dict[str, Any], problems: list[str]) -> None:
    try:
        ident = parse_permanent_identifier(raw)
    except ValueError:
        problems.append("The permanentIdentifier otherName could not be read.")
        return
    if ident.assigner not in (URA_ASSIGNER, None):
        problems.append(
            f"The permanentIdentifier is assigned by {ident.assigner}, not by the URA "
            f"register ({URA_ASSIGNER}); it was not used as URA."
        )
    elif ident.value:
        fields["ura"] = ident.value
