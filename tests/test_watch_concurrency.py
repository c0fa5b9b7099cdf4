"""Two expiry watchers scanning the same store at once act once per step (SQLite, PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.certs.registry import record_certificates
from bot.inbox.claims import claim_step, complete_step, release_step
from bot.plan import CertificateRecord
from bot.watch import ScanResult
from tests.fakejira import FakeJira
from tests.harness import Harness, make_harness
from tests.pgdb import fresh_database

PRACTICES = 40


def register_many(h: Harness, count: int) -> None:
    base = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    record_certificates(
        h.services.store,
        [
            CertificateRecord(
                fingerprint=f"{n:064x}",
                abonneenummer=f"{10000000 + n}",
                not_after=(base + timedelta(days=n % 20)).isoformat(),
                contact=f"qm:practice-{n}" if n % 4 else None,
                environment="production",
            )
            for n in range(count)
        ],
    )


def race(first: Harness, second: Harness, day: date) -> list[ScanResult]:
    """Both watchers scan the same day at the same moment."""
    start = threading.Barrier(2)
    results: list[ScanResult] = []

    def scan(h: Harness) -> None:
        start.wait()
        results.append(h.services.watch.scan(day))

    threads = [threading.Thread(target=scan, args=(h,)) for h in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def check_once(fake: FakeJira, first: Harness, second: Harness) -> None:
    for n in range(PRACTICES):
        if n % 4:
            fake.add_customer(f"qm:practice-{n}", f"praktijk{n}@example.nl")
    register_many(first, PRACTICES)
    opened = race(first, second, date(2027, 1, 1))  # 59..78 days: 60 crossed for some
    later = race(first, second, date(2027, 2, 10))  # every one crossed 35, 28, 21
    for results in (opened, later):
        assert sum(r.failed for r in results) == 0, [r.lines for r in results]
    raised = sum(r.raised + r.tracking for r in opened + later)
    assert raised == PRACTICES
    reminders = sum(r.reminders for r in later)
    summaries = Counter(i.fields["summary"] for i in fake.issues.values())
    assert max(summaries.values()) == 1  # no request or tracking issue twice
    posted = Counter(
        (c.issue_key, c.body) for i in fake.issues.values() for c in fake.comments(i.key)
    )
    assert max(posted.values(), default=1) == 1
    assert reminders == sum(1 for r in opened for line in r.lines if ": open ->" in line)
    again = race(first, second, date(2027, 2, 10))
    assert sum(r.wrote() for r in again) == 0


def test_two_watchers_on_sqlite_act_once(fake_jira: FakeJira, tmp_path: Path) -> None:
    first = make_harness(fake_jira, tmp_path)
    second = make_harness(fake_jira, tmp_path)
    check_once(fake_jira, first, second)


def test_two_watchers_on_postgres_act_once(fake_jira: FakeJira, tmp_path: Path) -> None:
    with fresh_database() as url:
        first = make_harness(fake_jira, tmp_path, database_url=url)
        second = make_harness(fake_jira, tmp_path, database_url=url)
        check_once(fake_jira, first, second)
        first.services.store.close()
        second.services.store.close()


def test_a_claim_left_by_a_dead_process_is_taken_over_only_when_stale(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    store = h.services.store
    assert claim_step(store, "watch:1:f:open", "a", stale_after=900)
    assert not claim_step(store, "watch:1:f:open", "b", stale_after=900)
    h.clock.now += 901
    assert claim_step(store, "watch:1:f:open", "b", stale_after=900)
    complete_step(store, "watch:1:f:open", "b", {"key": "UZO-1"})
    h.clock.now += 10_000
    assert not claim_step(store, "watch:1:f:open", "c", stale_after=900)  # done stays done
    assert claim_step(store, "watch:1:f:remind-35", "c", stale_after=900)
    release_step(store, "watch:1:f:remind-35", "c")
    assert claim_step(store, "watch:1:f:remind-35", "d", stale_after=900)


@pytest.mark.parametrize("count", [2])
def test_cli_watch_once_prints_the_scan_and_exits_0(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    import io

    from bot.cli.main import main
    from tests.test_certs_cli import use_settings

    h = make_harness(fake_jira, tmp_path)
    use_settings(monkeypatch, fake_jira, h.settings.database_url)
    fake_jira.add_customer("qm:practice-1", "p1@example.nl")
    register_many(h, count)
    out = io.StringIO()
    assert main(["watch", "--once", "--today", "2027-01-01"], out=out) == 0
    text = out.getvalue()
    assert "expiry scan 2027-01-01: 2 watched, 1 requests raised, " in text
    assert "1 agents-only issues, 0 reminders" in text
    out = io.StringIO()
    assert main(["watch", "--once", "--today", "2027-01-01"], out=out) == 0
    assert "2 watched, 0 requests raised, 0 adopted, 0 agents-only issues, 0 reminders" in (
        out.getvalue()
    )
