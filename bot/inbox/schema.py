"""Table definitions and the versioned schema migrations run at start."""

from __future__ import annotations

from dataclasses import dataclass

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
    inspect,
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
    Column("vendor", Text),
    Column("contact", String(200)),
    Column("environment", String(20)),
)

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))


@dataclass(frozen=True)
class AddColumn:
    """A migration step that adds a column unless `create_all` already made it (fresh DBs)."""

    table: str
    column: str
    ddl_type: str


# Each entry upgrades the schema from version i to i + 1; never edit a released entry.
_MIGRATIONS: list[str | AddColumn] = [
    "CREATE INDEX IF NOT EXISTS ix_deliveries_due ON deliveries (status, next_attempt_at)",
    # issue 9 (expiry watch): who to reach per certificate, and test vs production
    AddColumn("certificates", "vendor", "TEXT"),
    AddColumn("certificates", "contact", "VARCHAR(200)"),
    AddColumn("certificates", "environment", "VARCHAR(20)"),
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
            if isinstance(step, AddColumn):
                present = {c["name"] for c in inspect(conn).get_columns(step.table)}
                if step.column not in present:
                    conn.execute(
                        text(f"ALTER TABLE {step.table} ADD COLUMN {step.column} {step.ddl_type}")
                    )
            else:
                conn.execute(text(step))
        target = len(_MIGRATIONS)
        if target != version:
            conn.execute(text("UPDATE schema_version SET version = :v"), {"v": target})
    return len(_MIGRATIONS)
