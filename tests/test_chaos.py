"""Chaos: duplicates, re-deliveries, 429/503, lost responses and crashed workers; exactly once.

Bounded (a few seconds per store): requests are posted in waves while a worker processes
them; the fake Jira answers 10% of calls with 429 or 503 and loses 5% of responses after
applying the request; the worker "dies" at random effects and a new one (a fresh process's
services on the same database) takes over after the lease. At the end every request has
exactly one case, its sub-tasks once each and one public and one internal comment.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.faults import Fault
from tests.fakejira import FakeJira
from tests.harness import Harness, load_fixture, make_harness, with_key
from tests.pgdb import fresh_database
from tests.test_engine import jira_state

REQUESTS = 40
FIXTURES = {  # fixture -> number of sub-tasks its case gets
    "practice_change-abonneenummer-promedico": 4,
    "practice_change-contract_holder-omnihis": 3,
}


class Crash(BaseException):
    """The worker process dying mid-effect (nothing in the worker catches a BaseException)."""


class FaultyJira:
    """Before each Jira call, draws whether it fails: 429/503 (not applied) or lost response."""

    def __init__(self, fake: FakeJira, rng: random.Random) -> None:
        self.fake = fake
        self.rng = rng
        self.injected: Counter[str] = Counter()
        self._handle = fake.sandbox.handle
        fake.sandbox.handle = self.handle  # type: ignore[method-assign]

    def handle(self, method: str, url: str, headers: Any, body: bytes | None) -> Any:
        draw = self.rng.random()
        if draw < 0.05:
            self.fake.inject(Fault.rate_limited(retry_after=1))
            self.injected["429"] += 1
        elif draw < 0.10:
            self.fake.inject(Fault.unavailable())
            self.injected["503"] += 1
        elif draw < 0.15:
            self.fake.inject(Fault.lost_response())
            self.injected["lost"] += 1
        return self._handle(method, url, headers, body)


@contextmanager
def _database(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "postgresql":
        with fresh_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'chaos.db'}"


def _crasher(rng: random.Random, crashes: Counter[str]) -> Callable[[str], None]:
    def maybe_die(effect_id: str) -> None:
        if rng.random() < 0.04:
            crashes["worker"] += 1
            raise Crash(effect_id)

    return maybe_die


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_chaos_every_request_gets_exactly_one_case_and_one_of_each_comment(
    fake_jira: FakeJira, tmp_path: Path, kind: str
) -> None:
    rng = random.Random(20261129)
    faults = FaultyJira(fake_jira, rng)
    crashes: Counter[str] = Counter()
    posts: Counter[int] = Counter()
    requests: list[tuple[dict[str, Any], int]] = []
    for i in range(REQUESTS):
        name = list(FIXTURES)[i % len(FIXTURES)]
        payload = with_key(load_fixture(name), f"UZO-{800 + i}", str(40800 + i))
        fake_jira.seed_issue_from_webhook(payload["issue"], attachments={})
        requests.append((payload, FIXTURES[name]))

    with _database(kind, tmp_path) as url:
        h = make_harness(fake_jira, tmp_path, database_url=url, on_effect=_crasher(rng, crashes))
        now = h.clock.now

        def restart(old: Harness) -> Harness:
            """A new process on the same database, after the dead worker's lease ran out."""
            new = make_harness(
                fake_jira, tmp_path, database_url=url, on_effect=_crasher(rng, crashes)
            )
            new.clock.now = old.clock.now + old.settings.lease_seconds + 1
            return new

        def work(h: Harness, steps: int) -> Harness:
            for _ in range(steps):
                try:
                    if h.services.worker.run_once() is None:
                        return h
                except Crash:
                    h = restart(h)
            return h

        # Waves: post, with Jira's retries (same id) and later updates (new id), while the
        # worker runs between the waves.
        for start in range(0, REQUESTS, 10):
            for i in range(start, start + 10):
                payload, _ = requests[i]
                assert h.post(payload, delivery_id=f"chaos-{i}").status_code == 202
                posts["new"] += 1
                if rng.random() < 0.3:
                    assert h.post(payload, delivery_id=f"chaos-{i}").status_code == 200
                    posts["duplicate"] += 1
                if rng.random() < 0.3:
                    assert h.post(payload, delivery_id=f"chaos-{i}-again").status_code == 202
                    posts["redelivery"] += 1
            h = work(h, 15)
        # Let everything finish: retries become due as the clock moves on (bounded).
        for _round in range(200):
            counts = h.services.store.counts()
            if set(counts) <= {"done"}:
                break
            h.clock.now += 6 * 3600
            h = work(h, 50)
        del now

        counts = h.services.store.counts()
        stored = posts["new"] + posts["redelivery"]
        print(
            f"\nchaos on {kind}: {REQUESTS} requests, {sum(posts.values())} posts {dict(posts)}, "
            f"Jira calls {fake_jira.count()}, injected {dict(faults.injected)}, "
            f"worker crashes {crashes['worker']}, deliveries {counts}"
        )
        assert counts == {"done": stored}, counts
        assert crashes["worker"] > 0 and faults.injected["lost"] > 0
        for payload, subtasks in requests:
            key = payload["issue"]["key"]
            state = jira_state(fake_jira, key)
            assert (state["tracking"], state["public"], state["internal"]) == (1, 1, 1), (
                key,
                state,
            )
            assert len(state["subtasks"]) == subtasks == len(set(state["subtasks"])), state
        if kind == "postgresql":
            h.services.store.close()
