"""A throwaway PostgreSQL database on the local server (127.0.0.1:5432, trust auth).

Without a reachable server the PostgreSQL tests skip and say why; in CI (`CI` set and not
`false`/`0`) they fail instead, so a CI machine without the server cannot pass unnoticed.
"""

from __future__ import annotations

import functools
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from bot.inbox.store import Store

PG_ADMIN_URL = os.environ.get("UZIBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
CONNECT_TIMEOUT_SECONDS = 3


def in_ci() -> bool:
    """True when the CI environment variable says so (GitHub, GitLab and .ci/run set CI=true)."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


@functools.cache
def unreachable_reason() -> str | None:
    """Why the PostgreSQL server cannot be used, or None when it can (asked once per session)."""
    try:
        import psycopg
    except ImportError:
        return 'psycopg is not installed (pip install -e ".[dev]")'
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=CONNECT_TIMEOUT_SECONDS) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"cannot connect to {PG_ADMIN_URL}: {first_line}"
    return None


def require_postgres() -> None:
    """Skip the calling test without a server; in CI, fail it."""
    reason = unreachable_reason()
    if reason is None:
        return
    hint = "start PostgreSQL there or set UZIBOT_TEST_PG to a server's admin database URL"
    if in_ci():
        pytest.fail(f"PostgreSQL is required in CI: {reason}; {hint}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason} ({hint}; CI runs them)")


@contextmanager
def fresh_database() -> Iterator[str]:
    """Create an empty database, yield its URL, drop it afterwards."""
    require_postgres()
    import psycopg

    name = f"uzibot_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def open_test_store(
    kind: str, tmp_path: Path, clock: Callable[[], float] = time.time
) -> Iterator[Store]:
    """An empty inbox store on SQLite (in `tmp_path`) or on a fresh PostgreSQL database
    (`kind` "postgresql"), closed (and the database dropped) afterwards."""
    from bot.inbox.db import open_store

    if kind == "sqlite":
        store = open_store(f"sqlite:///{tmp_path / 'inbox.db'}", clock)
        try:
            yield store
        finally:
            store.close()
        return
    with fresh_database() as url:
        store = open_store(url, clock)
        try:
            yield store
        finally:
            store.close()
