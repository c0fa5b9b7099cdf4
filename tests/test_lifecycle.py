"""The sub-task lifecycle as pure plans: one message per finished step, the last one closes."""

from __future__ import annotations

import copy
import functools
import json
import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import mappings as mappings_package
from bot.context import HandlerContext, StepState
from bot.envelope import parse_jira_envelope
from bot.events import Event
from bot.mappings import Mappings, MappingsError, load_mappings
from bot.mappings_schema import Lifecycle
from bot.plan import Plan
from handlers import lifecycle
from handlers.lifecycle import moved_to_done, plan_confirmation, plan_lifecycle
from handlers.routing import build_router

FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
HELP_PAGE = Path(__file__).resolve().parents[2] / "shared" / "domain"
TODAY = date(2026, 11, 28)
VENDORS = ("Promedico ASP", "CGM Huisarts", "Bricks", None)
STEPS = {
    "practice_change": ("digid_off", "new_certificate", "dictu_approval", "digid_on"),
    "renewal": ("receive_certificate", "dictu_check", "complete_renewal"),
}
SAYS = {
    "digid_off": ("staat vanaf nu uit", "beoordeelt de wijziging nu", "DICTU"),
    "new_certificate": ("nieuwe UZI-servercertificaat van uw praktijk is bij ons binnen",),
    "dictu_approval": ("DICTU heeft de wijziging goedgekeurd", "weer aan"),
    "digid_on": ("werkt weer", "weer met DigiD inloggen", "wijziging van uw abonneenummer"),
    "receive_certificate": (
        "is bij ons binnen",
        "sturen het certificaat nu door naar DICTU",
        "drie weken",
    ),
    "dictu_check": ("DICTU heeft het nieuwe UZI-servercertificaat", "goedgekeurd"),
    "complete_renewal": ("vernieuwing afgerond", "verdwijnt vanzelf", "is nu in gebruik"),
}
NO_ALTERNATIVE = "Met Bricks is er geen andere manier om in te loggen"
PASSWORD = "gebruikersnaam en wachtwoord"


@functools.cache
def maps() -> Mappings:
    return load_mappings()


def payload(name: str = "lifecycle-subtask-done") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def event(name: str = "lifecycle-subtask-done", data: dict[str, Any] | None = None) -> Event:
    return parse_jira_envelope(data if data is not None else payload(name), "d1")


def case_property(workflow: str, slug: str, vendor: str | None, **facts: Any) -> dict[str, Any]:
    """The sub-task's `uzibot` property as the reconciler writes it."""
    found = maps().match_vendor(vendor)
    base: dict[str, Any] = {
        "workflow": workflow,
        "request_key": "UZO-400",
        "vendor": vendor,
        "practice_name": "Huisartsenpraktijk De Linde",
        "abonneenummer": "01234567",
        "subtasks": {},
        "tracking_key": "UZO-500",
        "slug": slug,
        "parent": "UZO-500",
    }
    delivery = found.delivery if found else None
    if workflow == "practice_change":
        base.update(kind="abonneenummer", vendor_delivery=delivery)
    else:
        base.update(delivery=delivery, deactivation_date=None)
    return {**base, **facts}


def ctx(
    prop: dict[str, Any] | None,
    today: date = TODAY,
    steps: dict[str, StepState] | None = None,
) -> HandlerContext:
    return HandlerContext(
        mappings=maps(),
        today=today,
        tracking_project="UZO",
        service_desk_project="UZO",
        case_property=prop,
        case_steps=steps,
    )


def states(workflow: str, done: tuple[str, ...], kind: str | None = "abonneenummer") -> Any:
    """Every sub-task of the case as Jira has it now: `done` ones Done, the others To Do."""
    return {
        sub.slug: StepState(
            slug=sub.slug,
            key=f"UZO-{501 + i}",
            status="Done" if sub.slug in done else "To Do",
            done_category=sub.slug in done,
        )
        for i, sub in enumerate(maps().subtasks_for(workflow, kind))
    }


def through(workflow: str, slug: str, kind: str | None = "abonneenummer") -> Any:
    """The case with every step up to and including `slug` done."""
    order = [sub.slug for sub in maps().subtasks_for(workflow, kind)]
    return states(workflow, tuple(order[: order.index(slug) + 1]), kind)


def both(data: Event, context: HandlerContext) -> Plan | None:
    """What the router applies, in order: the progress plan, then the confirmation."""
    first = plan_lifecycle(data, context)
    last = plan_confirmation(data, context)
    if first is None and last is None:
        return None
    return Plan(
        handler="lifecycle",
        comments=(*(first.comments if first else ()), *(last.comments if last else ())),
        transitions=first.transitions if first else (),
    )


def plan(workflow: str, slug: str, vendor: str | None = "CGM Huisarts", **facts: Any) -> Plan:
    prop = case_property(workflow, slug, vendor, **facts)
    kind = prop.get("kind") if workflow == "practice_change" else None
    found = both(event(), ctx(prop, steps=through(workflow, slug, kind)))
    assert found is not None
    return found


def body(found: Plan) -> str:
    """The newest public message of the plan (the step's own; earlier ones come before it)."""
    return [c for c in found.comments if c.public][-1].body


EVERY_STEP = [(w, s, v) for w, slugs in STEPS.items() for s in slugs for v in VENDORS]


@pytest.mark.parametrize(("workflow", "slug", "vendor"), EVERY_STEP)
def test_each_done_step_posts_one_public_comment(
    workflow: str, slug: str, vendor: str | None
) -> None:
    found = plan(workflow, slug, vendor)
    order = STEPS[workflow]
    public = [c for c in found.comments if c.public]
    assert [c.slug for c in public] == [f"lifecycle:{s}" for s in order[: order.index(slug) + 1]]
    comment = public[-1]
    assert (comment.issue_key, comment.public) == ("UZO-400", True)
    assert [c for c in found.comments if not c.public] == []
    text = body(found)
    for words in SAYS[slug]:
        assert words in text, (slug, words)
    assert text.startswith("Goedendag,") and text.rstrip().endswith("Servicedesk Uw Zorg Online")
    assert found.case is None and found.handler == "lifecycle"
    closing = slug in ("digid_on", "complete_renewal")
    assert bool(found.transitions) == closing


@pytest.mark.parametrize("workflow", list(STEPS))
def test_the_confirmation_step_resolves_the_request_and_closes_the_tracking_issue(
    workflow: str,
) -> None:
    found = plan(workflow, STEPS[workflow][-1])
    moves = [(t.slug, t.issue_key, t.transition) for t in found.transitions]
    # The tracking issue first: a request is never resolved while its case stays open.
    assert moves == [
        ("lifecycle:tracking_done", "UZO-500", "Done"),
        ("lifecycle:resolve", "UZO-400", "Resolve this issue"),
    ]


def test_digid_off_for_a_vendor_with_a_fallback_login_or_an_unknown_vendor() -> None:
    text = body(plan("practice_change", "digid_off", "Promedico ASP"))
    assert PASSWORD in text and "oude koppelmethode" in text and "*Handleiding*" in text
    assert "beheer.pharmeon.nl" in text and "Bricks" not in text
    unknown = body(plan("practice_change", "digid_off", None))
    assert PASSWORD in unknown and "Werkt uw praktijk met Bricks?" in unknown


def test_digid_off_for_bricks_says_plainly_there_is_no_alternative() -> None:
    text = body(plan("practice_change", "digid_off", "Bricks"))
    assert NO_ALTERNATIVE in text
    assert "niet inloggen op het portaal" in text
    assert PASSWORD not in text and "oude koppelmethode" not in text and "Handleiding" not in text


def test_digid_off_mentions_the_new_certificate_only_for_a_new_abonneenummer() -> None:
    assert "nieuw UZI-servercertificaat" in body(plan("practice_change", "digid_off"))
    other = body(plan("practice_change", "digid_off", kind="card_holder"))
    assert "nieuw UZI-servercertificaat" not in other and "de UZI-pashouder" in other


def test_dictu_approval_tells_bricks_patients_still_cannot_log_in() -> None:
    assert "nog niet inloggen" in body(plan("practice_change", "dictu_approval", "Bricks"))
    assert PASSWORD in body(plan("practice_change", "dictu_approval", "Sanday"))


def test_certificate_steps_follow_the_delivery() -> None:
    assert "CGM Huisarts heeft het ons toegestuurd" in body(plan("renewal", "receive_certificate"))
    upload = body(plan("renewal", "receive_certificate", "Promedico ASP"))
    assert "in de beheeromgeving voor ons heeft klaargezet" in upload
    bricks = body(plan("practice_change", "new_certificate", "Bricks"))
    assert "toegestuurd" not in bricks and "klaargezet" not in bricks


def test_renewal_confirmation_after_the_automatic_switch_off() -> None:
    late = body(plan("renewal", "complete_renewal", deactivation_date="2026-11-20"))
    assert "werkt weer" in late and "weer met DigiD inloggen" in late
    early = body(plan("renewal", "complete_renewal", deactivation_date="2026-12-29"))
    assert "gewoon door" in early and "werkt weer" not in early


def test_practice_name_is_escaped() -> None:
    text = body(plan("practice_change", "digid_on", practice_name="[x|http://evil.example] *b*"))
    assert r"\[x\|http\[:\]//evil.example\] \*b\*" in text
    assert "http://" not in text


def test_a_started_step_does_nothing() -> None:
    prop = case_property("practice_change", "digid_off", "Promedico ASP")
    steps = states("practice_change", ())
    assert both(event("lifecycle-subtask-started"), ctx(prop, steps=steps)) is None


def test_a_reopened_step_gets_the_agents_one_note_and_nothing_public() -> None:
    prop = case_property("practice_change", "digid_off", "Promedico ASP")
    steps = states("practice_change", ("new_certificate",))
    found = both(event("lifecycle-subtask-reopened"), ctx(prop, steps=steps))
    assert found is not None and found.transitions == ()
    [note] = found.comments
    assert not note.public and note.slug.startswith("lifecycle:reopened:")
    assert "moved back out of done" in note.body and "digid_off" in note.body


@pytest.mark.parametrize("workflow", list(STEPS))
def test_steps_are_told_in_order_whatever_order_they_finish(workflow: str) -> None:
    order = STEPS[workflow]
    kind = "abonneenummer" if workflow == "practice_change" else None
    prop = case_property(workflow, order[1], None)
    # The second step finished first: nothing public, a note for the agents.
    early = both(event(), ctx(prop, steps=states(workflow, (order[1],), kind)))
    assert early is not None and [c.public for c in early.comments] == [False]
    assert early.comments[0].slug == f"lifecycle:waiting:{order[1]}"
    # Both done (simultaneous, or the first step's webhook came late): both messages, in order.
    both_done = both(event(), ctx(prop, steps=states(workflow, order[:2], kind)))
    assert both_done is not None
    assert [c.slug for c in both_done.comments] == [f"lifecycle:{s}" for s in order[:2]]
    # The confirmation done while an earlier step is open: nothing closes, nothing public.
    last = case_property(workflow, order[-1], None)
    open_step = states(workflow, tuple(s for s in order if s != order[1]), kind)
    held = both(event(), ctx(last, steps=open_step))
    assert held is not None and held.transitions == ()
    assert [c.slug for c in held.comments if c.public] == [f"lifecycle:{order[0]}"]


def _edited(change: Any) -> Event:
    data = copy.deepcopy(payload())
    change(data)
    return event(data=data)


NOT_OURS = {
    "no status change (only the resolution)": lambda d: d["changelog"]["items"].pop(),
    "no changelog": lambda d: d.pop("changelog"),
    "not a sub-task": lambda d: d["issue"]["fields"]["issuetype"].update(subtask=False),
    "not labelled": lambda d: d["issue"]["fields"].update(labels=["other"]),
}


@pytest.mark.parametrize("change", list(NOT_OURS.values()), ids=list(NOT_OURS))
def test_events_that_are_not_a_finished_step_of_ours(change: Any) -> None:
    prop = case_property("practice_change", "digid_off", "Promedico ASP")
    assert plan_lifecycle(_edited(change), ctx(prop)) is None


BAD_PROPERTIES: dict[str, dict[str, Any] | None] = {
    "no property": None,
    "question workflow": {"workflow": "question"},
    "unknown workflow": {"workflow": "onboarding"},
    "unknown slug": {"slug": "digid_maybe"},
    "no slug": {"slug": None},
    "request key not a key": {"request_key": "UZO 400; DROP"},
    "no tracking key at all": {"tracking_key": None, "parent": None},
}


@pytest.mark.parametrize("edit", list(BAD_PROPERTIES.values()), ids=list(BAD_PROPERTIES))
def test_a_missing_or_foreign_case_property_does_nothing(edit: dict[str, Any] | None) -> None:
    prop = None if edit is None else {**case_property("practice_change", "digid_on", None), **edit}
    data = copy.deepcopy(payload())
    data["issue"]["fields"].pop("parent")
    assert plan_lifecycle(event(data=data), ctx(prop)) is None


def test_tracking_key_falls_back_to_the_parent() -> None:
    prop = {**case_property("renewal", "complete_renewal", None), "tracking_key": None}
    found = plan_lifecycle(event(), ctx(prop, steps=through("renewal", "complete_renewal", None)))
    assert found is not None and found.transitions[0].issue_key == "UZO-500"


def test_done_status_names_are_configurable_and_the_category_is_opt_in() -> None:
    done = event()
    assert moved_to_done(done, Lifecycle())
    assert not moved_to_done(done, Lifecycle(done_statuses=("Gereed",)))
    gereed = copy.deepcopy(payload())
    gereed["changelog"]["items"][-1]["toString"] = "Gereed"
    gereed["issue"]["fields"]["status"]["name"] = "Gereed"
    assert moved_to_done(event(data=gereed), Lifecycle(done_statuses=("gereed",)))
    assert not moved_to_done(event(data=gereed), Lifecycle())
    assert moved_to_done(event(data=gereed), Lifecycle(done_category=True))
    assert not moved_to_done(event("lifecycle-subtask-reopened"), Lifecycle(done_category=True))


def test_router_listens_to_updates_and_is_composed() -> None:
    assert lifecycle.router.routes() == {("jira:issue_updated", "lifecycle")}
    prop = case_property("renewal", "dictu_check", None)
    handlers = [p.handler for p in build_router().dispatch(event(), ctx(prop))]
    assert handlers == ["lifecycle"]


def test_mappings_name_a_template_per_step() -> None:
    for workflow, slugs in STEPS.items():
        flow = maps().workflow(workflow).lifecycle
        assert flow is not None and sorted(flow.templates) == sorted(slugs)
        assert flow.confirmation == slugs[-1]


@pytest.fixture
def copy_dir(tmp_path: Path) -> Path:
    source = Path(mappings_package.__file__).resolve().parent
    target = tmp_path / "mappings"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


def test_lifecycle_mappings_are_checked(copy_dir: Path) -> None:
    flows = copy_dir / "workflows.toml"
    good = flows.read_text(encoding="utf-8")
    wrong = good.replace('confirmation = "digid_on"', 'confirmation = "digid_onn"')
    flows.write_text(wrong, encoding="utf-8")
    with pytest.raises(MappingsError, match="'digid_onn', which is not a sub-task slug"):
        load_mappings(copy_dir)
    flows.write_text(good.replace("lifecycle_dictu_check.j2", "lifecycle_x.j2"), encoding="utf-8")
    with pytest.raises(MappingsError, match=r"renewal\.lifecycle\.templates\.dictu_check"):
        load_mappings(copy_dir)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-zà-ÿ0-9]+", text.lower())


def test_step_messages_are_our_own_words() -> None:
    path = HELP_PAGE / "helppage-uzi-servercertificaat-vernieuwen.txt"
    if not path.exists():
        pytest.skip(
            f"{path} not found (a plain clone): the step messages are not checked for sentences "
            "taken over from the help page (CI checks them)"
        )
    page = _words(path.read_text(encoding="utf-8"))
    runs = {tuple(page[i : i + 6]) for i in range(len(page) - 5)}
    for workflow, slug, vendor in EVERY_STEP:
        words = _words(body(plan(workflow, slug, vendor)))
        copied = [
            words[i : i + 6] for i in range(len(words) - 5) if tuple(words[i : i + 6]) in runs
        ]
        assert copied == [], (slug, vendor, copied)
