"""Step claims in the effect journal: one process wins a step, and a done step stays done.

A claim is an `effects` row in state `claimed` (owner in `delivery_id`); completing it stores
the result in state `done`; a failed step is released (deleted) so a later scan tries again.
A claim left behind by a process that died is taken over once it is older than `stale_after`.
The statements are plain SQL that SQLite (3.35+) and PostgreSQL both run, built once.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, text

from bot.inbox.schema import effects
from bot.inbox.store import Store

CLAIMED = "claimed"
DONE = "done"

# RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT DO NOTHING.
_CLAIM = text(
    "INSERT INTO effects (effect_id, state, result, delivery_id, updated_at) "
    "VALUES (:id, 'claimed', NULL, :owner, :now) "
    "ON CONFLICT (effect_id) DO NOTHING RETURNING effect_id"
)
_TAKE_OVER = text(
    "UPDATE effects SET delivery_id = :owner, updated_at = :now WHERE effect_id = :id "
    "AND state = 'claimed' AND updated_at < :stale RETURNING effect_id"
)
_COMPLETE = text(
    "UPDATE effects SET state = 'done', result = :result, updated_at = :now "
    "WHERE effect_id = :id AND delivery_id = :owner"
)
_RELEASE = text(
    "DELETE FROM effects WHERE effect_id = :id AND delivery_id = :owner AND state = 'claimed'"
)


def claim_step(store: Store, step_id: str, owner: str, *, stale_after: float) -> bool:
    """True when this owner now holds the step; False when it is done or held by another."""
    now = store.clock()
    params = {"id": step_id, "owner": owner, "now": now, "stale": now - stale_after}
    with store.engine.begin() as conn:
        if conn.execute(_CLAIM, params).first() is not None:
            return True
        return conn.execute(_TAKE_OVER, params).first() is not None


def complete_step(store: Store, step_id: str, owner: str, result: dict[str, Any]) -> None:
    """Mark a held step done with its result (only after the effect really happened)."""
    with store.engine.begin() as conn:
        conn.execute(
            _COMPLETE,
            {
                "id": step_id,
                "owner": owner,
                "now": store.clock(),
                "result": json.dumps(result, sort_keys=True),
            },
        )


def release_step(store: Store, step_id: str, owner: str) -> None:
    """Give a held step back (its effect failed): a later scan may try again."""
    with store.engine.begin() as conn:
        conn.execute(_RELEASE, {"id": step_id, "owner": owner})


def steps_with_prefix(store: Store, prefix: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every journalled step whose id starts with `prefix`: id -> (state, result)."""
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(effects.c.effect_id, effects.c.state, effects.c.result).where(
                effects.c.effect_id.like(pattern, escape="\\")
            )
        ).all()
    return {str(r[0]): (str(r[1]), json.loads(r[2]) if r[2] else {}) for r in rows}
