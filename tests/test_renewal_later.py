"""The renewal handler when a certificate arrives after the request: update, acknowledge once."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

from handlers.renewal import plan_renewal
from tests.renewal_support import (
    ack,
    cert,
    comment,
    context,
    event,
    fp16,
    note,
    payload,
    pem_report,
    plan_for,
    slugs,
)

TIGHT = datetime(2027, 3, 7, 10, 0, tzinfo=UTC)  # off 28 februari, latest 7 februari
CONFIRM = "Zodra de vernieuwing is afgerond, krijgt u daarover bericht in deze melding."


def test_certificate_arriving_later_updates_the_case_and_is_acknowledged_once() -> None:
    created = plan_for("renewal-cgm-huisarts-no-attachment")
    assert created.case is not None and created.case.due_date is None
    assert slugs(created) == ["renewal:ack", "renewal:note"]
    leaf = cert(TIGHT)
    later = pem_report(leaf, "huidig-certificaat.cer")
    updated = plan_for("renewal-cgm-huisarts-attachment-added", later)
    assert updated.case is not None
    assert (updated.case.due_date, updated.case.priority) == (date(2027, 2, 28), "High")
    assert updated.case.facts["certificate"]["attachment_id"] == "10836"
    slug = f"renewal:cert:{fp16(leaf)}"
    assert slugs(updated) == [
        "renewal:ack",
        "renewal:note",
        slug,
        f"renewal:cert_note:{fp16(leaf)}",
    ]
    assert ack(updated) == ack(created) and note(updated) == note(created)
    received = comment(updated, slug)
    assert received.public
    assert (
        "Wij hebben het bestand huidig\\-certificaat.cer in deze melding ontvangen."
        in received.body
    )
    assert "op 28 februari 2027 automatisch tijdelijk uit" in received.body
    assert "7 februari 2027" in received.body and CONFIRM in received.body
    assert (
        "due date and priority now follow from this certificate"
        in comment(updated, f"renewal:cert_note:{fp16(leaf)}").body
    )
    # The comment that came with the file sees the same state: the same plan.
    assert plan_for("renewal-cgm-huisarts-comment", later) == updated


def test_new_certificate_later_keeps_the_deadline_of_the_current_one() -> None:
    current = cert(TIGHT)
    fresh = cert(
        datetime(2030, 1, 20, tzinfo=UTC),
        not_before=datetime(2027, 1, 20, tzinfo=UTC),
        uzi_number="987654321",
    )
    data = payload("renewal-cgm-huisarts-attachment-added")
    first = copy.deepcopy(data["issue"]["fields"]["attachment"][0])
    first.update(id="10830", filename="oud.cer", created="2027-02-01T09:32:06.113+0100")
    data["issue"]["fields"]["attachment"].insert(0, first)
    plan = plan_renewal(
        event("", data),
        context(pem_report(current, "oud.cer"), pem_report(fresh, "huidig-certificaat.cer")),
    )
    assert plan is not None and plan.case is not None
    assert (plan.case.due_date, plan.case.priority) == (date(2027, 2, 28), "High")
    assert plan.case.facts["new_certificate"]["uzi_number"] == "987654321"
    assert "op 28 februari 2027 automatisch tijdelijk uit" in ack(plan)
    received = comment(plan, f"renewal:cert:{fp16(fresh)}").body
    assert (
        "is al een nieuw UZI-servercertificaat: het is geldig van 20 januari 2027 tot "
        "20 januari 2030." in received
    )
    assert "CGM Huisarts stuurt ons het nieuwe certificaat ook zelf." in received
