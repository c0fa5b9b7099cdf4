"""Without PostgreSQL its tests skip with the reason outside CI and fail in CI."""

from __future__ import annotations

import pytest

from tests import pgdb


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgdb, "unreachable_reason", lambda: "cannot connect to x: refused")


@pytest.mark.parametrize("ci", ["", "false", "0"])
def test_outside_ci_the_tests_skip_and_say_why(
    unreachable: None, monkeypatch: pytest.MonkeyPatch, ci: str
) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="cannot connect to x: refused"):
        pgdb.require_postgres()


@pytest.mark.parametrize("ci", ["true", "1", "True"])
def test_in_ci_they_fail(unreachable: None, monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL is required in CI"):
        pgdb.require_postgres()


def test_an_unused_port_is_reported_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgdb, "PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:1/test")
    reason = pgdb.unreachable_reason.__wrapped__()
    assert reason is not None
    assert reason.startswith("cannot connect to postgresql://postgres@127.0.0.1:1/test: ")
