"""`uzibot check`: verify the settings and the Jira site the bot will work against."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from bot.jira_errors import JiraError
from bot.settings import Settings
from bot.wiring import Services


def run_check(settings: Settings, services: Services, out: TextIO) -> int:
    """Print one line per check; exit 0 when all pass, 1 otherwise."""
    gateway = services.gateway
    failures = 0

    def step(name: str, fn: Callable[[], str]) -> None:
        nonlocal failures
        try:
            detail = fn()
            print(f"ok    {name}: {detail}", file=out)
        except (JiraError, ValueError, LookupError) as exc:
            failures += 1
            print(f"FAIL  {name}: {exc}", file=out)

    def store() -> str:
        if not services.store.ping():
            raise LookupError(f"cannot reach {settings.database_url.split('@')[-1]}")
        return "reachable, schema up to date"

    def auth() -> str:
        return f"signed in as account {gateway.myself()}"

    def project(key: str) -> Callable[[], str]:
        def check() -> str:
            found = gateway.project(key)
            if not found:
                raise LookupError(f"project {key} not found or not visible to {settings.jira_user}")
            return str(found.get("name", key))

        return check

    def fields() -> str:
        names = list(services.mappings.field_names())
        ids = gateway.field_ids(names)
        missing = [n for n in names if n not in ids]
        if missing:
            raise LookupError("custom fields not found by name: " + ", ".join(missing))
        vp = gateway.request_type_field_id()
        if not vp:
            raise LookupError("no field with schema com.atlassian.servicedesk:vp-origin")
        return ", ".join(f"{n}={ids[n]}" for n in names) + f", request type={vp}"

    step("database", store)
    step("jira auth", auth)
    step(
        f"service desk project {settings.service_desk_project}",
        project(settings.service_desk_project),
    )
    if settings.tracking_project != settings.service_desk_project:
        step(f"tracking project {settings.tracking_project}", project(settings.tracking_project))
    step("request fields", fields)
    print("all checks passed" if not failures else f"{failures} check(s) failed", file=out)
    return 0 if not failures else 1
