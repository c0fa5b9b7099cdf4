"""The inbox on SQLite and on the real PostgreSQL server: dedupe, leases, retries, journal."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.inbox import schema
from bot.inbox.db import open_store
from bot.inbox.store import Store
from tests.pgdb import fresh_database


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    clock = Clock()
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path / 'inbox.db'}", clock)
        yield s
        s.close()
    else:
        with fresh_database() as url:
            s = open_store(url, clock)
            yield s
            s.close()


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
    failed = store.list("failed")
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

        version = conn.execute(text("SELECT version FROM schema_version")).scalar()
        assert version == len(schema._MIGRATIONS) == 4
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
    """A database made before the expiry watch gets vendor, contact and environment."""
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE certificates (fingerprint VARCHAR(64) PRIMARY KEY, abonneenummer "
            "VARCHAR(8), practice TEXT, uzi_number VARCHAR(20), not_before VARCHAR(40), "
            "not_after VARCHAR(40), source_request VARCHAR(50), status VARCHAR(20) NOT NULL, "
            "recorded_at FLOAT NOT NULL);"
            "INSERT INTO certificates VALUES ('ab', '01234567', 'De Linde', NULL, NULL, "
            "'2029-01-01', NULL, 'current', 1.0);"
            "CREATE TABLE schema_version (version INTEGER NOT NULL);"
            "INSERT INTO schema_version VALUES (1);"
        )
    s = open_store(f"sqlite:///{path}")
    with s.engine.connect() as conn:
        from sqlalchemy import text

        row = conn.execute(
            text("SELECT practice, vendor, contact, environment FROM certificates")
        ).one()
        assert tuple(row) == ("De Linde", None, None, None)
        assert conn.execute(text("SELECT version FROM schema_version")).scalar() == 4
