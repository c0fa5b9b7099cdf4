"""Several workers sharing one PostgreSQL inbox: every delivery once, every case once."""

from __future__ import annotations

import threading
from pathlib import Path

from bot.inbox.worker import Worker
from tests.fakejira import FakeJira
from tests.harness import load_fixture, make_harness, with_key
from tests.pgdb import fresh_database
from tests.test_engine import assert_one_complete_case


def test_two_workers_on_postgres_share_the_inbox(fake_jira: FakeJira, tmp_path: Path) -> None:
    with fresh_database() as url:
        h = make_harness(fake_jira, tmp_path, database_url=url)
        base = load_fixture("practice_change-contract_holder-omnihis")
        payloads = [with_key(base, f"UZO-{700 + i}", str(30700 + i)) for i in range(30)]
        for i, p in enumerate(payloads):
            h.seed(p)
            assert h.post(p, delivery_id=f"pg-{i}").status_code == 202
            # Jira's retry of the same delivery, and a later update of the same request
            assert h.post(p, delivery_id=f"pg-{i}").status_code == 200
            assert h.post(p, delivery_id=f"pg-{i}-again").status_code == 202
        second = Worker(
            store=h.services.store,
            process=h.services.processor.process,
            metrics=h.services.metrics,
            owner="second-worker",
        )
        counts: dict[str, int] = {}

        def run(worker: Worker) -> None:
            counts[worker.owner] = worker.drain()

        threads = [threading.Thread(target=run, args=(w,)) for w in (h.services.worker, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(counts.values()) == 60
        assert h.services.store.counts() == {"done": 60}
        for p in payloads:
            assert_one_complete_case(fake_jira, p["issue"]["key"], subtasks=3)
        h.services.store.close()
