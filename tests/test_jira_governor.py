"""The Jira write governor: shared rate, per-issue spacing, 429 pauses across threads and DBs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from bot.inbox.db import open_store
from bot.inbox.pause import DatabasePauseBoard
from bot.jira.errors import JiraRetryable
from bot.jira.gateway import JiraGateway
from bot.jira.governor import Throttled, WriteGovernor, issue_of
from bot.jira.retry import RetryPolicy, within_budget
from tests.pgdb import fresh_database

URL = "https://example.atlassian.net"
COMMENT = f"{URL}/rest/api/3/issue/UZO-1/comment"


class FakeTime:
    """A clock that only moves when someone sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def governor(t: FakeTime, rate: float = 10.0, spacing: float = 0.0, **kw: object) -> WriteGovernor:
    return WriteGovernor(
        rate,
        issue_spacing=spacing,
        clock=t.clock,
        wall=t.clock,
        sleep=t.sleep,
        **kw,  # type: ignore[arg-type]
    )


def test_writes_are_paced_at_the_rate_and_reads_are_not() -> None:
    t = FakeTime()
    g = governor(t, rate=10.0)
    for n in range(3):
        g.acquire("POST", f"rest/api/3/issue/UZO-{n}/comment")
    g.acquire("GET", "rest/api/3/issue/UZO-9")
    assert t.sleeps == [0.1, 0.1]  # first write at once, then one per 0.1 s; the GET waits not
    assert t.now == pytest.approx(1000.2)


def test_an_idle_bucket_does_not_save_up_a_burst() -> None:
    t = FakeTime()
    g = governor(t, rate=10.0)
    g.acquire("POST", "rest/api/3/issue")
    t.now += 5.0
    g.acquire("PUT", "rest/api/3/issue/UZO-1")
    g.acquire("PUT", "rest/api/3/issue/UZO-2")
    assert t.sleeps == [0.1]


def test_a_burst_allows_that_many_writes_at_once() -> None:
    t = FakeTime()
    g = governor(t, rate=10.0, burst=3.0)
    for _ in range(4):
        g.acquire("POST", "rest/api/3/issue")
    assert t.sleeps == [0.1]


def test_writes_to_one_issue_are_spaced_others_go_at_the_rate() -> None:
    t = FakeTime()
    g = governor(t, rate=100.0, spacing=0.5)
    g.acquire("POST", "rest/api/3/issue/UZO-1/comment")
    g.acquire("POST", "rest/api/3/issue/UZO-2/comment")  # another issue: only the rate
    g.acquire("PUT", "rest/api/3/issue/uzo-1/properties/uzibot")  # same issue: 0.5 s after
    assert t.sleeps == [0.01, 0.49]


def test_issue_of_reads_rest_and_servicedesk_paths() -> None:
    assert issue_of("rest/api/3/issue/UZO-12/transitions") == "UZO-12"
    assert issue_of("rest/servicedeskapi/request/UZO-3/comment") == "UZO-3"
    assert issue_of("rest/api/3/issue/10042") == "10042"
    assert issue_of("rest/api/3/issue") is None
    assert issue_of("rest/api/3/issueLink") is None


def test_a_wait_longer_than_the_budget_hands_back_without_taking_a_slot() -> None:
    t = FakeTime()
    g = governor(t, rate=1.0)
    g.acquire("POST", "rest/api/3/issue")
    with pytest.raises(Throttled) as caught:
        g.acquire("POST", "rest/api/3/issue", budget=lambda: 0.5)
    assert isinstance(caught.value, JiraRetryable)
    assert caught.value.retry_after == pytest.approx(1.0)
    assert t.sleeps == []
    g.acquire("POST", "rest/api/3/issue", budget=lambda: 5.0)  # the slot was not taken
    assert t.sleeps == [1.0]


def test_a_pause_delays_every_other_thread_but_not_the_one_that_saw_the_429() -> None:
    t = FakeTime()
    g = governor(t, rate=100.0)
    seen: list[float] = []

    def other_thread() -> None:
        g.acquire("GET", "rest/api/3/issue/UZO-2")  # reads go on during a pause
        assert t.sleeps == []
        g.acquire("POST", "rest/api/3/issue/UZO-2/comment")
        seen.append(t.now)

    g.pause(7.0)  # this thread got the 429; its retry policy waits for it
    g.acquire("POST", COMMENT)
    assert t.sleeps == []
    other = threading.Thread(target=other_thread)
    other.start()
    other.join()
    assert t.sleeps == [7.0]
    assert seen == [pytest.approx(1007.0)]


def test_a_pause_beyond_the_budget_hands_back() -> None:
    t = FakeTime()
    g = governor(t)
    g.pause(30.0)
    outcome: list[BaseException] = []

    def other_thread() -> None:
        try:
            g.acquire("POST", COMMENT, budget=lambda: 10.0)
        except Throttled as exc:
            outcome.append(exc)

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert [exc.retry_after for exc in outcome] == [pytest.approx(30.0)]  # type: ignore[attr-defined]
    assert t.sleeps == []


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_a_429_seen_by_one_worker_thread_delays_the_next_write_of_another(
    rsps: responses.RequestsMock,
) -> None:
    """Real threads, real clock, the real HTTP layer: thread A gets 429 Retry-After 1 and
    hands back (no retries); thread B's write, sent right after, waits for the pause."""
    g = WriteGovernor(100.0)
    policy = RetryPolicy(max_attempts=1)
    gateway = JiraGateway(URL, "bot@example.org", "token-123", retry=policy, governor=g)
    rsps.add(responses.POST, COMMENT, status=429, headers={"Retry-After": "1"}, json={})
    rsps.add(responses.POST, f"{URL}/rest/api/3/issue/UZO-2/comment", status=201, json={"id": 1})
    sent_at: dict[str, float] = {}

    def thread_a() -> None:
        with pytest.raises(JiraRetryable):
            gateway._http.call("POST", "rest/api/3/issue/UZO-1/comment", body={})
        sent_at["a"] = time.monotonic()

    def thread_b() -> None:
        gateway._http.call("POST", "rest/api/3/issue/UZO-2/comment", body={})
        sent_at["b"] = time.monotonic()

    a = threading.Thread(target=thread_a)
    a.start()
    a.join()
    b = threading.Thread(target=thread_b)
    b.start()
    b.join()
    assert sent_at["b"] - sent_at["a"] >= 0.9
    assert g.paused_for() == 0.0


def test_within_the_lease_budget_a_long_pause_is_handed_back(
    rsps: responses.RequestsMock,
) -> None:
    g = WriteGovernor(100.0)
    gateway = JiraGateway(URL, "bot@example.org", "token-123", governor=g)
    g.pause(120.0)
    rsps.add(responses.POST, COMMENT, status=201, json={"id": 1})
    outcome: list[BaseException] = []

    def worker_thread() -> None:
        with within_budget(lambda: 60.0):
            try:
                gateway._http.call("POST", "rest/api/3/issue/UZO-1/comment", body={})
            except JiraRetryable as exc:
                outcome.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=worker_thread)
    thread.start()
    thread.join()
    assert time.monotonic() - started < 1.0
    assert len(outcome) == 1 and outcome[0].retry_after == pytest.approx(120.0, abs=1.0)
    assert len(rsps.calls) == 0


def _shared_pause_across_processes(database_url: str) -> None:
    store = open_store(database_url)
    try:
        board = DatabasePauseBoard(store.engine)
        t = FakeTime()
        first = governor(t, board=board)  # one process sees the 429 ...
        second = governor(t, board=board)  # ... another process has its own governor
        assert board.read_pause() == 0.0
        first.pause(20.0)
        first.pause(5.0)  # a shorter pause never shortens the shared one
        assert board.read_pause() == pytest.approx(1020.0)
        second.acquire("POST", COMMENT)
        assert t.sleeps == [pytest.approx(20.0)]
    finally:
        store.close()


def test_a_pause_is_shared_through_sqlite(tmp_path: Path) -> None:
    _shared_pause_across_processes(f"sqlite:///{tmp_path / 'pause.db'}")


def test_a_pause_is_shared_through_postgresql() -> None:
    with fresh_database() as url:
        _shared_pause_across_processes(url)


def test_every_wait_reaches_the_metric_before_it_is_slept(tmp_path: Path) -> None:
    """`uzibot_jira_governor_wait_seconds` counts the seconds the governor held calls back."""
    from prometheus_client.parser import text_string_to_metric_families

    from bot.metrics import create_metrics

    t = FakeTime()
    metrics = create_metrics()
    told: list[float] = []

    def on_wait(seconds: float) -> None:
        told.append(round(seconds, 6))
        assert len(told) == len(t.sleeps) + 1  # told first, then slept
        metrics.jira_governor_wait.inc(seconds)

    g = governor(t, rate=10.0, spacing=0.5, on_wait=on_wait)
    g.acquire("POST", "rest/api/3/issue/UZO-1/comment")  # at once: nothing to tell
    g.acquire("POST", "rest/api/3/issue/UZO-2/comment")  # the rate: 0.1 s
    g.acquire("POST", "rest/api/3/issue/UZO-1/comment")  # UZO-1's spacing: 0.5 s after it
    g.acquire("GET", "rest/api/3/issue/UZO-1")  # reads never wait
    assert told == t.sleeps == [0.1, 0.4]
    [family] = [
        f
        for f in text_string_to_metric_families(metrics.render().decode())
        if f.name == "uzibot_jira_governor_wait_seconds"
    ]
    assert family.samples[0].value == pytest.approx(0.5)
