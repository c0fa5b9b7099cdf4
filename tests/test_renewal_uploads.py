"""The renewal handler on wrong uploads: mismatch, private key, test, expired, card, garbage."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes

from bot.markup import escape_jira
from bot.plan import Plan
from handlers.renewal import plan_renewal
from tests import certgen as g
from tests.renewal_support import (
    ack,
    cert,
    comment,
    context,
    event,
    note,
    payload,
    pem_report,
    plan_for,
    report,
    slugs,
)

TIGHT = datetime(2027, 3, 7, 10, 0, tzinfo=UTC)
CER = "uzi-servercertificaat.cer"
NEED_PRODUCTION = "Wij hebben het UZI-servercertificaat voor de productieomgeving nodig."


def key_body() -> list[str]:
    """The base64 lines of the generated private key (never allowed in any plan text)."""
    pem = g.key_pem().decode()
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def assert_no_key_material(plan: Plan) -> None:
    dumped = plan.model_dump_json()
    assert "BEGIN" not in dumped
    for line in key_body():
        assert line not in dumped


def test_abonneenummer_mismatch_is_told_to_practice_agents_and_facts() -> None:
    plan = plan_for("renewal-promedico", pem_report(cert(TIGHT, abonneenummer="07777777"), CER))
    assert plan.case is not None
    facts = plan.case.facts
    assert facts["abonneenummer_mismatch"] is True
    assert facts["certificate"]["verdict"] == "abonneenummer_mismatch"
    assert facts["certificate"]["abonneenummer_matches"] is False
    body = ack(plan)
    assert (
        "dit certificaat hoort bij abonneenummer 07777777, terwijl u in uw aanvraag "
        "abonneenummer 01234567 opgaf." in body
    )
    assert "Dan is dat een wijziging van uw praktijkgegevens" in body
    assert 'met het verzoek "Abonneenummer (OIN) gewijzigd"' in body
    assert "28 februari 2027" in body  # the running connection still has these dates
    assert "07777777: DIFFERS from the typed 01234567" in note(plan)
    assert "belongs to abonneenummer 07777777, but the practice typed 01234567" in note(plan)
    assert "the practice data change" not in ack(plan)


def test_typed_abonneenummer_is_left_padded_before_comparing() -> None:
    # renewal-unknown-vendor has "1234567" typed; the certificate carries 01234567.
    plan = plan_for("renewal-unknown-vendor", pem_report(cert(TIGHT), "los.cer"))
    assert plan.case is not None
    assert plan.case.facts["abonneenummer_mismatch"] is False
    assert plan.case.facts["certificate"]["verdict"] == "ok"
    assert "hoort bij abonneenummer" not in ack(plan)


def test_private_key_file_gets_its_own_reply_and_a_delete_note() -> None:
    plan = plan_for(
        "renewal-sanday-key",
        pem_report(cert(TIGHT), "servercertificaat.pem"),
        report(g.key_pem(), "server.key"),
    )
    assert slugs(plan) == [
        "renewal:ack",
        "renewal:note",
        "renewal:private_key",
        "renewal:private_key_note",
    ]
    public = comment(plan, "renewal:private_key")
    assert public.public
    assert "Het bestand server.key bevat een privésleutel" in public.body
    assert "nooit naar ons of naar iemand anders sturen" in public.body
    assert "Neem daarom contact op met Sanday." in public.body
    assert "een nieuw certificaat worden aangevraagd" in public.body
    internal = comment(plan, "renewal:private_key_note")
    assert not internal.public
    assert "* server.key (attachment id 10816)" in internal.body
    assert "delete" in internal.body
    assert "server.key: dit bestand bevat geen certificaat, alleen een privésleutel" in ack(plan)
    assert "28 februari 2027" in ack(plan)  # the certificate file is fine
    assert plan.case is not None and plan.case.facts["private_key_uploaded"] is True
    assert_no_key_material(plan)


@pytest.mark.parametrize("container", ["p12", "pem-bundle"])
def test_key_inside_a_certificate_file_is_caught_and_never_copied(container: str) -> None:
    leaf = cert(TIGHT)
    data = g.p12(leaf, key=g.rsa_key()) if container == "p12" else g.pem(leaf) + g.key_pem()
    plan = plan_for("renewal-promedico", report(data, CER))
    assert "renewal:private_key" in slugs(plan)
    assert (
        "Het bestand uzi\\-servercertificaat.cer bevat een privésleutel"
        in comment(plan, "renewal:private_key").body
    )
    assert plan.case is not None and plan.case.due_date is not None  # the certificate still counts
    assert plan.case.facts["certificate"]["contains_private_key"] is True
    assert_no_key_material(plan)


def test_key_arriving_later_gets_the_key_reply_and_a_file_note() -> None:
    plan = plan_for(
        "renewal-cgm-huisarts-attachment-added", report(g.key_pem(), "huidig-certificaat.cer")
    )
    assert slugs(plan) == [
        "renewal:ack",
        "renewal:note",
        "renewal:private_key",
        "renewal:private_key_note",
        "renewal:file_note:10836",
    ]
    assert "PRIVATE KEY: delete this attachment" in comment(plan, "renewal:file_note:10836").body
    assert_no_key_material(plan)


@pytest.mark.parametrize(
    ("make", "wording", "agents"),
    [
        (
            lambda: g.pem(g.server_cert("g1-test", not_before=datetime(2024, 3, 1, tzinfo=UTC))),
            ["dit is een testcertificaat", NEED_PRODUCTION],
            "is a TEST (acceptance) certificate",
        ),
        (
            lambda: g.pem(
                cert(
                    datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
                    not_before=datetime(2023, 12, 1, tzinfo=UTC),
                )
            ),
            [
                "dit certificaat is verlopen op 1 december 2026.",
                "geldig UZI-servercertificaat voor de productieomgeving",
            ],
            "expired on 2026-12-01",
        ),
        (
            lambda: g.pem(
                cert(
                    datetime(2030, 3, 1, tzinfo=UTC),
                    not_before=datetime(2027, 3, 1, 10, 0, tzinfo=UTC),
                )
            ),
            ["dit certificaat is pas geldig vanaf 1 maart 2027", "dat nu al geldig is"],
            "is not valid before 2027-03-01",
        ),
        (
            lambda: g.pem(cert(TIGHT, card_type="Z")),
            [
                "dit is het certificaat van een UZI-pas, geen UZI-servercertificaat",
                "voor de productieomgeving nodig",
            ],
            "is a UZI card certificate (card type Z)",
        ),
        (
            lambda: g.pem(g.tls_cert(not_before=datetime(2027, 1, 1, tzinfo=UTC))),
            ["dit is geen UZI-servercertificaat", "voor de productieomgeving nodig"],
            "is not a UZI server certificate",
        ),
        (
            lambda: b"Dit is geen certificaat maar een notitie.\n",
            ["dit bestand konden wij niet lezen als certificaat", ".cer, .crt, .pem of .der"],
            "could not be read as a certificate",
        ),
    ],
    ids=["test", "expired", "not-yet-valid", "card", "not-uzi", "garbage"],
)
def test_wrong_upload_is_explained_to_practice_and_agents(
    make: object, wording: list[str], agents: str
) -> None:
    data = make()  # type: ignore[operator]
    plan = plan_for("renewal-promedico", report(data, CER))
    body = ack(plan)
    assert "* uzi\\-servercertificaat.cer: " in body
    for sentence in wording:
        assert sentence in body
    assert escape_jira(agents) in note(plan)
    assert "hoort bij abonneenummer" not in body
    assert plan.case is not None
    assert (plan.case.due_date, plan.case.priority) == (None, None)
    assert "Uit wat u meestuurde, konden wij die vervaldatum niet halen." in body
    assert "renewal:private_key" not in slugs(plan)


def test_wrong_upload_arriving_later_gets_its_own_reply() -> None:
    test_cert = g.server_cert("g1-test", not_before=datetime(2024, 3, 1, tzinfo=UTC))
    plan = plan_for(
        "renewal-cgm-huisarts-attachment-added", pem_report(test_cert, "huidig-certificaat.cer")
    )
    fingerprint = test_cert.fingerprint(hashes.SHA256()).hex()[:16]
    received = comment(plan, f"renewal:cert:{fingerprint}").body
    assert "dit is een testcertificaat" in received and NEED_PRODUCTION in received
    assert (
        escape_jira("is a TEST (acceptance) certificate")
        in comment(plan, f"renewal:cert_note:{fingerprint}").body
    )
    assert plan.case is not None and plan.case.due_date is None


def test_same_certificate_uploaded_twice_is_acknowledged_once() -> None:
    leaf = cert(TIGHT)
    data = payload("renewal-cgm-huisarts-attachment-added")
    again = copy.deepcopy(data["issue"]["fields"]["attachment"][0])
    again.update(id="10840", filename="kopie.cer", created="2027-02-03T14:00:00.000+0100")
    data["issue"]["fields"]["attachment"].append(again)
    reports = (pem_report(leaf, "huidig-certificaat.cer"), pem_report(leaf, "kopie.cer"))
    plan = plan_renewal(event("", data), context(*reports))
    assert plan is not None
    assert len([s for s in slugs(plan) if s.startswith("renewal:cert:")]) == 1
