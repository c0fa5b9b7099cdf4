"""What the agents should check on a renewal request, as escaped English sentences."""

from __future__ import annotations

from datetime import date

from bot.certs.deadlines import local_date
from bot.mappings import Mappings
from bot.markup import JiraText, escape_inline
from handlers.classify import RequestFacts, looks_like_oin, normalise_abonneenummer
from handlers.renewal_certs import AttachedFile


def request_problems(facts: RequestFacts, mappings: Mappings) -> tuple[JiraText, ...]:
    """Missing or odd form values: practice name, abonneenummer, vendor."""
    names = mappings.fields
    out: list[str] = []
    if not facts.practice_name:
        out.append(f"{names.practice_name} is empty.")
    typed = facts.abonneenummer_input
    if not typed:
        out.append(
            f"{names.abonneenummer} is empty, so uzibot could not check the certificate's "
            "abonneenummer."
        )
    elif looks_like_oin(typed):
        out.append(
            f"{names.abonneenummer} {_quote(typed)} has 20 digits: it looks like an OIN. How an "
            "OIN relates to the abonneenummer is not documented, so no comparison was made."
        )
    elif normalise_abonneenummer(typed) is None:
        out.append(f"{names.abonneenummer} {_quote(typed)} is not a number of at most 8 digits.")
    if facts.vendor_field and facts.vendor_source != "field":
        out.append(f"{names.vendor} value {_quote(facts.vendor_field)} is not a known vendor.")
    if facts.vendor is None:
        named = (
            f" (the request names {', '.join(facts.vendors_named)})" if facts.vendors_named else ""
        )
        out.append(
            f"The vendor is unknown{named}: the reply asked the practice which HIS/AIS it uses."
        )
    elif facts.vendor.delivery == "unknown":
        out.append(
            f"How {facts.vendor.name} delivers a new certificate is not documented: the reply "
            "asked the practice how the certificate will reach the desk."
        )
    return tuple(escape_inline(sentence, 400) for sentence in out)


def file_problems(file: AttachedFile, typed: str | None, today: date) -> list[JiraText]:
    """One sentence per thing wrong with an uploaded file (the practice was told each)."""
    r = file.report
    name = _quote(r.file)
    out: list[str] = []
    if r.contains_private_key:
        out.append(
            f"{name} contains a PRIVATE KEY: delete this attachment right away. The practice was "
            "told never to send a key and to contact its vendor (the key may need replacing)."
        )
    for issue in file.issues:
        if issue == "unparseable":
            out.append(
                f"{name} could not be read as a certificate; the practice was told which "
                "formats we accept."
            )
        elif issue == "key_only":
            out.append(f"{name} holds no certificate, only a private key.")
        elif issue == "not_uzi":
            out.append(f"{name} is not a UZI server certificate (no UZI otherName).")
        elif issue == "not_a_server_certificate":
            out.append(
                f"{name} is a UZI card certificate (card type {r.card_type}), not a server "
                "certificate (S)."
            )
        elif issue == "test":
            out.append(f"{name} is a TEST (acceptance) certificate, not a production one.")
        elif issue == "abonneenummer_mismatch":
            out.append(
                f"{name} belongs to abonneenummer {r.abonneenummer}, but the practice typed "
                f"{typed}. The practice was told that a changed abonneenummer is reported as a "
                "practice data change."
            )
        elif issue == "expired" and r.not_after is not None:
            out.append(f"{name} expired on {local_date(r.not_after).isoformat()}.")
        elif issue == "not_yet_valid" and r.not_before is not None:
            out.append(f"{name} is not valid before {local_date(r.not_before).isoformat()}.")
    if file.dated and r.deadline_state == "too_late" and r.deactivation_date is not None:
        when = "was switched off" if r.deactivation_date < today else "will be switched off"
        out.append(
            f"Too late for a renewal before the deadline: per {name}, DigiD {when} on "
            f"{r.deactivation_date.isoformat()} (latest start was "
            f"{r.latest_start.isoformat() if r.latest_start else 'unknown'})."
        )
    return [escape_inline(sentence, 400) for sentence in out]


def _quote(value: str) -> str:
    return '"' + " ".join(value.split())[:120] + '"'
