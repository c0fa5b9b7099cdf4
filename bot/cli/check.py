"""`uzibot check`: verify the settings and the Jira site the bot will work against."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from bot.jira.errors import JiraError
from bot.settings import Settings
from bot.wiring import Services


class CheckFailed(Exception):
    """One check found something the bot cannot work with; the message says what."""


def run_check(settings: Settings, services: Services, out: TextIO) -> int:
    """Print one line per check; exit 0 when all pass, 1 otherwise."""
    gateway = services.gateway
    mappings = services.mappings
    failures = 0

    def step(name: str, fn: Callable[[], str]) -> None:
        nonlocal failures
        try:
            print(f"ok    {name}: {fn()}", file=out)
        except (JiraError, CheckFailed) as exc:
            failures += 1
            print(f"FAIL  {name}: {exc}", file=out)

    def store() -> str:
        if not services.store.ping():
            raise CheckFailed(f"cannot reach {settings.database_url.split('@')[-1]}")
        return "reachable, schema up to date"

    def auth() -> str:
        return f"signed in as account {gateway.myself()}"

    def project(key: str, issue_types: set[str]) -> Callable[[], str]:
        def check() -> str:
            found = gateway.project(key)
            if not found:
                raise CheckFailed(f"project {key} not found or not visible to {settings.jira_user}")
            have = {str(t.get("name")) for t in found.get("issueTypes") or []}
            missing = sorted(issue_types - have)
            if missing:
                raise CheckFailed(f"issue types missing in {key}: {', '.join(missing)}")
            return f"{found.get('name', key)}; issue types {', '.join(sorted(issue_types))}"

        return check

    def fields() -> str:
        names = list(mappings.field_names())
        ids = {**gateway.field_ids(names), **mappings.field_ids}
        missing = [n for n in names if n not in ids]
        if missing:
            raise CheckFailed("custom fields not found by name: " + ", ".join(missing))
        vp = gateway.request_type_field_id()
        if not vp:
            raise CheckFailed("no field with schema com.atlassian.servicedesk:vp-origin")
        return ", ".join(f"{n}={ids[n]}" for n in names) + f", request type={vp}"

    def link_type() -> str:
        if services.reconciler.layout.link_type not in gateway.issue_link_types():
            raise CheckFailed(f"link type {services.reconciler.layout.link_type!r} not found")
        return services.reconciler.layout.link_type

    def request_types() -> str:
        desk = gateway.service_desk_id(settings.service_desk_project)
        if desk is None:
            raise CheckFailed(f"{settings.service_desk_project} is not a service desk project")
        site = {str(t.get("id")): str(t.get("name")) for t in gateway.request_types(desk)}
        mapped = [r for r in mappings.request_types.request_type if r.id is not None]
        unknown = [f"{r.id} ({r.name})" for r in mapped if r.id not in site]
        if unknown:
            raise CheckFailed("mapped request types not on the site: " + ", ".join(unknown))
        unmapped = sorted(set(site) - {r.id for r in mapped})
        tail = f"; not mapped (words decide): {', '.join(unmapped)}" if unmapped else ""
        return f"service desk {desk}: {len(mapped)} mapped request types found{tail}"

    sd = settings.service_desk_project
    tracking = settings.tracking_project
    request_type = mappings.request_types.request_issue_type
    case_types = {
        t
        for w in mappings.workflows.values()
        if w.case
        for t in (w.tracking_issue_type, w.subtask_issue_type)
    }
    step("database", store)
    step("jira auth", auth)
    if tracking == sd:
        step(f"project {sd}", project(sd, {request_type} | case_types))
    else:
        step(f"service desk project {sd}", project(sd, {request_type}))
        step(f"tracking project {tracking}", project(tracking, case_types))
    step("request fields", fields)
    step("link type", link_type)
    step("request types", request_types)
    print(
        "transitions are checked when used: a missing one is logged and left to the agents",
        file=out,
    )
    print("all checks passed" if not failures else f"{failures} check(s) failed", file=out)
    return 0 if not failures else 1
