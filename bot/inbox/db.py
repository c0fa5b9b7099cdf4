"""Opens the database: engine, SQLite pragmas (WAL), schema migration; returns the Store."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.pool import StaticPool

from bot.inbox.schema import migrate
from bot.inbox.store import Clock, Store

MIN_SQLITE = (3, 35)
"""INSERT ... RETURNING, which the intake's group commit uses (Python 3.11 ships newer)."""


def open_store(database_url: str, clock: Clock = time.time) -> Store:
    """Create the engine (WAL for SQLite), create or migrate the schema, return the Store."""
    url = database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise RuntimeError(
                f"SQLite {sqlite3.sqlite_version} is too old: the inbox needs "
                f"{'.'.join(map(str, MIN_SQLITE))} or newer (INSERT ... RETURNING); "
                "use a newer Python build or PostgreSQL"
            )
        memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if memory else None,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    migrate(engine)
    return Store(engine, clock)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: a committed delivery survives a crash of the process; only an OS crash
    # or power loss can lose the last transactions (see README, "Durability").
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    # Commits never checkpoint (that copies the WAL and fsyncs, stalling the intake); the
    # store's checkpointer thread does it in the background (Store.start_checkpointer).
    cur.execute("PRAGMA wal_autocheckpoint=0")
    # When a checkpoint has folded everything in and the WAL restarts, cut the file back to
    # this size instead of keeping its high-water mark (500 cases had left a 43 MB WAL).
    cur.execute("PRAGMA journal_size_limit=4194304")
    cur.close()
