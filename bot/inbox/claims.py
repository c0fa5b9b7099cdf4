"""Step claims in the effect journal: one process wins a step, and a done step stays done.

A claim is an `effects` row in state `claimed` (owner in `delivery_id`); completing it stores
the result in state `done`; a failed step is released (deleted) so a later scan tries again.
A claim left behind by a process that died is taken over once it is older than `stale_after`.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.inbox.schema import effects
from bot.inbox.store import Store

CLAIMED = "claimed"
DONE = "done"


def claim_step(store: Store, step_id: str, owner: str, *, stale_after: float) -> bool:
    """True when this owner now holds the step; False when it is done or held by another."""
    now = store.clock()
    ins = pg_insert(effects) if store.is_postgres else sqlite_insert(effects)
    with store.engine.begin() as conn:
        res = conn.execute(
            ins.values(
                effect_id=step_id, state=CLAIMED, result=None, delivery_id=owner, updated_at=now
            )
            .on_conflict_do_nothing(index_elements=["effect_id"])
            .returning(effects.c.effect_id)
        )
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT.
        if res.first() is not None:
            return True
        taken = conn.execute(
            update(effects)
            .where(
                effects.c.effect_id == step_id,
                effects.c.state == CLAIMED,
                effects.c.updated_at < now - stale_after,
            )
            .values(delivery_id=owner, updated_at=now)
            .returning(effects.c.effect_id)
        )
        return taken.first() is not None


def complete_step(store: Store, step_id: str, owner: str, result: dict[str, Any]) -> None:
    """Mark a held step done with its result (only after the effect really happened)."""
    with store.engine.begin() as conn:
        conn.execute(
            update(effects)
            .where(effects.c.effect_id == step_id, effects.c.delivery_id == owner)
            .values(state=DONE, result=json.dumps(result, sort_keys=True), updated_at=store.clock())
        )


def release_step(store: Store, step_id: str, owner: str) -> None:
    """Give a held step back (its effect failed): a later scan may try again."""
    with store.engine.begin() as conn:
        conn.execute(
            delete(effects).where(
                effects.c.effect_id == step_id,
                effects.c.delivery_id == owner,
                effects.c.state == CLAIMED,
            )
        )


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
