"""Leases that cannot double-post: takeover mid-processing, fenced journal writes, wait budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.inbox.store import Store
from bot.inbox.worker import Worker
from bot.sandbox.faults import Fault
from tests.fakejira import FakeJira
from tests.harness import load_fixture, make_harness
from tests.test_engine import FIXTURE, assert_one_complete_case, jira_state


@pytest.mark.parametrize("a_clock", ["stalled", "behind"])
def test_a_worker_whose_lease_expired_never_posts_after_the_takeover(
    fake_jira: FakeJira, tmp_path: Path, a_clock: str
) -> None:
    """Worker A stalls between reading the journal and posting a comment; its lease runs out,
    worker B takes the delivery over and finishes it. A must not post the comment again.

    "stalled": A's time is up too (its wait budget stops it before the call). "behind": A's
    clock is behind B's, so A believes it has time left: only the fenced journal write
    (the lease token no longer matches) stops it."""
    h = make_harness(fake_jira, tmp_path)
    store = h.services.store
    payload = load_fixture(FIXTURE)
    h.seed(payload)
    h.post(payload, delivery_id="slow")
    second = Worker(
        store=store,
        process=h.services.processor.process,
        metrics=h.services.metrics,
        owner="worker-b",
        lease_seconds=h.settings.lease_seconds,
        limit_waits=h.services.worker.limit_waits,
    )
    read_effect = Store.effect
    took_over: list[str] = []

    def stalling_read(self: Store, effect_id: str) -> tuple[str, str | None] | None:
        seen = read_effect(self, effect_id)
        if effect_id.startswith("comment:") and not took_over:
            # A has read "no comment yet" and is about to post: it stalls past its lease.
            took_over.append(effect_id)
            before = h.clock.now
            h.clock.now += h.settings.lease_seconds + 1
            assert second.run_once() is not None
            if a_clock == "behind":
                h.clock.now = before
        return seen

    Store.effect = stalling_read  # type: ignore[method-assign]
    try:
        first = h.services.worker.run_once()
    finally:
        Store.effect = read_effect  # type: ignore[method-assign]
    assert first is not None and took_over
    delivery = store.get("slow")
    assert delivery is not None and delivery.status == "done" and delivery.outcome == "done"
    assert_one_complete_case(fake_jira, payload["issue"]["key"])
    assert h.services.metrics.processed.labels("lease_lost")._value.get() == 1


def test_a_busy_worker_keeps_its_lease_by_heartbeat(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    store = h.services.store
    store.add_delivery("d1", "jira", "x", "UZO-1", b"{}")
    worker = h.services.worker
    renewed: list[bool] = []

    def busy(_delivery: object) -> str:
        for _ in range(3):  # three lease-lengths of work, renewed in between
            h.clock.now += h.settings.lease_seconds * 0.6
            worker.renew_leases()
            renewed.append(store.claim("other", 60) is None)
        return "done"

    worker.process = busy
    assert worker.run_once() is not None
    assert renewed == [True, True, True]
    assert store.get("d1").status == "done"  # type: ignore[union-attr]


def test_a_retry_after_longer_than_the_lease_left_hands_the_delivery_back(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    # Lease 80 s, a Jira call needs up to 30 s of it: a 60 s Retry-After does not fit.
    h = make_harness(fake_jira, tmp_path, env={"LEASE_SECONDS": "80"})
    payload = load_fixture(FIXTURE)
    h.seed(payload)
    h.post(payload, delivery_id="storm")
    fake_jira.inject(Fault.rate_limited(retry_after=60, method="POST", path=r"/comment$", times=1))
    assert h.drain() == 1
    delivery = h.services.store.get("storm")
    assert delivery is not None and delivery.status == "pending"
    assert h.sleeps == []  # nothing slept in-process
    assert delivery.next_attempt_at >= h.clock.now + 60
    h.clock.now = delivery.next_attempt_at + 1
    assert h.drain() == 1
    assert_one_complete_case(fake_jira, payload["issue"]["key"])
    assert jira_state(fake_jira, payload["issue"]["key"])["public"] == 1


def test_a_retry_after_that_fits_is_waited_in_process(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)  # default lease 300 s: a 60 s wait fits
    payload = load_fixture(FIXTURE)
    h.seed(payload)
    h.post(payload, delivery_id="short-storm")
    fake_jira.inject(Fault.rate_limited(retry_after=60, method="POST", path=r"/comment$", times=1))
    assert h.drain() == 1
    assert h.sleeps == [60.0]
    assert h.services.store.get("short-storm").status == "done"  # type: ignore[union-attr]
