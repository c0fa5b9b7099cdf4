"""The Jira pause shared by every process through the database (one row, `jira_pause`)."""

from __future__ import annotations

from sqlalchemy import Engine, text


class DatabasePauseBoard:
    """A 429's Retry-After seen by one process, read by the others' write governors.

    The governor reads it at most once a second; an unreachable database reads as "no pause"
    (each process still honours the 429s it sees itself).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def read_pause(self) -> float:
        """The shared pause's end (epoch seconds; 0 when none)."""
        with self.engine.connect() as conn:
            row = conn.execute(text("SELECT until_at FROM jira_pause WHERE id = 1")).first()
        return float(row[0]) if row else 0.0

    def extend_pause(self, until: float) -> None:
        """Move the pause's end to `until` unless it already ends later."""
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO jira_pause (id, until_at) VALUES (1, 0) "
                    "ON CONFLICT (id) DO NOTHING"
                )
            )
            conn.execute(
                text("UPDATE jira_pause SET until_at = :u WHERE id = 1 AND until_at < :u"),
                {"u": until},
            )
