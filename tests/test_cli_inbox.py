"""`uzibot deliveries`, `uzibot cases`, `uzibot replay --failed` and the progress bar."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.cli.progress import Progress
from bot.sandbox.faults import Fault
from tests import certgen as g
from tests.fakejira import FakeJira
from tests.harness import Harness, load_fixture, make_harness, with_key
from tests.test_lifecycle_app import walk_every_step
from tests.test_readme import fenced_commands

FIXTURE = "practice_change-abonneenummer-promedico"


def use_settings_of(h: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point the CLI at the harness's database and fake Jira through the environment."""
    for name, value in h.settings.model_dump(mode="json").items():
        if isinstance(value, str | int | float) and value != "":
            monkeypatch.setenv(name.upper(), str(value))
    monkeypatch.setenv("JIRA_API_TOKEN", "api-token-for-tests")
    monkeypatch.setenv("WEBHOOK_SECRET", "new-secret-2026")
    monkeypatch.chdir(tmp_path)


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_deliveries_table_keeps_outcomes_and_errors_apart(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = make_harness(fake_jira, tmp_path, env={"JIRA_MAX_ATTEMPTS": "1"})
    payload = load_fixture(FIXTURE)
    h.seed(payload)
    h.post(payload, delivery_id="made-a-case")
    h.post(
        {"timestamp": 1, "webhookEvent": "worklog_created", "worklog": {"id": "1"}},
        delivery_id="a-worklog",
    )
    h.drain()
    other = with_key(payload, "UZO-471", "10471")
    h.seed(other)
    fake_jira.inject(Fault.http(503, method="POST", times=1))
    h.post(other, delivery_id="jira-was-down")
    h.drain()
    use_settings_of(h, monkeypatch, tmp_path)
    code, text = run_cli("deliveries")
    assert code == 0
    lines = text.splitlines()
    assert lines[0] == "inbox: done 2, pending 1"
    assert lines[1].split() == [
        "id",
        "event",
        "request",
        "outcome",
        "attempts",
        "next",
        "attempt",
        "last",
        "error",
    ]
    rows = {line.split()[0]: line for line in lines[2:]}
    assert rows["made-a-case"].split()[1:] == [
        "jira:issue_created",
        "UZO-400",
        "done",
        "1",
        "-",
        "-",
    ]
    assert rows["a-worklog"].split()[1:] == ["worklog_created", "-", "ignored:event", "1", "-", "-"]
    down = rows["jira-was-down"].split()
    assert down[1:5] == ["jira:issue_created", "UZO-471", "retrying", "1"]
    assert "503" in rows["jira-was-down"]  # the error sits in the last-error column ...
    assert "ignored" not in rows["jira-was-down"]  # ... and outcomes never do
    shown = fenced_commands()["uzibot deliveries"]  # the README shows this very table
    assert shown[:2] == lines[:2] and sorted(shown[2:]) == sorted(lines[2:])


def test_cases_lists_open_cases_soonest_deadline_first(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = make_harness(fake_jira, tmp_path)
    practice = load_fixture(FIXTURE)
    h.seed(practice)
    h.post(practice, delivery_id="practice")
    issued = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    for name, key, not_after in (
        ("renewal-promedico", "UZO-481", datetime(2027, 6, 1, 10, 0, tzinfo=UTC)),
        ("renewal-promedico", "UZO-482", datetime(2026, 12, 10, 10, 0, tzinfo=UTC)),
    ):
        payload = with_key(load_fixture(name), key, "1" + key[4:] + "0")
        attachment = payload["issue"]["fields"]["attachment"][0]
        attachment["id"] = "2" + key[4:]  # attachment ids are site-wide
        leaf = g.pem(g.server_cert(not_before=issued, not_after=not_after))
        h.seed(payload, attachments={attachment["id"]: leaf})
        h.post(payload, delivery_id=key)
    assert h.drain() == 3
    use_settings_of(h, monkeypatch, tmp_path)
    code, text = run_cli("cases", "--today", "2026-11-28")
    assert code == 0
    lines = text.splitlines()
    assert lines[0] == "cases: 3 open"
    order = [line.split()[1] for line in lines[2:]]
    assert order == ["UZO-482", "UZO-481", "UZO-400"]  # 3 Dec 2026, 25 May 2027, no deadline
    assert lines[2].split()[2:5] == ["renewal", "2026-12-03", "5"]
    assert lines[4].split()[3] == "-"
    assert fenced_commands()["uzibot cases"] == lines  # the README shows this very table
    # An agent finishes every sub-task of UZO-400; the bot resolves it: it leaves the list.
    walk_every_step(h, "UZO-400")
    code, text = run_cli("cases")
    assert text.splitlines()[0] == "cases: 2 open" and "UZO-400" not in text
    code, text = run_cli("cases", "--all")
    assert text.splitlines()[0] == "cases: 2 open, 1 closed"
    assert text.splitlines()[-1].split()[1] == "UZO-400" and text.rstrip().endswith("closed")


def test_replay_failed_replays_every_parked_delivery(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = make_harness(fake_jira, tmp_path)
    keys = [f"UZO-49{i}" for i in range(3)]
    fake_jira.inject(Fault.http(400, body={"errorMessages": ["nee"]}, method="POST", times=3))
    for i, key in enumerate(keys):
        payload = with_key(load_fixture(FIXTURE), key, f"1049{i}")
        h.seed(payload)
        h.post(payload, delivery_id=f"parked-{i}")
    h.drain()
    assert h.services.store.counts() == {"failed": 3}
    use_settings_of(h, monkeypatch, tmp_path)
    code, text = run_cli("replay", "--failed")
    assert code == 0, text
    assert "replayed 3 deliveries" in text and "3 ok, 0 not done" in text
    assert run_cli("replay")[0] == 2


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_only_on_a_terminal() -> None:
    tty, pipe = _Tty(), io.StringIO()
    for stream in (tty, pipe):
        with Progress(4, "replaying", stream=stream, min_interval=0) as bar:
            for _ in range(4):
                bar.advance()
    assert pipe.getvalue() == ""
    frames = tty.getvalue().split("\r")
    assert frames[-1].startswith("replaying [" + "#" * 30 + "] 4/4 100%")
    assert frames[-1].endswith("\n")
    assert any(" 2/4  50%" in f for f in frames)
