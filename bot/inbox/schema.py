"""Table definitions and the versioned schema migrations run at start."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("source", String(20), nullable=False),
    Column("event_name", String(100), nullable=False),
    Column("issue_key", String(50)),
    Column("body", LargeBinary, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("received_at", Float, nullable=False),
    Column("next_attempt_at", Float, nullable=False, index=True),
    Column("lease_until", Float),
    Column("lease_owner", String(100)),
    Column("last_error", Text),
    Column("done_at", Float),
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

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

# Each entry upgrades the schema from version i to i + 1; never edit a released entry.
_MIGRATIONS: list[str] = [
    "CREATE INDEX IF NOT EXISTS ix_deliveries_due ON deliveries (status, next_attempt_at)",
]


def migrate(engine: Engine) -> int:
    """Create missing tables, then apply pending migrations; return the schema version."""
    metadata.create_all(engine)
    with engine.begin() as conn:
        row = conn.execute(text("SELECT version FROM schema_version")).first()
        version = int(row[0]) if row else 0
        if row is None:
            conn.execute(text("INSERT INTO schema_version (version) VALUES (0)"))
        for step in _MIGRATIONS[version:]:
            conn.execute(text(step))
        target = len(_MIGRATIONS)
        if target != version:
            conn.execute(text("UPDATE schema_version SET version = :v"), {"v": target})
    return len(_MIGRATIONS)
