"""Jira requests per sub-task webhook (the case is re-read) and per question (prints figures).

Run: python bench/bench_lifecycle.py
Posts real-shaped fixtures through the real app into the in-memory Jira sandbox (behind
`responses`, as the tests do) and counts the HTTP requests the gateway sent.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import responses

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests import certgen as g
    from tests.fakejira import FakeJira
    from tests.harness import close_open_stores, load_fixture, make_harness
    from tests.test_lifecycle_app import open_case, subtask_webhook, tracking_of

    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as rsps,
        tempfile.TemporaryDirectory() as tmp,
    ):
        fake = FakeJira().install(rsps)
        h = make_harness(fake, Path(tmp))
        key = open_case(h, "renewal-promedico", {"10811": g.pem(g.server_cert())})
        subs = fake.subtasks(tracking_of(fake, key))
        print(f"{'event':45} {'requests':>8} {'writes':>6}")
        for index, sub in enumerate(subs):
            before, writes = fake.count(), fake.count(writes_only=True)
            fake.set_status(sub, "Done")
            h.post(subtask_webhook(fake, sub, "To Do", "Done"), delivery_id=f"done-{index}")
            h.drain()
            name = f"renewal sub-task {index + 1}/{len(subs)} done"
            print(f"{name:45} {fake.count() - before:8} {fake.count(writes_only=True) - writes:6}")
        for fixture, name in (
            ("question-unmapped-type-renewal-words", "question, practice has a (closed) case"),
            ("question-login-bricks", "question, no known case"),
            ("question-vraag-stellen", "question, unclear (note only)"),
        ):
            payload = load_fixture(fixture)
            h.seed(payload)
            before, writes = fake.count(), fake.count(writes_only=True)
            h.post(payload, delivery_id=fixture)
            h.drain()
            print(f"{name:45} {fake.count() - before:8} {fake.count(writes_only=True) - writes:6}")
        close_open_stores()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
