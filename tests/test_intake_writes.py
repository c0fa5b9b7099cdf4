"""The intake's group commit on the event loop: what each answer means, on SQLite and PostgreSQL.

The cases a review of the event-loop writer found: Automation window ids across a batch,
a refused row in a batch of several statements, a busy write lock, a cancelled write, and a
PostgreSQL connection the server dropped.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.inbox import writer as writer_module
from bot.inbox.db import open_store
from bot.inbox.inserts import ROWS_PER_STATEMENT, NewDelivery
from bot.inbox.store import Store
from bot.inbox.writer import InboxWriter, Unstorable
from tests.pgdb import open_test_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with open_test_store(request.param, tmp_path) as s:
        yield s


@pytest.fixture
def pg_store(tmp_path: Path) -> Iterator[Store]:
    with open_test_store("postgresql", tmp_path) as s:
        yield s


def _submit_all(writer: InboxWriter, rows: list[NewDelivery]) -> list[bool | BaseException]:
    async def run() -> list[bool | BaseException]:
        return await asyncio.gather(*(writer.submit(r) for r in rows), return_exceptions=True)

    return asyncio.run(run())


def _row(i: str, seen_as: tuple[str, float] | None = None) -> NewDelivery:
    return NewDelivery(i, "automation", "automation", "UZO-1", b"{}", seen_as)


def test_an_automation_post_whose_window_copy_is_old_is_new_even_beside_that_copy(
    store: Store,
) -> None:
    """A:0 was stored long ago; a batch repeats A:0 and brings A:1, whose earlier-window id is
    A:0. A:0 is a duplicate (stored), A:1 is new: its window copy is older than the window."""
    store.add_deliveries([_row("A:0")])
    since = store.clock() + 1  # A:0 was received before the window began
    answers = _submit_all(InboxWriter(store), [_row("A:0"), _row("A:1", ("A:0", since))])
    assert answers == [False, True]
    assert store.get("A:1") is not None


def test_an_automation_post_whose_window_copy_is_in_the_same_batch_is_a_duplicate(
    store: Store,
) -> None:
    since = store.clock() - 30
    answers = _submit_all(InboxWriter(store), [_row("B:0"), _row("B:1", ("B:0", since))])
    assert answers == [True, False]
    assert store.get("B:1") is None


def test_a_refused_row_in_a_batch_of_several_statements_fails_alone(tmp_path: Path) -> None:
    """Rows of statements that went in before the failing one are answered new, not duplicate."""
    store = open_store(f"sqlite:///{tmp_path / 'inbox.db'}")
    try:
        count = ROWS_PER_STATEMENT + 100
        rows = [
            NewDelivery(f"r-{i}", "jira", "jira:issue_created", f"UZO-{i}", b"{}")
            for i in range(count)
        ]
        bad = ROWS_PER_STATEMENT + 50  # in the second statement
        rows[bad] = NewDelivery("r-bad", "jira", "jira:issue_created", "UZO-\udcff", b"{}")
        answers = _submit_all(InboxWriter(store), rows)
        assert isinstance(answers[bad], Unstorable)
        assert answers[:bad] + answers[bad + 1 :] == [True] * (count - 1)
        assert store.counts() == {"pending": count - 1}
    finally:
        store.close()


def test_a_large_mixed_batch_is_one_answer_per_row_on_both_stores(store: Store) -> None:
    """Rows without an issue key, repeats, a row the store refuses and more rows than one
    SQLite statement holds: each caller gets its own answer, and only the refused row fails."""
    store.add_deliveries([NewDelivery("m-old", "jira", "jira:issue_created", "UZO-1", b"{}")])
    count = ROWS_PER_STATEMENT + 200
    rows = [
        NewDelivery(f"m-{i}", "jira", "jira:issue_created", None if i % 3 else f"UZO-{i}", b"x")
        for i in range(count)
    ]
    bad = count - 7
    rows[bad] = NewDelivery("m-bad", "jira", "jira:issue_created", "UZO-\udcff", b"{}")
    rows += [rows[0], NewDelivery("m-old", "jira", "jira:issue_created", "UZO-1", b"{}")]
    answers = _submit_all(InboxWriter(store), rows)
    assert isinstance(answers[bad], Unstorable)
    assert answers[:bad] + answers[bad + 1 : count] == [True] * (count - 1)
    assert answers[count:] == [False, False]  # a repeat within the batch, a stored id
    assert store.counts() == {"pending": count}  # count - 1 new + m-old
    stored = store.get("m-1")
    assert stored is not None and stored.issue_key is None


def _hold_write_lock(path: Path, seconds: float, held: threading.Event) -> threading.Thread:
    def hold() -> None:
        conn = sqlite3.connect(path)
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        conn.rollback()
        conn.close()

    thread = threading.Thread(target=hold)
    thread.start()
    return thread


def test_a_busy_write_lock_delays_the_batch_and_never_blocks_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    store = open_store(f"sqlite:///{path}")
    held = threading.Event()
    try:
        thread = _hold_write_lock(path, 0.3, held)
        held.wait(5)
        writer = InboxWriter(store)
        ticks: list[float] = []

        async def run() -> bool:
            async def tick() -> None:  # the loop keeps running while the batch waits
                for _ in range(10):
                    ticks.append(time.monotonic())
                    await asyncio.sleep(0.01)

            done, _ = await asyncio.gather(
                writer.submit(NewDelivery("late", "jira", "e", "UZO-1", b"{}")), tick()
            )
            return done

        started = time.monotonic()
        assert asyncio.run(run()) is True
        assert time.monotonic() - started >= 0.25  # it waited for the other writer
        assert len(ticks) == 10 and ticks[-1] - ticks[0] < 0.25
        thread.join()
        assert store.get("late") is not None
    finally:
        store.close()


def test_a_write_lock_held_past_the_limit_answers_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "BUSY_SECONDS", 0.2)
    path = tmp_path / "inbox.db"
    store = open_store(f"sqlite:///{path}")
    held = threading.Event()
    try:
        thread = _hold_write_lock(path, 1.0, held)
        held.wait(5)
        [answer] = _submit_all(InboxWriter(store), [NewDelivery("x", "jira", "e", "U-1", b"{}")])
        assert isinstance(answer, sqlite3.OperationalError) and "locked" in str(answer)
        thread.join()
        assert store.get("x") is None  # 503: Jira sends it again
        assert _submit_all(InboxWriter(store), [NewDelivery("y", "jira", "e", "U-1", b"{}")]) == [
            True
        ]
    finally:
        store.close()


def test_a_cancelled_postgres_write_answers_its_callers_and_the_writer_goes_on(
    pg_store: Store,
) -> None:
    writer = InboxWriter(pg_store)

    async def run() -> tuple[BaseException | bool, bool]:
        first = asyncio.ensure_future(
            writer.submit(NewDelivery("c-1", "jira", "e", "UZO-1", b"{}"))
        )
        await asyncio.sleep(0)  # the batch's task starts
        await asyncio.sleep(0)
        for task in list(writer._tasks):
            task.cancel()
        try:
            outcome: BaseException | bool = await first
        except Exception as exc:
            outcome = exc
        later = await writer.submit(NewDelivery("c-2", "jira", "e", "UZO-2", b"{}"))
        return outcome, later

    outcome, later = asyncio.run(asyncio.wait_for(run(), 30))
    assert isinstance(outcome, RuntimeError) or outcome is True
    assert later is True  # the writer was not left stuck


def test_a_postgres_connection_the_server_dropped_costs_no_delivery(pg_store: Store) -> None:
    import psycopg

    writer = InboxWriter(pg_store)
    conninfo = pg_store.postgres_conninfo()
    name = pg_store.engine.url.database

    async def run() -> list[bool]:
        first = await writer.submit(NewDelivery("p-1", "jira", "e", "UZO-1", b"{}"))
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as admin:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        second = await writer.submit(NewDelivery("p-2", "jira", "e", "UZO-2", b"{}"))
        return [first, second]

    assert asyncio.run(run()) == [True, True]
    assert pg_store.counts() == {"pending": 2}
