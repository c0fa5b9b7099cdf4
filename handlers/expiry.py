"""The expiry watch, pure: which step a certificate is due for today, and its Plan and texts.

A step is the unit done exactly once: `open` (raise the renewal request, or an agents-only
tracking issue without a contact), `remind-<days>` (one reminder per threshold crossed after
the case was opened; after downtime only the latest crossed threshold is reminded), `priority`
(once the latest start has passed), `newer` (a newer certificate was recorded) and `closed`
(the case was resolved in Jira: nothing more is sent for this certificate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.certs.deadlines import deactivation_date, latest_start, local_date
from bot.markup import escape_inline, plain_line
from bot.plan import CommentSpec, Plan, RequestSpec
from handlers.renewal_values import format_date_nl

WORKFLOW = "expiry"
DEFAULT_THRESHOLDS = (60, 35, 28, 21, 14, 8)
RAISED_PRIORITY = "Highest"
TRACKING_LABELS = ("uzibot", "uzibot-expiry")
SUMMARY_LIMIT = 250


@dataclass(frozen=True)
class Watched:
    """A current production certificate and who to reach about it."""

    abonneenummer: str
    fingerprint: str
    not_after: datetime
    practice: str | None = None
    vendor: str | None = None
    contact: str | None = None

    @property
    def expiry(self) -> date:
        """The Amsterdam calendar day the certificate expires."""
        return local_date(self.not_after)

    @property
    def deactivation(self) -> date:
        """The day DigiD is switched off (expiry minus seven days)."""
        return deactivation_date(self.not_after)

    @property
    def latest_start(self) -> date:
        """The last day the desk should have the new certificate."""
        return latest_start(self.not_after)


@dataclass(frozen=True)
class CaseState:
    """What the journal holds for one certificate: its case (if opened) and the steps taken."""

    key: str | None = None
    kind: str | None = None
    """`request` (a portal request on behalf of the contact) or `tracking` (agents only)."""
    opened_at: int | None = None
    """The threshold (days before expiry) at which the case was opened."""
    steps: frozenset[str] = field(default_factory=frozenset)
    """Steps journalled (done, or claimed by a process right now)."""


@dataclass(frozen=True)
class Step:
    """One thing to do once; `plan` goes through the reconciler, `note` is for agents-only cases."""

    name: str
    plan: Plan | None = None
    note: str | None = None
    priority: str | None = None


def step_id(cert: Watched, name: str) -> str:
    """The journal id of a step: one per (abonneenummer, certificate, step)."""
    return f"watch:{cert.abonneenummer}:{cert.fingerprint}:{name}"


def crossed(cert: Watched, today: date, thresholds: Sequence[int]) -> int | None:
    """The latest threshold crossed today (the smallest with days left <= it), or None."""
    left = (cert.expiry - today).days
    if left < 0:
        return None  # expired: nothing to prevent any more
    hits = [t for t in thresholds if left <= t]
    return min(hits) if hits else None


def due_steps(
    cert: Watched, case: CaseState, today: date, thresholds: Sequence[int], request_type: str
) -> list[Step]:
    """The steps due today for a current certificate, in order; empty when nothing is due."""
    threshold = crossed(cert, today, thresholds)
    if threshold is None or "closed" in case.steps:
        return []
    if case.key is None:
        return [] if "open" in case.steps else [open_step(cert, today, threshold, request_type)]
    out: list[Step] = []
    remind = f"remind-{threshold}"
    if case.opened_at is not None and threshold < case.opened_at and remind not in case.steps:
        out.append(reminder_step(cert, case, today, threshold))
    if today > cert.latest_start and "priority" not in case.steps and case.kind == "request":
        out.append(Step("priority", priority=RAISED_PRIORITY))
    return out


def open_step(cert: Watched, today: date, threshold: int, request_type: str) -> Step:
    """Raise the renewal request on behalf of the contact (agents-only issue without one)."""
    slug = f"expiry:{cert.abonneenummer}:{cert.fingerprint[:16]}"
    if cert.contact:
        spec = RequestSpec(
            slug=slug,
            request_type=request_type,
            summary=_request_summary(cert),
            description=_request_description(cert, today),
            on_behalf_of=cert.contact,
            fields=_request_fields(cert),
            labels=TRACKING_LABELS,  # used if Jira refuses the request and agents take over
        )
    else:
        spec = RequestSpec(
            slug=slug,
            request_type=request_type,
            summary=_tracking_summary(cert),
            description=_tracking_description(cert, today),
            labels=TRACKING_LABELS,
        )
    return Step(
        "open",
        plan=Plan(
            handler=WORKFLOW,
            summary=f"expiry watch: open a renewal case for {cert.abonneenummer} ({threshold} d)",
            requests=(spec,),
        ),
    )


def reminder_step(cert: Watched, case: CaseState, today: date, threshold: int) -> Step:
    """One reminder with the dates and what is still missing."""
    name = f"remind-{threshold}"
    if case.kind != "request" or case.key is None:
        return Step(name, note=_tracking_reminder(cert, today))
    comment = CommentSpec(
        slug=f"expiry:{cert.fingerprint[:16]}:{name}",
        issue_key=case.key,
        body=_reminder_text(cert, today),
        public=True,
    )
    return Step(
        name,
        plan=Plan(
            handler=WORKFLOW,
            summary=f"expiry watch: reminder {threshold} d on {case.key}",
            comments=(comment,),
        ),
    )


def newer_step(old: Watched, case: CaseState, newer: Watched) -> Step | None:
    """Tell the open case that a newer certificate was recorded (reminders stop)."""
    if case.key is None or "newer" in case.steps or "closed" in case.steps:
        return None
    if case.kind != "request":
        return Step(
            "newer",
            note=(
                f"uzibot: a newer certificate for abonneenummer {old.abonneenummer} was recorded "
                f"(valid until {newer.expiry.isoformat()}); the expiry watch stops reminding "
                f"about the one expiring {old.expiry.isoformat()}."
            ),
        )
    body = (
        "Goedendag,\n\n"
        f"In onze gegevens staat nu een nieuw UZI-servercertificaat voor abonneenummer "
        f"{old.abonneenummer}. Het is geldig tot {format_date_nl(newer.expiry)}. Over het oude "
        f"certificaat, dat op {format_date_nl(old.expiry)} verloopt, sturen wij u geen "
        "herinneringen meer.\n\n"
        "Wij handelen de vernieuwing verder af en laten het u weten zodra die klaar is.\n\n"
        "Met vriendelijke groet,\nServicedesk Uw Zorg Online"
    )
    comment = CommentSpec(
        slug=f"expiry:{old.fingerprint[:16]}:newer", issue_key=case.key, body=body, public=True
    )
    return Step(
        "newer",
        plan=Plan(
            handler=WORKFLOW,
            summary=f"expiry watch: newer certificate noted on {case.key}",
            comments=(comment,),
        ),
    )


# -- texts (Dutch for the practice, English for the agents) -------------------------------


def _practice(cert: Watched) -> str:
    return str(escape_inline(cert.practice, 120)) if cert.practice else "uw praktijk"


def _request_summary(cert: Watched) -> str:
    who = plain_line(cert.practice, 60) if cert.practice else f"abonneenummer {cert.abonneenummer}"
    text = (
        f"UZI-servercertificaat verloopt op {format_date_nl(cert.expiry)}: {who} "
        f"(DigiD uit op {format_date_nl(cert.deactivation)})"
    )
    return text[:SUMMARY_LIMIT]


def _request_description(cert: Watched, today: date) -> str:
    vendor = (
        str(escape_inline(cert.vendor, 60))
        if cert.vendor
        else "de leverancier van het HIS of AIS van uw praktijk"
    )
    late = today > cert.latest_start
    deadline = (
        f"De uiterste datum om het nieuwe certificaat aan te leveren "
        f"({format_date_nl(cert.latest_start)}) is al voorbij. Zorg dat het nieuwe certificaat "
        "zo snel mogelijk bij ons is."
        if late
        else f"Zorg daarom dat wij het nieuwe certificaat uiterlijk op "
        f"{format_date_nl(cert.latest_start)} hebben."
    )
    return (
        "Goedendag,\n\n"
        "Dit verzoek hebben wij zelf voor u aangemaakt, omdat het UZI-servercertificaat van "
        f"{_practice(cert)} (abonneenummer {cert.abonneenummer}) binnenkort verloopt.\n\n"
        f"* Het certificaat verloopt op {format_date_nl(cert.expiry)}.\n"
        f"* Is er op {format_date_nl(cert.deactivation)} nog geen nieuw certificaat actief, dan "
        "wordt de DigiD-koppeling van uw praktijk die dag automatisch uitgeschakeld. Patiënten "
        "kunnen dan niet meer met DigiD inloggen.\n\n"
        "Na ontvangst van het nieuwe certificaat duurt de verwerking ongeveer drie weken. "
        f"{deadline}\n\n"
        f"Wat kunt u doen? Vraag bij {vendor} een nieuw UZI-servercertificaat aan. In een "
        "reactie op dit verzoek leest u hoe het certificaat bij ons komt.\n\n"
        "Met vriendelijke groet,\nServicedesk Uw Zorg Online"
    )


def _request_fields(cert: Watched) -> dict[str, str]:
    fields = {"abonneenummer": cert.abonneenummer}
    if cert.practice:
        fields["practice_name"] = cert.practice
    return fields


def _reminder_text(cert: Watched, today: date) -> str:
    left = (cert.expiry - today).days
    missing = "een nieuw UZI-servercertificaat voor abonneenummer " + cert.abonneenummer
    if not cert.vendor:
        missing += ", en met welk HIS of AIS uw praktijk werkt"
    if today > cert.latest_start:
        advice = (
            f"De uiterste datum om het nieuwe certificaat aan te leveren "
            f"({format_date_nl(cert.latest_start)}) is voorbij. Zorg dat het zo snel mogelijk "
            "bij ons is. Wij verwerken het zo snel als wij kunnen, maar kunnen niet beloven dat "
            "de koppeling aan blijft."
        )
    else:
        advice = (
            f"Zorg dat wij het nieuwe certificaat uiterlijk op "
            f"{format_date_nl(cert.latest_start)} hebben: de verwerking duurt ongeveer drie weken."
        )
    return (
        "Goedendag,\n\n"
        f"Een herinnering: het UZI-servercertificaat van {_practice(cert)} verloopt over "
        f"{left} {'dag' if left == 1 else 'dagen'}, op {format_date_nl(cert.expiry)}. Is er op "
        f"{format_date_nl(cert.deactivation)} nog geen nieuw certificaat actief, dan gaat de "
        "DigiD-koppeling die dag automatisch uit.\n\n"
        f"Wat wij nog missen: {missing}.\n\n"
        f"{advice}\n\n"
        "Met vriendelijke groet,\nServicedesk Uw Zorg Online"
    )


def _tracking_summary(cert: Watched) -> str:
    who = f" ({plain_line(cert.practice, 60)})" if cert.practice else ""
    return (
        f"Certificate expiring {cert.expiry.isoformat()}: abonneenummer {cert.abonneenummer}"
        f"{who}, no portal contact"
    )[:SUMMARY_LIMIT]


def _tracking_description(cert: Watched, today: date) -> str:
    return (
        "The expiry watch found no portal contact for this practice, so no request could be "
        "raised on its behalf. Please reach the practice and ask for a new UZI server "
        "certificate.\n\n"
        f"Abonneenummer: {cert.abonneenummer}\n"
        f"Practice: {plain_line(cert.practice, 120) if cert.practice else 'unknown'}\n"
        f"Vendor: {plain_line(cert.vendor, 60) if cert.vendor else 'unknown'}\n"
        f"Expiry: {cert.expiry.isoformat()}\n"
        f"DigiD switched off: {cert.deactivation.isoformat()}\n"
        f"Latest start: {cert.latest_start.isoformat()}\n"
        f"Certificate fingerprint (SHA-256): {cert.fingerprint}\n"
        f"Raised on: {today.isoformat()}\n\n"
        "Tip: record the contact with `uzibot certs import --contacts`; later reminders stay "
        "on this issue."
    )


def _tracking_reminder(cert: Watched, today: date) -> str:
    left = (cert.expiry - today).days
    late = " The latest start has passed." if today > cert.latest_start else ""
    return (
        f"uzibot reminder: the certificate of abonneenummer {cert.abonneenummer} expires in "
        f"{left} days ({cert.expiry.isoformat()}); DigiD goes off on "
        f"{cert.deactivation.isoformat()}; latest start {cert.latest_start.isoformat()}. "
        f"No newer certificate is recorded yet.{late}"
    )
