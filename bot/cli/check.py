"""`uzibot check`: verify the settings and the Jira site, and say how to fix what is wrong."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from bot.cli.cases import journal_cases
from bot.jira.errors import JiraError
from bot.jira.gateway import JiraGateway
from bot.settings import Settings
from bot.wiring import Services, build_gateway

SIGN_IN_TIMEOUT = 2.0  # seconds; an unreachable site is reported within this
CHECK_ATTEMPTS = 2  # per call once signed in (the worker's JIRA_MAX_ATTEMPTS is for outages)
MAX_LISTED = 40
TOKENS_URL = "https://id.atlassian.com/manage-profile/security/api-tokens"
MAPPINGS_HINT = "(in MAPPINGS_DIR; `uzibot mappings init DIR` makes an editable copy)"


class CheckFailed(Exception):
    """One check found something the bot cannot work with: what, how to fix it, what exists."""

    def __init__(self, problem: str, fix: str, site_has: Sequence[str] = ()) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix
        self.site_has = list(site_has)


@dataclass(frozen=True)
class Passed:
    """A check that passed, with what the site has (printed under the ok line)."""

    summary: str
    site_has: list[str]


@dataclass(frozen=True)
class Warned:
    """A check that passed with something to tidy: the notes and how."""

    summary: str
    notes: list[str]
    fix: str


@dataclass(frozen=True)
class Skipped:
    """A check that could not run; the reason says what would make it run."""

    reason: str


def listed(items: Sequence[str]) -> str:
    """Items joined for one line, cut after MAX_LISTED."""
    head = ", ".join(items[:MAX_LISTED])
    return head + (f", ... ({len(items) - MAX_LISTED} more)" if len(items) > MAX_LISTED else "")


def sign_in_problem(settings: Settings, exc: JiraError) -> tuple[str, str]:
    """What a failed sign-in means and how to fix it, from the error's status."""
    if exc.status == 0:
        return (
            f"cannot reach {settings.jira_url} ({exc.message})",
            "check JIRA_URL (https://<site>.atlassian.net) and that this host can reach it",
        )
    if exc.status in (401, 403):
        return (
            f"{settings.jira_url} refused JIRA_USER and JIRA_API_TOKEN (HTTP {exc.status})",
            "JIRA_USER is the bot account's e-mail; make a plain, unscoped API token at "
            f"{TOKENS_URL} (tokens expire after at most a year) and set JIRA_API_TOKEN",
        )
    if exc.status == 404:
        return (
            f"{settings.jira_url} has no Jira REST API (HTTP 404)",
            "JIRA_URL must be the site's base URL, e.g. https://uwzorgonline.atlassian.net",
        )
    return (f"sign-in failed: {exc}", "check JIRA_URL and the site's status page")


def run_check(
    settings: Settings,
    services: Services,
    out: TextIO,
    *,
    request_key: str | None = None,
    tracking_key: str | None = None,
    database_error: str | None = None,
) -> int:
    """Print one line per check (and the fix under a failure); exit 0 when all pass, else 1."""
    started = time.monotonic()
    mappings = services.mappings
    failures = 0

    def step(name: str, fn: Callable[[], str | Passed | Skipped | Warned]) -> bool:
        nonlocal failures
        try:
            result = fn()
        except CheckFailed as exc:
            failures += 1
            print(f"FAIL  {name}: {exc.problem}", file=out)
            print(f"      fix: {exc.fix}", file=out)
            for line in exc.site_has:
                print(f"      site has {line}", file=out)
            return False
        except JiraError as exc:
            failures += 1
            print(f"FAIL  {name}: {exc}", file=out)
            print("      fix: see Jira's message above; run `uzibot check` again", file=out)
            return False
        if isinstance(result, Skipped):
            print(f"skip  {name}: {result.reason}", file=out)
        elif isinstance(result, Warned):
            print(f"warn  {name}: {result.summary}", file=out)
            for note in result.notes:
                print(f"      {note}", file=out)
            print(f"      fix: {result.fix}", file=out)
        elif isinstance(result, Passed):
            print(f"ok    {name}: {result.summary}", file=out)
            for line in result.site_has:
                print(f"      site has {line}", file=out)
        else:
            print(f"ok    {name}: {result}", file=out)
        return True

    def store() -> str:
        if database_error is not None:
            problem, _, fix = database_error.partition("; fix: ")
            raise CheckFailed(problem, fix)
        if not services.store.ping():
            raise CheckFailed(
                f"cannot reach {settings.database_url.split('@')[-1]}",
                "check DATABASE_URL and that the database server runs",
            )
        return "reachable, schema up to date"

    step("database", store)
    probe = build_gateway(
        settings.model_copy(
            update={
                "jira_max_attempts": 1,
                "jira_timeout_seconds": min(settings.jira_timeout_seconds, SIGN_IN_TIMEOUT),
            }
        )
    )
    try:
        account = probe.myself()
    except JiraError as exc:
        problem, fix = sign_in_problem(settings, exc)
        print(f"FAIL  jira auth: {problem}; fix: {fix}", file=out)
        print(f"stopped after the failed sign-in ({time.monotonic() - started:.1f} s)", file=out)
        return 1
    finally:
        probe.close()
    print(f"ok    jira auth: signed in as account {account}", file=out)
    gateway = build_gateway(
        settings.model_copy(
            update={"jira_max_attempts": min(CHECK_ATTEMPTS, settings.jira_max_attempts)}
        )
    )
    checks = _SiteChecks(settings, services, gateway)
    sd = settings.service_desk_project
    tracking = settings.tracking_project
    request_type = mappings.request_types.request_issue_type
    case_types = {
        t
        for w in mappings.workflows.values()
        if w.case
        for t in (w.tracking_issue_type, w.subtask_issue_type)
    }
    if tracking == sd:
        step(
            f"project {sd}", checks.project(sd, {request_type} | case_types, "SERVICE_DESK_PROJECT")
        )
    else:
        step(
            f"service desk project {sd}", checks.project(sd, {request_type}, "SERVICE_DESK_PROJECT")
        )
        step(
            f"tracking project {tracking}", checks.project(tracking, case_types, "TRACKING_PROJECT")
        )
    step("request fields", checks.fields)
    step("link type", checks.link_type)
    step("request types", checks.request_types)
    step("transitions", lambda: checks.transitions(request_key, tracking_key))
    gateway.close()
    print("all checks passed" if not failures else f"{failures} check(s) failed", file=out)
    return 0 if not failures else 1


class _SiteChecks:
    """The checks after sign-in; each returns its ok line or raises CheckFailed."""

    def __init__(self, settings: Settings, services: Services, gateway: JiraGateway) -> None:
        self.settings = settings
        self.services = services
        self.mappings = services.mappings
        self.gateway = gateway

    def _desks(self) -> list[str]:
        pages = self.gateway.servicedesk_pages("rest/servicedeskapi/servicedesk")
        return [f"{d.get('projectKey')} ({d.get('projectName')})" for d in pages]

    def project(self, key: str, issue_types: set[str], variable: str) -> Callable[[], str]:
        def check() -> str:
            found = self.gateway.project(key)
            if not found:
                raise CheckFailed(
                    f"project {key} not found or not visible to the bot's account",
                    f"set {variable} to the project's key (Jira: Projects > View all projects), "
                    "or give the bot's account access to the project",
                    [f"service desk projects: {listed(self._desks()) or 'none'}"],
                )
            have = sorted(str(t.get("name")) for t in found.get("issueTypes") or [])
            missing = sorted(issue_types - set(have))
            if missing:
                raise CheckFailed(
                    f"issue types missing in {key}: {', '.join(missing)}",
                    f"add them to {key}'s issue type scheme, or name existing ones in "
                    f"workflows.toml (tracking_issue_type, subtask_issue_type) or "
                    f"request_types.toml (request_issue_type) {MAPPINGS_HINT}",
                    [f"issue types in {key}: {listed(have)}"],
                )
            return f"{found.get('name', key)}; issue types {', '.join(sorted(issue_types))}"

        return check

    def fields(self) -> str:
        names = list(self.mappings.field_names())
        ids = {**self.gateway.field_ids(names), **self.mappings.field_ids}
        missing = [n for n in names if n not in ids]
        if missing:
            custom = [
                f"{f.get('name')} ({f.get('id')})"
                for f in self.gateway.fields()
                if str(f.get("id", "")).startswith("customfield_")
            ]
            raise CheckFailed(
                "custom fields not found by name: " + ", ".join(missing),
                "give the request form a field with that name, or put the site's name or id in "
                f'fields.toml ([fields], or [ids] "Name" = "customfield_...") {MAPPINGS_HINT}',
                [f"custom fields: {listed(sorted(custom))}"],
            )
        vp = self.gateway.request_type_field_id()
        if not vp:
            raise CheckFailed(
                "no field with schema com.atlassian.servicedesk:vp-origin (Request Type)",
                "the site is not a Jira Service Management site, or the bot's account lacks a "
                "JSM agent licence",
            )
        return ", ".join(f"{n}={ids[n]}" for n in names) + f", request type={vp}"

    def link_type(self) -> str:
        wanted = self.services.reconciler.layout.link_type
        have = self.gateway.issue_link_types()
        if wanted not in have:
            raise CheckFailed(
                f"link type {wanted!r} not found",
                "add it in Jira settings > Issues > Issue linking",
                [f"link types: {listed(sorted(have))}"],
            )
        return wanted

    def request_types(self) -> Passed | Warned:
        sd = self.settings.service_desk_project
        desk = self.gateway.service_desk_id(sd)
        if desk is None:
            raise CheckFailed(
                f"{sd} is not a service desk project",
                "set SERVICE_DESK_PROJECT to the key of the JSM project the requests arrive in",
                [f"service desk projects: {listed(self._desks()) or 'none'}"],
            )
        types = self.gateway.request_types(desk)
        site = {str(t.get("id")): str(t.get("name")) for t in types}
        probe = copy.copy(self.mappings)  # resolve as the bot does at start, on a copy
        notes = probe.resolve_request_types(site)
        fix = (
            "in request_types.toml set each [[request_type]] id to one the site has, or drop "
            f"the id and give the site's name {MAPPINGS_HINT}; an id is also in the URL of "
            "Project settings > Request types > (a type)"
        )
        have = [f"request types of service desk {desk}: {listed(_pairs(site))}"]
        missing = [n for n in notes if n.endswith("is not on the site (by id or name)")]
        if missing:
            raise CheckFailed("; ".join(missing), fix, have)
        rules = probe.request_types.request_type
        unmapped = sorted(set(site) - {r.id for r in rules}, key=_num)
        tail = f"; not mapped (words decide): {', '.join(unmapped)}" if unmapped else ""
        summary = f"service desk {desk}: {len(rules)} mapped request types found{tail}"
        if notes:
            return Warned(summary, [*notes, *(f"site has {h}" for h in have)], fix)
        return Passed(summary, have)

    def transitions(self, request_key: str | None, tracking_key: str | None) -> Passed | Skipped:
        samples = _samples(self.services, request_key, tracking_key)
        if not samples:
            return Skipped(
                "no case in the journal yet to look at; name a portal request with "
                "`uzibot check --request KEY` (and a tracking issue with --tracking KEY)"
            )
        checked: list[str] = []
        offers: list[str] = []
        for role, key, variable, wanted in samples:
            issue = self.gateway.get_issue(key, ["status"])
            if issue is None:
                raise CheckFailed(
                    f"{role} {key} not found", "name an existing issue with --request/--tracking"
                )
            status = (issue.get("fields") or {}).get("status") or {}
            if (status.get("statusCategory") or {}).get("key") == "done":
                checked.append(f"{key} is already {status.get('name')}: not checked")
                continue
            offered = [str(t.get("name")) for t in self.gateway.transitions(key)]
            missing = [w for w in wanted if w.casefold() not in {o.casefold() for o in offered}]
            if missing:
                raise CheckFailed(
                    f"{role} {key} (status {status.get('name')}) offers no transition "
                    + ", ".join(repr(m) for m in missing),
                    f"add the transition to the {role}'s workflow, or set {variable} in "
                    f"workflows.toml to one the site has {MAPPINGS_HINT}",
                    [f"transitions of {key}: {listed(offered) or 'none'}"],
                )
            checked.append(f"{key} offers {', '.join(repr(w) for w in wanted)}")
            offers.append(f"transitions of {key}: {listed(offered)}")
        return Passed("; ".join(checked), offers)


def _pairs(site: dict[str, str]) -> list[str]:
    return [f"{rid} {name}" for rid, name in sorted(site.items(), key=lambda p: _num(p[0]))]


def _num(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (1 << 62, text)


def _samples(
    services: Services, request_key: str | None, tracking_key: str | None
) -> list[tuple[str, str, str, list[str]]]:
    """(role, issue key, mapping key, transition names) to look at: named or from the journal."""
    flows = {n: w.lifecycle for n, w in services.mappings.workflows.items() if w.lifecycle}
    if not flows:
        return []
    cases = [c for c in journal_cases(services.store) if c.workflow in flows]
    cases.sort(key=lambda c: c.closed)  # an open case's request can still be resolved
    if request_key is None and tracking_key is None and cases:
        request_key, tracking_key = cases[0].request, cases[0].case_key
    if request_key is not None and tracking_key is None:
        tracking_key = next((c.case_key for c in cases if c.request == request_key), None)
    workflow = next(
        (c.workflow for c in cases if c.request == request_key or c.case_key == tracking_key),
        None,
    )
    lifecycles: list[Any] = [flows[workflow]] if workflow else list(flows.values())
    out = []
    if request_key:
        names = sorted({lc.resolve_transition for lc in lifecycles})
        out.append(("request", request_key, "lifecycle.resolve_transition", names))
    if tracking_key:
        names = sorted({lc.tracking_done_transition for lc in lifecycles})
        out.append(("tracking issue", tracking_key, "lifecycle.tracking_done_transition", names))
    return out
