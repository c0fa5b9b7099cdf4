"""The CLI commands that need no running server: plan, demo, check, deliveries."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.fakejira import FakeJira
from tests.harness import FIXTURES, make_harness

PROMEDICO = FIXTURES / "practice_change-abonneenummer-promedico.json"


def test_plan_prints_the_case_and_the_exact_comments_without_jira() -> None:
    out = io.StringIO()
    assert main(["plan", "--example-site", str(PROMEDICO)], out=out) == 0
    text = out.getvalue()
    assert "tracking issue: Praktijkwijziging abonneenummer: Huisartsenpraktijk De Linde" in text
    assert "sub-task [new_certificate]: Nieuw UZI-servercertificaat: praktijk uploadt zelf" in text
    assert "-- public comment on UZO-400 [practice_change:ack]" in text
    assert "Opslaan en afronden" in text
    assert "-- internal note on UZO-400 [practice_change:note]" in text


def test_plan_json_is_the_plan_model() -> None:
    out = io.StringIO()
    assert main(["plan", "--json", "--example-site", str(PROMEDICO)], out=out) == 0
    plans = json.loads(out.getvalue())
    assert [p["handler"] for p in plans] == ["practice_change"]
    assert [s["slug"] for s in plans[0]["case"]["subtasks"]] == [
        "digid_off",
        "new_certificate",
        "dictu_approval",
        "digid_on",
    ]


def test_plan_offline_names_the_fields_it_could_not_read() -> None:
    out = io.StringIO()
    assert main(["plan", str(PROMEDICO)], out=out) == 0
    first = out.getvalue().splitlines()[0]
    assert first.startswith("field ids unknown, their values were not read: Praktijknaam, ")
    assert "--example-site" in first


def test_plan_of_a_bad_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    assert main(["plan", str(bad)]) == 1
    assert "bad.json" in capsys.readouterr().err
    assert main(["plan", str(tmp_path / "missing.json")]) == 1


def test_demo_runs_the_pipeline_against_the_sandbox() -> None:
    out = io.StringIO()
    assert main(["demo"], out=out) == 0
    text = out.getvalue()
    assert "202 accepted; Jira's retry: 200 duplicate" in text
    assert "tracking issue UZO-" in text and "--- public comment:" in text
    assert "--- internal note:" in text
    assert "Traceback" not in text


def test_check_reports_every_step_against_the_site(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = make_harness(fake_jira, tmp_path)
    for name, value in {
        "JIRA_URL": fake_jira.base_url,
        "JIRA_USER": "uzibot@example.com",
        "JIRA_API_TOKEN": "api-token-for-tests",
        "WEBHOOK_SECRET": "s3cret-value",
        "SERVICE_DESK_PROJECT": "UZO",
        "TRACKING_PROJECT": "TRK",
        "DATABASE_URL": h.settings.database_url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    assert main(["check"], out=out) == 0, out.getvalue()
    text = out.getvalue()
    assert "ok    jira auth: signed in as account 557058:uzibot-bot" in text
    assert "ok    tracking project TRK" in text
    assert "Praktijknaam=customfield_10050" in text and "request type=customfield_10010" in text
    assert "ok    link type: Relates" in text
    assert "ok    request types: service desk 1: 4 mapped request types found" in text
    assert "ok    tracking project TRK: " in text and "Sub-task, Task" in text
    assert text.rstrip().endswith("all checks passed")
    monkeypatch.setenv("TRACKING_PROJECT", "NOPE")
    out = io.StringIO()
    assert main(["check"], out=out) == 1
    assert "FAIL  tracking project NOPE" in out.getvalue()
