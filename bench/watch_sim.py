"""A simulated calendar for the expiry watch: N certificates, years of daily scans, an outage,
two watchers scanning at once, renewals; compares what Jira received with an independent model.

Used by tests/test_watch_simulation.py (small N) and bench/bench_watch.py (N=2,000).
"""

from __future__ import annotations

import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import requests

from bot.certs.registry import record_certificates
from bot.inbox.claims import steps_with_prefix
from bot.plan import CertificateRecord
from bot.sandbox.site import JiraSandbox
from bot.settings import load_settings
from bot.watch import PREFIX, case_states
from bot.wiring import Services, build_services
from handlers.expiry import DEFAULT_THRESHOLDS, Watched, crossed

START = date(2027, 1, 1)


@dataclass
class SimResult:
    """What happened, and every difference from the model (empty: exactly as expected)."""

    certificates: int
    days: int
    scans: int
    raised: int = 0
    reminders: int = 0
    priorities: int = 0
    newer: int = 0
    catch_up_reminders: int = 0
    catch_up_certificates: int = 0
    catch_up_skipped: int = 0
    """Certificates that crossed two or more thresholds during the outage (one reminder each)."""
    seconds_scanning: float = 0.0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SimCert:
    """One simulated certificate; `renew_on` is the day a newer one is recorded (or None)."""

    number: str
    fingerprint: str
    expires: datetime
    renew_on: date | None
    recorded_on: date = START

    def watched(self) -> Watched:
        return Watched(self.number, self.fingerprint, self.expires)


def make_certs(count: int, days: int) -> list[SimCert]:
    """Expiries spread over the simulated period; every third one is renewed 30 days ahead."""
    out = []
    for n in range(count):
        offset = 40 + (n * (days - 40)) // max(count, 1)
        expires = datetime.combine(START + timedelta(days=offset), time(9, 0), tzinfo=UTC)
        renew_on = expires.date() - timedelta(days=30) if n % 3 == 0 else None
        out.append(SimCert(f"{20000000 + n}", f"{n:064x}", expires, renew_on))
    return out


def simulate(
    count: int,
    *,
    years: int = 3,
    outage: tuple[int, int] | None = (400, 10),
    watchers: int = 2,
    workdir: Path | None = None,
) -> SimResult:
    """Run the calendar; `outage` = (first day without scans, number of days)."""
    days = 365 * years
    certs = make_certs(count, days)
    sandbox = JiraSandbox()
    for cert in certs:
        sandbox.add_customer(f"qm:{cert.number}", f"{cert.number}@example.nl")
    folder = workdir or Path(tempfile.mkdtemp(prefix="uzibot-sim-"))
    today = [START]
    services = [_services(sandbox, folder, today) for _ in range(watchers)]
    store = services[0].store
    record_certificates(store, [_record(c.number, c.fingerprint, c.expires) for c in certs])
    renewals: dict[date, list[SimCert]] = {}
    for cert in certs:
        if cert.renew_on is not None:
            renewals.setdefault(cert.renew_on, []).append(cert)
    skipped = set(range(outage[0], outage[0] + outage[1])) if outage else set()
    scan_days: list[date] = []
    result = SimResult(count, days, 0)
    first_after_outage = START + timedelta(days=outage[0] + outage[1]) if outage else None
    newer_certs: list[SimCert] = []
    for offset in range(days):
        day = START + timedelta(days=offset)
        today[0] = day
        for cert in renewals.get(day, ()):
            newer = SimCert(
                cert.number,
                "f" + cert.fingerprint[1:],
                cert.expires + timedelta(days=1095),
                None,
                day,
            )
            newer_certs.append(newer)
            record_certificates(store, [_record(newer.number, newer.fingerprint, newer.expires)])
        if offset in skipped:
            continue
        scan_days.append(day)
        started = datetime.now(UTC)
        found = _scan_together(services, day)
        result.seconds_scanning += (datetime.now(UTC) - started).total_seconds()
        result.scans += len(services)
        for one in found:
            result.raised += one.raised + one.tracking
            result.reminders += one.reminders
            result.priorities += one.priorities
            result.newer += one.newer
            if one.failed:
                result.problems += one.lines
            if day == first_after_outage:
                result.catch_up_reminders += one.reminders
    keys = {
        fingerprint: case.key
        for (_, fingerprint), case in case_states(steps_with_prefix(store, PREFIX)).items()
        if case.key
    }
    _compare(result, sandbox, keys, certs + newer_certs, scan_days, first_after_outage)
    for one in services:
        one.store.close()
    return result


def _scan_together(services: list[Services], day: date) -> list:  # type: ignore[type-arg]
    results: list = []  # type: ignore[type-arg]
    barrier = threading.Barrier(len(services))

    def run(one: Services) -> None:
        barrier.wait()
        results.append(one.watch.scan(day))

    threads = [threading.Thread(target=run, args=(one,)) for one in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _compare(
    result: SimResult,
    sandbox: JiraSandbox,
    keys: dict[str, str],
    certs: list[SimCert],
    scan_days: list[date],
    first_after_outage: date | None,
) -> None:
    """The model: per certificate, the distinct thresholds seen on scan days before renewal."""
    per_number = Counter(i.reporter_id for i in sandbox.issues.values())
    for cert in certs:
        watched = cert.watched()
        seen: list[int] = []
        late = False
        for day in scan_days:
            if day < cert.recorded_on:
                continue
            if cert.renew_on is not None and day >= cert.renew_on:
                break
            hit = crossed(watched, day, DEFAULT_THRESHOLDS)
            if hit is not None and (not seen or hit < seen[-1]):
                if first_after_outage == day and seen:
                    result.catch_up_certificates += 1
                    passed = [t for t in DEFAULT_THRESHOLDS if hit <= t < seen[-1]]
                    result.catch_up_skipped += len(passed) >= 2
                seen.append(hit)
            if hit is not None and day > watched.latest_start:
                late = True
        key = keys.get(cert.fingerprint)
        if (key is not None) != bool(seen):
            result.problems.append(f"{cert.fingerprint[:8]}: case {key}, thresholds seen {seen}")
            continue
        if key is None:
            continue
        if sandbox.issue(key).reporter_id != f"qm:{cert.number}":
            result.problems.append(f"{key}: not raised on behalf of qm:{cert.number}")
        comments = sandbox.comments(key, public=True)
        bodies = Counter(c.body for c in comments)
        if bodies and max(bodies.values()) > 1:
            result.problems.append(f"{cert.number}: a comment was posted twice")
        reminders = sum(1 for c in comments if "Een herinnering" in c.body)
        if reminders != len(seen) - 1:
            result.problems.append(
                f"{cert.number}: {reminders} reminders, expected {len(seen) - 1}"
            )
        notices = sum(1 for c in comments if "In onze gegevens staat nu een nieuw UZI" in c.body)
        renewed = cert.renew_on is not None and cert.renew_on <= scan_days[-1]
        if notices != (1 if renewed else 0):
            result.problems.append(f"{cert.number}: {notices} newer-certificate notices")
        raised = sandbox.issue(key).fields.get("priority") == "Highest"
        if raised != late:
            result.problems.append(f"{cert.number}: priority raised {raised}, expected {late}")
    expected = Counter(f"qm:{c.number}" for c in certs if keys.get(c.fingerprint))
    for reporter, count in expected.items():
        if per_number[reporter] != count:
            result.problems.append(f"{reporter}: {per_number[reporter]} requests, expected {count}")


def _record(number: str, fingerprint: str, expires: datetime) -> CertificateRecord:
    return CertificateRecord(
        fingerprint=fingerprint,
        abonneenummer=number,
        not_after=expires.isoformat(),
        practice=f"Praktijk {number}",
        vendor="CGM Huisarts",
        contact=f"qm:{number}",
        environment="production",
    )


def _services(sandbox: JiraSandbox, folder: Path, today: list[date]) -> Services:
    settings = load_settings(
        {
            "JIRA_URL": sandbox.base_url,
            "JIRA_USER": "uzibot@example.com",
            "JIRA_API_TOKEN": "api-token-for-sim",
            "WEBHOOK_SECRET": "sim-secret-value",
            "SERVICE_DESK_PROJECT": "UZO",
            "DATABASE_URL": f"sqlite:///{folder / 'sim.db'}",
        },
        env_file=None,
    )
    session = sandbox.mount(requests.Session())
    return build_services(settings, session=session, today=lambda: today[0])
