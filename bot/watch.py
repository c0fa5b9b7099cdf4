"""The expiry watch scan and its scheduler: each due step claimed, applied once, journalled.

`ExpiryWatch.scan(today)` reads the registry's current production certificates and the watch
journal (two queries), asks handlers/expiry.py which steps are due, and for each step first
claims its journal id (`watch:<abonneenummer>:<fingerprint>:<step>`): only the process that
wins the claim acts, a step done stays done, and a step whose effect failed is released so a
later scan tries again. `Scheduler` runs the scan in a daemon thread (serve and worker).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.certs.registry import RegisteredCertificate, certificates_by_fingerprint
from bot.certs.registry import current_certificates as registry_current
from bot.facts import resolve_field_ids
from bot.inbox.cases import CaseIndex
from bot.inbox.claims import claim_step, complete_step, release_step, steps_with_prefix
from bot.inbox.store import Store
from bot.jira.errors import JiraError
from bot.jira.gateway import JiraGateway, RequestRaiser
from bot.mappings import Mappings
from bot.metrics import Metrics
from bot.plan import Plan, RequestSpec
from bot.reconciler import Reconciler
from handlers.expiry import (
    CaseState,
    Step,
    Watched,
    crossed,
    due_steps,
    newer_step,
    step_id,
)

log = logging.getLogger("uzibot.watch")
PREFIX = "watch:"
BUCKETS = ((0, "expired"), (8, "0-7"), (22, "8-21"), (36, "22-35"), (61, "36-60"))


@dataclass(frozen=True)
class WatchConfig:
    """What the scan needs from settings."""

    thresholds: tuple[int, ...]
    request_type: str = ""
    """The renewal request type, by id or name (EXPIRY_REQUEST_TYPE); empty: the one the
    mappings give the renewal workflow, read at each scan so the start-up resolution against
    the site (ids by name) is what the watch raises with."""
    stale_after: float = 900.0
    """A claim older than this (seconds) was left by a dead process and may be taken over."""


@dataclass
class ScanResult:
    """What one scan did, for the CLI, the logs and the tests."""

    watched: int = 0
    raised: int = 0
    adopted: int = 0
    """Open renewal requests the practice had raised itself, taken as the case."""
    tracking: int = 0
    reminders: int = 0
    priorities: int = 0
    newer: int = 0
    closed: int = 0
    held_elsewhere: int = 0
    failed: int = 0
    lines: list[str] = field(default_factory=list)

    def wrote(self) -> int:
        """Steps that changed Jira in this scan."""
        return self.raised + self.tracking + self.reminders + self.priorities + self.newer


@dataclass
class ExpiryWatch:
    """One per process; `scan` is safe to run in several processes at once."""

    store: Store
    gateway: JiraGateway
    reconciler: Reconciler
    mappings: Mappings
    config: WatchConfig
    metrics: Metrics | None = None
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:watch")
    raiser: RequestRaiser | None = None
    """Finds open renewal requests a practice raised itself (adopted instead of a new one)."""
    _field_ids: dict[str, str] | None = None
    _today: date = date.min
    _open_requests: dict[str, str] | None = None
    _own_keys: frozenset[str] = frozenset()
    """Cases the watch opened for other certificates: never adopted for a newer one."""

    def request_type(self) -> str:
        """The renewal request type (id or name) the watch raises with and looks among."""
        return self.config.request_type or self.mappings.renewal_request_type()

    def scan(
        self, today: date, *, on_progress: Callable[[int, int], None] | None = None
    ) -> ScanResult:
        """Do every step due today (and nothing already done); never raises for one failure.

        `on_progress(done, total)` is called after each watched certificate (a CLI's bar).
        """
        result = ScanResult()
        self._today = today
        self._open_requests = None  # read again, once, by the first `open` step of this scan
        current = [w for w in (watched_of(c) for c in registry_current(self.store)) if w]
        result.watched = len(current)
        self._observe_buckets(current, today)
        cases = case_states(steps_with_prefix(self.store, PREFIX))
        self._own_keys = frozenset(c.key for c in cases.values() if c.key)
        by_number = {w.abonneenummer: w for w in current}
        for done, cert in enumerate(current, start=1):
            self._advance(
                cert, cases.get((cert.abonneenummer, cert.fingerprint), CaseState()), result
            )
            if on_progress is not None:
                on_progress(done, len(current))
        self._notice_newer(cases, by_number, result)
        return result

    def _advance(self, cert: Watched, case: CaseState, result: ScanResult) -> None:
        """Take the steps due today; after opening a case, those due on the same day too."""
        rounds = 0
        while rounds < 2:
            rounds += 1
            steps = due_steps(cert, case, self._today, self.config.thresholds, self.request_type())
            if case.key is not None and steps and self._closed(cert, case, result):
                return
            for step in steps:
                after = self._run(cert, case, step, result)
                if after is None:
                    return
                case = after
            if not any(step.name == "open" for step in steps):
                return

    def _closed(self, cert: Watched, case: CaseState, result: ScanResult) -> bool:
        """A case resolved in Jira gets nothing more; journal that once (`closed`)."""
        assert case.key is not None
        try:
            closed = self.gateway.is_closed(case.key)
        except JiraError as exc:
            result.failed += 1
            result.lines.append(f"{cert.abonneenummer}: could not read {case.key}: {exc}")
            return True
        if closed:
            self._run(cert, case, Step("closed"), result)
        return closed

    # -- one step ---------------------------------------------------------------------------
    def _run(
        self, cert: Watched, case: CaseState, step: Step, result: ScanResult
    ) -> CaseState | None:
        """Claim, apply, journal one step; the case state after it (None: stop this cert)."""
        sid = step_id(cert, step.name)
        if not claim_step(self.store, sid, self.owner, stale_after=self.config.stale_after):
            result.held_elsewhere += 1
            return None
        try:
            outcome = self._apply(cert, case, step)
        except (JiraError, OSError) as exc:
            release_step(self.store, sid, self.owner)
            result.failed += 1
            result.lines.append(f"{cert.abonneenummer}: {step.name} failed: {exc}")
            log.warning("watch step %s failed: %s", sid, exc)
            return None
        complete_step(self.store, sid, self.owner, outcome)
        self._count(step, outcome, result)
        result.lines.append(
            f"{cert.abonneenummer}: {step.name} -> {outcome.get('key') or case.key or '-'}"
        )
        if step.name == "open":
            return CaseState(
                key=str(outcome["key"]),
                kind=str(outcome["kind"]),
                opened_at=int(str(outcome["threshold"])),
                steps=case.steps | {"open"},
            )
        return CaseState(case.key, case.kind, case.opened_at, case.steps | {step.name})

    def _apply(self, cert: Watched, case: CaseState, step: Step) -> dict[str, object]:
        if step.name == "open":
            assert step.plan is not None
            threshold = crossed(cert, self._today, self.config.thresholds)
            plan = self._with_field_ids(step.plan)
            spec = plan.requests[0]
            if not self._raised_before(spec):
                existing = self._open_request_of(cert.abonneenummer)
                if existing is not None:
                    return {
                        "key": existing,
                        "kind": "request",
                        "threshold": threshold,
                        "adopted": True,
                    }
            self.reconciler.apply(plan, f"watch:{cert.abonneenummer}")
            journal = self.store.effect(f"request:{spec.slug}")
            raised = json.loads(journal[1] or "{}") if journal else {}
            if journal is None or journal[0] != "done" or not raised.get("key"):
                raise JiraError(0, f"request {spec.slug} was not raised")
            if raised["kind"] == "request":
                self._hand_to_worker(str(raised["key"]))
            return {"key": raised["key"], "kind": raised["kind"], "threshold": threshold}
        assert case.key is not None
        if step.name == "closed":
            return {"key": case.key, "closed": True}
        if step.priority:
            self.gateway.set_priority(case.key, step.priority)
            return {"key": case.key, "priority": step.priority}
        if step.plan is not None:
            self.reconciler.apply(step.plan, f"watch:{cert.abonneenummer}")
            return {"key": case.key}
        assert step.note is not None
        return {"key": case.key, "comment": self.gateway.note_on_issue(case.key, step.note)}

    def _raised_before(self, spec: RequestSpec) -> bool:
        """Whether an earlier attempt at this request may have raised it: journalled done (a
        crash before the step completed), or an intent whose request Jira has (a lost answer,
        a crash before the journal). Such a request is the bot's own, for the reconciler to
        settle, not one the practice opened. (The reconciler asks Jira once more: this rare
        path lists the open requests of the type twice.)"""
        journal = self.store.effect(f"request:{spec.slug}")
        if journal is None:
            return False
        if journal[0] == "done":
            return True
        return self.raiser is not None and self.raiser.find_raised(spec) is not None

    def _open_request_of(self, abonneenummer: str) -> str | None:
        """An open renewal request for this abonneenummer that the practice raised itself."""
        if self._open_requests is None:
            field = self._ids().get(self.mappings.fields.abonneenummer)
            self._open_requests = (
                self.raiser.open_requests_by_field(self.request_type(), field, self._own_keys)
                if self.raiser is not None and field
                else {}
            )
        found = self._open_requests.get(abonneenummer)
        if found is not None:
            return found
        # A renewal the practice asked for in another request type (recognised by its words):
        # the case index knows it; it counts while its request is still open.
        for case in CaseIndex(self.store).cases_for(abonneenummer, None):
            if (
                case.workflow == "renewal"
                and case.request_key not in self._own_keys
                and not self.gateway.is_closed(case.request_key)
            ):
                return case.request_key
        return None

    def _ids(self) -> dict[str, str]:
        if self._field_ids is None:
            self._field_ids = resolve_field_ids(self.mappings, self.gateway)
        return self._field_ids

    def _hand_to_worker(self, key: str) -> None:
        """The request's own webhook is the bot's echo: queue it like an Automation re-read."""
        body = json.dumps({"issue": {"key": key}, "event": "jira:issue_created"}).encode()
        self.store.add_delivery(
            f"watch-raised:{key}", "automation", "jira:issue_created", key, body
        )

    def _with_field_ids(self, plan: Plan) -> Plan:
        """Request fields named logically (abonneenummer, practice_name) -> the site's ids."""
        ids = self._ids()
        names = {
            "abonneenummer": self.mappings.fields.abonneenummer,
            "practice_name": self.mappings.fields.practice_name,
        }
        specs: list[RequestSpec] = []
        for spec in plan.requests:
            fields = {
                ids[names[k]]: v for k, v in spec.fields.items() if k in names and names[k] in ids
            }
            specs.append(spec.model_copy(update={"fields": fields}))
        return plan.model_copy(update={"requests": tuple(specs)})

    def _notice_newer(
        self,
        cases: dict[tuple[str, str], CaseState],
        current: dict[str, Watched],
        result: ScanResult,
    ) -> None:
        """A case opened for a certificate that is no longer current hears about the newer one."""
        pending = {
            fp: (number, case)
            for (number, fp), case in cases.items()
            if case.key
            and "newer" not in case.steps
            and number in current
            and current[number].fingerprint != fp
        }
        old_rows = certificates_by_fingerprint(self.store, pending)
        for fp, (number, case) in pending.items():
            old = watched_of(old_rows[fp]) if fp in old_rows else None
            newer = current[number]
            if old is None or newer.not_after <= old.not_after:
                continue
            step = newer_step(old, case, newer)
            if step is not None:
                self._run(old, case, step, result)

    def _count(self, step: Step, outcome: dict[str, object], result: ScanResult) -> None:
        kind = step.name.split("-", 1)[0]
        if step.name == "open":
            if outcome.get("adopted"):
                result.adopted += 1
            elif outcome.get("kind") == "request":
                result.raised += 1
            else:
                result.tracking += 1
            kind = "adopt" if outcome.get("adopted") else f"open-{outcome.get('kind')}"
        elif kind == "remind":
            result.reminders += 1
        elif kind == "priority":
            result.priorities += 1
        elif kind == "newer":
            result.newer += 1
        elif kind == "closed":
            result.closed += 1
        if self.metrics is not None:
            self.metrics.watch_steps.labels(kind=kind).inc()

    def _observe_buckets(self, current: Sequence[Watched], today: date) -> None:
        if self.metrics is None:
            return
        counts = dict.fromkeys([name for _, name in BUCKETS] + ["over-60"], 0)
        for cert in current:
            counts[bucket_of((cert.deactivation - today).days)] += 1
        for name, count in counts.items():
            self.metrics.certificates.labels(days_to_switch_off=name).set(count)


def bucket_of(days: int) -> str:
    """The days-to-switch-off bucket a certificate is counted in."""
    for upper, name in BUCKETS:
        if days < upper:
            return name
    return "over-60"


def watched_of(row: RegisteredCertificate) -> Watched | None:
    """A registry row as a watched certificate; None for test certificates or without expiry."""
    if row.environment == "test" or not row.not_after:
        return None
    try:
        not_after = datetime.fromisoformat(row.not_after)
    except ValueError:
        return None
    return Watched(
        abonneenummer=row.abonneenummer,
        fingerprint=row.fingerprint,
        not_after=not_after,
        practice=row.practice,
        vendor=row.vendor,
        contact=row.contact,
    )


def case_states(
    journal: dict[str, tuple[str, dict[str, object]]],
) -> dict[tuple[str, str], CaseState]:
    """The case of each (abonneenummer, fingerprint) from the watch journal."""
    steps: dict[tuple[str, str], set[str]] = {}
    opened: dict[tuple[str, str], dict[str, object]] = {}
    for sid, (state, result) in journal.items():
        parts = sid.split(":")
        if len(parts) != 4:
            continue
        key = (parts[1], parts[2])
        steps.setdefault(key, set()).add(parts[3])
        if parts[3] == "open" and state == "done":
            opened[key] = result
    out = {}
    for key, names in steps.items():
        found = opened.get(key, {})
        out[key] = CaseState(
            key=str(found["key"]) if found.get("key") else None,
            kind=str(found["kind"]) if found.get("kind") else None,
            opened_at=int(str(found["threshold"])) if found.get("threshold") is not None else None,
            steps=frozenset(names),
        )
    return out


class Scheduler:
    """Runs the expiry scan now and then every `interval` seconds in a daemon thread."""

    def __init__(
        self,
        scan: Callable[[date], ScanResult],
        today: Callable[[], date],
        interval: float,
    ) -> None:
        self.scan = scan
        self.today = today
        self.interval = interval
        self._thread: threading.Thread | None = None

    def start(self, stop: threading.Event) -> None:
        """Start the thread (no-op when the interval is 0, i.e. the watch is switched off)."""
        if self.interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._loop, args=(stop,), name="uzibot-watch", daemon=True
        )
        self._thread.start()

    def _loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                found = self.scan(self.today())
                if found.wrote() or found.failed:
                    log.info(
                        "expiry scan: %d watched, %d raised, %d tracking, %d reminders, "
                        "%d priorities, %d newer, %d failed",
                        found.watched,
                        found.raised,
                        found.tracking,
                        found.reminders,
                        found.priorities,
                        found.newer,
                        found.failed,
                    )
            except Exception:
                log.exception("expiry scan failed")
            stop.wait(self.interval)

    def join(self, timeout: float) -> None:
        """Wait for the thread after `stop` was set."""
        if self._thread is not None:
            self._thread.join(timeout)
