"""The inbox on SQLite and on the real PostgreSQL server: dedupe, leases, retries, journal."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.inbox import schema
from bot.inbox.db import open_store
from bot.inbox.pause import DatabasePauseBoard
from bot.inbox.store import Store
from tests.pgdb import fresh_database, open_test_store


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with open_test_store(request.param, tmp_path, Clock()) as s:
        yield s


def test_a_delivery_id_is_stored_once(store: Store) -> None:
    assert store.add_delivery("d1", "jira", "jira:issue_created", "UZO-1", b"{}") is True
    assert store.add_delivery("d1", "jira", "jira:issue_created", "UZO-1", b"{}") is False
    assert store.counts() == {"pending": 1}


def test_a_leased_delivery_is_not_claimed_twice_until_the_lease_expires(store: Store) -> None:
    store.add_delivery("d1", "jira", "x", None, b"{}")
    first = store.claim("w1", lease_seconds=60)
    assert first is not None and first.attempts == 1
    assert store.claim("w2", lease_seconds=60) is None
    store.clock.now += 61  # type: ignore[attr-defined]
    again = store.claim("w2", lease_seconds=60)
    assert again is not None and again.id == "d1" and again.attempts == 2
    # the first worker lost its lease: its late `finish` must not overwrite the new owner
    store.finish("d1", "w1")
    assert store.get("d1").status == "processing"  # type: ignore[union-attr]
    store.finish("d1", "w2")
    assert store.get("d1").status == "done"  # type: ignore[union-attr]


def test_reschedule_park_and_requeue(store: Store) -> None:
    store.add_delivery("d1", "jira", "x", None, b"{}")
    d = store.claim("w", 60)
    assert d is not None
    store.reschedule("d1", "w", 120, "HTTP 503")
    assert store.claim("w", 60) is None
    store.clock.now += 121  # type: ignore[attr-defined]
    assert store.claim("w", 60) is not None
    store.park("d1", "w", "gave up")
    failed = store.list_deliveries("failed")
    assert [f.id for f in failed] == ["d1"] and failed[0].last_error == "gave up"
    assert store.requeue("d1") is True
    again = store.claim("w", 60)
    assert again is not None and again.attempts == 1
    assert store.requeue("nope") is False


def test_effect_journal_upserts(store: Store) -> None:
    assert store.effect("case:UZO-1") is None
    store.record_effect("case:UZO-1", "intent", None, "d1")
    assert store.effect("case:UZO-1") == ("intent", None)
    store.record_effect("case:UZO-1", "done", '{"key": "UZO-2"}', "d1")
    assert store.effect("case:UZO-1") == ("done", '{"key": "UZO-2"}')


def test_concurrent_claims_never_hand_out_the_same_delivery(store: Store) -> None:
    for i in range(60):
        store.add_delivery(f"d{i}", "jira", "x", None, b"{}")
    claimed: list[str] = []
    lock = threading.Lock()

    def grab(owner: str) -> None:
        while (d := store.claim(owner, 60)) is not None:
            with lock:
                claimed.append(d.id)

    threads = [threading.Thread(target=grab, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(f"d{i}" for i in range(60))


def test_schema_migration_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    open_store(url).close()
    s = open_store(url)
    with s.engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT version FROM schema_version")).scalar() == 19
        mode = conn.execute(text("PRAGMA journal_mode")).scalar()
    assert mode == "wal"


def test_deliveries_of_one_issue_are_never_leased_at_the_same_time(store: Store) -> None:
    store.add_delivery("a1", "jira", "x", "UZO-1", b"{}")
    store.add_delivery("a2", "jira", "x", "UZO-1", b"{}")
    store.add_delivery("b1", "jira", "x", "UZO-2", b"{}")
    first = store.claim("w1", 60)
    second = store.claim("w2", 60)
    assert first is not None and second is not None
    assert {first.issue_key, second.issue_key} == {"UZO-1", "UZO-2"}
    assert store.claim("w3", 60) is None  # a2 waits for a1
    store.finish(
        first.id if first.issue_key == "UZO-1" else second.id,
        "w1" if first.issue_key == "UZO-1" else "w2",
    )
    third = store.claim("w3", 60)
    assert third is not None and third.id == "a2"


def test_migration_adds_the_registry_contact_columns_to_an_old_database(tmp_path: Path) -> None:
    """A database at version 9 (before the expiry watch) gets vendor, contact and environment."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    s = open_store(url)
    with s.engine.begin() as conn:
        from sqlalchemy import text

        for column in ("vendor", "contact", "environment"):
            conn.execute(text(f"ALTER TABLE certificates DROP COLUMN {column}"))
        conn.execute(text("UPDATE schema_version SET version = 9"))
        conn.execute(
            text(
                "INSERT INTO certificates (fingerprint, abonneenummer, practice, not_after, "
                "status, recorded_at) VALUES ('ab', '01234567', 'De Linde', '2029-01-01', "
                "'current', 1.0)"
            )
        )
    s.close()
    s = open_store(url)
    with s.engine.connect() as conn:
        row = conn.execute(
            text("SELECT practice, vendor, contact, environment FROM certificates")
        ).one()
        assert tuple(row) == ("De Linde", None, None, None)
        version = conn.execute(text("SELECT version FROM schema_version")).scalar()
        assert version == len(schema._MIGRATIONS) == 19
    s.close()


def test_an_old_inbox_is_migrated_outcomes_leave_last_error(tmp_path: Path) -> None:
    """A database made by the schema before outcomes and lease tokens (version 1)."""
    import sqlite3

    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE deliveries (id VARCHAR(200) PRIMARY KEY, source VARCHAR(20) NOT NULL,
            event_name VARCHAR(100) NOT NULL, issue_key VARCHAR(50), body BLOB NOT NULL,
            status VARCHAR(20) NOT NULL, attempts INTEGER NOT NULL, received_at FLOAT NOT NULL,
            next_attempt_at FLOAT NOT NULL, lease_until FLOAT, lease_owner VARCHAR(100),
            last_error TEXT, done_at FLOAT);
        CREATE TABLE effects (effect_id VARCHAR(300) PRIMARY KEY, state VARCHAR(20) NOT NULL,
            result TEXT, delivery_id VARCHAR(200), updated_at FLOAT NOT NULL);
        CREATE TABLE schema_version (version INTEGER NOT NULL);
        INSERT INTO schema_version VALUES (1);
        INSERT INTO deliveries VALUES ('echo', 'jira', 'e', 'UZO-1', x'7b7d', 'done', 1, 1, 1,
            NULL, 'w', 'ignored:echo', 2);
        INSERT INTO deliveries VALUES ('ok', 'jira', 'e', 'UZO-2', x'7b7d', 'done', 1, 1, 1,
            NULL, 'w', NULL, 2);
        INSERT INTO deliveries VALUES ('bad', 'jira', 'e', 'UZO-3', x'7b7d', 'failed', 3, 1, 1,
            NULL, 'w', 'HTTP 400: no', NULL);
        """
    )
    con.commit()
    con.close()
    store = open_store(f"sqlite:///{path}")
    try:
        echo, ok, bad = (store.get(i) for i in ("echo", "ok", "bad"))
        assert echo is not None and (echo.outcome, echo.last_error) == ("ignored:echo", None)
        assert ok is not None and (ok.outcome, ok.last_error) == ("done", None)
        assert bad is not None and (bad.outcome, bad.last_error) == (None, "HTTP 400: no")
        store.add_delivery("new", "jira", "e", "UZO-4", b"{}")
        claimed = store.claim("w", 60)
        assert claimed is not None and claimed.id == "new" and claimed.lease_token
        with store.engine.connect() as conn:
            from sqlalchemy import text

            assert conn.execute(text("SELECT version FROM schema_version")).scalar() == 19
            partial = conn.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '%WHERE%'")
            )
            assert sorted(r[0] for r in partial) == [
                "ix_deliveries_expired",
                "ix_deliveries_finished",
                "ix_deliveries_issue",
            ]
        board = DatabasePauseBoard(store.engine)  # the migration made the shared pause's table
        board.extend_pause(123.0)
        assert board.read_pause() == 123.0
    finally:
        store.close()


def test_retention_deletes_old_finished_deliveries_and_keeps_the_journal(store: Store) -> None:
    clock = store.clock
    for i in range(3):
        store.add_delivery(f"old{i}", "jira", "e", f"UZO-{i}", b"{}")
        d = store.claim("w", 60)
        assert d is not None
        if i == 2:
            store.park(d.id, "w", "HTTP 400")
        else:
            store.record_effect(f"comment:UZO-{i}:reply", "done", "{}", d.id)
            store.finish(d.id, "w", "done" if i == 0 else "ignored:echo")
    clock.now += 20 * 86400  # type: ignore[attr-defined]
    store.add_delivery("recent", "jira", "e", "UZO-9", b"{}")
    d = store.claim("w", 60)
    assert d is not None
    store.finish(d.id, "w")
    store.add_delivery("waiting", "jira", "e", "UZO-8", b"{}")
    now = clock()
    removed = store.prune(now - 14 * 86400, now - 90 * 86400)
    assert removed == {"done": 2, "failed": 0}
    assert store.counts() == {"done": 1, "failed": 1, "pending": 1}
    assert store.effect("comment:UZO-0:reply") == ("done", "{}")  # the journal stays
    clock.now += 80 * 86400  # type: ignore[attr-defined]
    now = clock()
    assert store.prune(now - 14 * 86400, None) == {"done": 1, "failed": 0}
    assert store.prune(now - 14 * 86400, now - 90 * 86400) == {"done": 0, "failed": 1}
    assert store.counts() == {"pending": 1}
    store.add_delivery("parked", "jira", "e", "UZO-7", b"{}")
    parked = store.claim("w", 60)
    assert parked is not None and parked.id == "waiting"  # older first
    store.park(parked.id, "w", "HTTP 400")
    assert store.purge_failed() == 1
    assert store.counts() == {"pending": 1}
    store.checkpoint()


def test_the_claim_reads_one_index_range_and_sorts_nothing(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'plan.db'}")
    try:
        plan = "\n".join(store.claim_plan())
    finally:
        store.close()
    assert "USING INDEX ix_deliveries_due" in plan
    assert "USING INDEX ix_deliveries_expired" in plan
    assert "ix_deliveries_issue" in plan
    assert "TEMP B-TREE" not in plan and "SCAN" not in plan


def test_a_lost_lease_fences_the_journal_and_state_changes(store: Store) -> None:
    from bot.inbox.lease import Lease, LeaseLost, holding

    store.add_delivery("d1", "jira", "e", "UZO-1", b"{}")
    first = store.claim("w", 60)
    assert first is not None and first.lease_token
    lease = Lease("d1", "w", first.lease_token, store.clock() + 60, 60, store.clock)
    with holding(lease):
        store.record_effect("comment:UZO-1:a", "intent", None, "d1")  # ours: written
    store.clock.now += 61  # type: ignore[attr-defined]
    second = store.claim("w", 60)  # the same owner name, a new claim: a new token
    assert second is not None and second.lease_token != first.lease_token
    with holding(lease), pytest.raises(LeaseLost):
        store.record_effect("comment:UZO-1:b", "intent", None, "d1")
    assert store.effect("comment:UZO-1:b") is None and lease.lost
    with holding(lease), pytest.raises(LeaseLost):
        store.record_effect("comment:UZO-1:a", "done", '{"id": "1"}', "d1")
    assert store.effect("comment:UZO-1:a") == ("done", '{"id": "1"}')  # it did happen
    assert store.finish("d1", "w", token=first.lease_token) is False
    assert store.renew(lease) is False
    assert store.finish("d1", "w", token=second.lease_token) is True


def test_threads_never_hold_two_deliveries_of_one_issue(store: Store) -> None:
    import time

    for i in range(48):
        store.add_delivery(f"d{i}", "jira", "e", f"UZO-{i % 4}", b"{}")
    held: dict[str, str] = {}
    overlaps: list[str] = []
    done: list[str] = []
    lock = threading.Lock()

    def work(owner: str) -> None:
        idle = 0
        while idle < 20:
            d = store.claim(owner, 60)
            if d is None:
                idle += 1
                time.sleep(0.005)
                continue
            idle = 0
            with lock:
                if d.issue_key in held:
                    overlaps.append(f"{d.id} while {held[d.issue_key]}")
                held[str(d.issue_key)] = d.id
            time.sleep(0.002)
            with lock:
                del held[str(d.issue_key)]
                done.append(d.id)
            store.finish(d.id, owner, token=d.lease_token)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == []
    assert sorted(done) == sorted(f"d{i}" for i in range(48))


def test_postgres_bodies_are_toasted_with_lz4_where_the_server_has_it() -> None:
    """pglz compressing each ~9 KB body was most of PostgreSQL's work per delivery."""
    from sqlalchemy import text

    with fresh_database() as url:
        for _ in range(2):  # a second start finds it set and leaves the table alone
            store = open_store(url)
            with store.engine.connect() as conn:
                has_lz4 = conn.execute(
                    text(
                        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
                        "AND 'lz4' = ANY(enumvals)"
                    )
                ).first()
                method = conn.execute(
                    text(
                        "SELECT attcompression FROM pg_attribute "
                        "WHERE attrelid = 'deliveries'::regclass AND attname = 'body'"
                    )
                ).scalar()
            store.add_delivery(f"d-{_}", "jira", "jira:issue_created", "UZO-1", b"{}" * 5000)
            store.close()
            assert method == ("l" if has_lz4 else "")
