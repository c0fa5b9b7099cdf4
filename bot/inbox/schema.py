"""Table definitions and the versioned schema migrations run at start."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    text,
)

metadata = MetaData()


def _partial(condition: str) -> dict[str, Any]:
    """A partial index's condition for both databases."""
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}


deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("source", String(20), nullable=False),
    Column("event_name", String(100), nullable=False),
    Column("issue_key", String(50)),
    Column("body", LargeBinary, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("received_at", Float, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("lease_until", Float),
    Column("lease_owner", String(100)),
    Column("lease_token", String(40)),
    Column("last_error", Text),
    Column("outcome", String(40)),
    Column("done_at", Float),
    # The claim reads due pending deliveries in due order and expired leases in expiry order,
    # and probes "is another delivery of this issue leased?": one index each, no sort.
    Index("ix_deliveries_due", "status", "next_attempt_at"),
    # Partial: a new (pending) delivery has no lease and no finish time, so storing one
    # touches none of these three (the intake's commit writes fewer pages). Every query that
    # reads them compares lease_until or done_at, which implies IS NOT NULL.
    Index("ix_deliveries_expired", "status", "lease_until", **_partial("lease_until IS NOT NULL")),
    Index(
        "ix_deliveries_issue",
        "issue_key",
        "status",
        "lease_until",
        **_partial("lease_until IS NOT NULL"),
    ),
    Index("ix_deliveries_finished", "status", "done_at", **_partial("done_at IS NOT NULL")),
)

effects = Table(
    "effects",
    metadata,
    Column("effect_id", String(300), primary_key=True),
    Column("state", String(20), nullable=False),
    Column("result", Text),
    Column("delivery_id", String(200)),
    Column("updated_at", Float, nullable=False),
)

certificates = Table(
    "certificates",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("abonneenummer", String(8), index=True),
    Column("practice", Text),
    Column("uzi_number", String(20)),
    Column("not_before", String(40)),
    Column("not_after", String(40)),
    Column("source_request", String(50), index=True),
    Column("status", String(20), nullable=False),
    Column("recorded_at", Float, nullable=False),
    Column("vendor", Text),
    Column("contact", String(200)),
    Column("environment", String(20)),
)

cases = Table(
    "cases",
    metadata,
    Column("request_key", String(50), primary_key=True),
    Column("workflow", String(50), primary_key=True),
    Column("tracking_key", String(50), nullable=False),
    Column("abonneenummer", String(8), index=True),
    Column("reporter", String(200), index=True),
    Column("opened_at", Float, nullable=False),
)
"""The cases the bot opened, so a question can be answered with its own case (see cases.py)."""

jira_pause = Table(
    "jira_pause",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("until_at", Float, nullable=False),
)
"""One row (id 1): the epoch time until which no process calls Jira (a 429's Retry-After)."""

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))


@dataclass(frozen=True)
class AddColumn:
    """A step that adds a column unless the table already has it (an old database in which
    `create_all` has just made the whole table, with the column, runs it too)."""

    table: str
    column: str
    ddl_type: str


# Each entry upgrades the schema from version i to i + 1; never edit a released entry. A new
# database is created from the tables above at the latest version and runs none of them.
_MIGRATIONS: list[str | AddColumn] = [
    "CREATE INDEX IF NOT EXISTS ix_deliveries_due ON deliveries (status, next_attempt_at)",
    # 2-4: outcomes ("done", "ignored:echo", ...) get their own column; last_error keeps errors.
    "ALTER TABLE deliveries ADD COLUMN outcome VARCHAR(40)",
    "UPDATE deliveries SET outcome = last_error, last_error = NULL "
    "WHERE status = 'done' AND last_error LIKE 'ignored%'",
    "UPDATE deliveries SET outcome = 'done' WHERE status = 'done' AND outcome IS NULL",
    # 5: every claim gets a fresh token; effects and state changes are fenced on it.
    "ALTER TABLE deliveries ADD COLUMN lease_token VARCHAR(40)",
    "CREATE INDEX IF NOT EXISTS ix_deliveries_expired ON deliveries (status, lease_until)",
    "CREATE INDEX IF NOT EXISTS ix_deliveries_issue ON deliveries (issue_key, status, lease_until)",
    "CREATE INDEX IF NOT EXISTS ix_deliveries_finished ON deliveries (status, done_at)",
    # 9: parked deliveries now record when they were parked (retention counts from there).
    "UPDATE deliveries SET done_at = next_attempt_at WHERE status = 'failed' AND done_at IS NULL",
    # 10-12 (issue 9, expiry watch): who to reach about a certificate, and test vs production.
    AddColumn("certificates", "vendor", "TEXT"),
    AddColumn("certificates", "contact", "VARCHAR(200)"),
    AddColumn("certificates", "environment", "VARCHAR(20)"),
    # issue 10b: the Jira pause shared by every process (bot/inbox/pause.py).
    "CREATE TABLE IF NOT EXISTS jira_pause (id INTEGER PRIMARY KEY, until_at FLOAT NOT NULL)",
    # 14-19 (issue 10): three indexes become partial, so storing a new delivery skips them.
    "DROP INDEX IF EXISTS ix_deliveries_expired",
    "CREATE INDEX IF NOT EXISTS ix_deliveries_expired ON deliveries (status, lease_until) "
    "WHERE lease_until IS NOT NULL",
    "DROP INDEX IF EXISTS ix_deliveries_issue",
    "CREATE INDEX IF NOT EXISTS ix_deliveries_issue ON deliveries (issue_key, status, "
    "lease_until) WHERE lease_until IS NOT NULL",
    "DROP INDEX IF EXISTS ix_deliveries_finished",
    "CREATE INDEX IF NOT EXISTS ix_deliveries_finished ON deliveries (status, done_at) "
    "WHERE done_at IS NOT NULL",
]


def migrate(engine: Engine) -> int:
    """Create missing tables, then apply pending migrations; return the schema version."""
    fresh = not inspect(engine).has_table("deliveries")
    metadata.create_all(engine)
    with engine.begin() as conn:
        row = conn.execute(text("SELECT version FROM schema_version")).first()
        version = int(row[0]) if row else (len(_MIGRATIONS) if fresh else 0)
        if row is None:
            conn.execute(text("INSERT INTO schema_version (version) VALUES (:v)"), {"v": version})
        for step in _MIGRATIONS[version:]:
            if not isinstance(step, AddColumn):
                conn.execute(text(step))
            elif step.column not in {c["name"] for c in inspect(conn).get_columns(step.table)}:
                conn.execute(
                    text(f"ALTER TABLE {step.table} ADD COLUMN {step.column} {step.ddl_type}")
                )
        target = len(_MIGRATIONS)
        if target != version:
            conn.execute(text("UPDATE schema_version SET version = :v"), {"v": target})
        if engine.dialect.name == "postgresql":
            _compress_bodies_with_lz4(conn)
    return len(_MIGRATIONS)


def _compress_bodies_with_lz4(conn: Any) -> None:
    """PostgreSQL 14+ built with lz4: TOAST delivery bodies with lz4 instead of pglz.

    A ~9 KB webhook body is compressed as it is stored; pglz made that most of the
    server's work per delivery, lz4 is several times cheaper (bench/bench_serve.py). Only
    new values use it. Skipped where the server lacks lz4, and when already set (the
    ALTER takes a short exclusive lock, so it runs once, not at every start).
    """
    lz4 = conn.execute(
        text(
            "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
            "AND 'lz4' = ANY(enumvals)"
        )
    ).first()
    if lz4 is None:  # before PostgreSQL 14 (no such setting) or built without lz4
        return
    current = conn.execute(
        text(
            "SELECT attcompression FROM pg_attribute "
            "WHERE attrelid = 'deliveries'::regclass AND attname = 'body'"
        )
    ).scalar()
    if current != "l":
        conn.execute(text("ALTER TABLE deliveries ALTER COLUMN body SET COMPRESSION lz4"))
