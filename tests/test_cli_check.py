"""`uzibot check` against the fake Jira with one thing wrong at a time, each with its fix."""

from __future__ import annotations

import io
import shutil
import socket
import time
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.mappings import load_mappings  # noqa: F401 - the bundled mappings must load
from tests.fakejira import FakeJira
from tests.harness import load_fixture, make_harness
from tests.test_readme import assert_shown_lines_appear, fenced_commands

BUNDLED = Path(__file__).resolve().parents[1] / "mappings"


def settings_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **overrides: str) -> None:
    env = {
        "JIRA_URL": "https://uwzorgonline.atlassian.net",
        "JIRA_USER": "uzibot@example.com",
        "JIRA_API_TOKEN": "api-token-for-tests",
        "WEBHOOK_SECRET": "s3cret-value",
        "SERVICE_DESK_PROJECT": "UZO",
        "TRACKING_PROJECT": "TRK",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'uzibot.db'}",
        **overrides,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)


def check(*extra: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["check", *extra], out=out)
    return code, out.getvalue()


def mappings_with(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A full copy of the bundled mappings with one edit."""
    target = tmp_path / "mappings"
    shutil.copytree(BUNDLED, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    text = (target / file).read_text(encoding="utf-8")
    assert old in text
    (target / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def fail_block(text: str, name: str) -> list[str]:
    """The FAIL line of a check and the indented lines under it."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"FAIL  {name}"))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("      "):
            break
        block.append(line.strip())
    return block


def test_everything_right_lists_ok_and_checks_transitions_on_a_case(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture("practice_change-abonneenummer-promedico")
    h.seed(payload)
    h.post(payload, delivery_id="one")
    h.drain()
    settings_env(
        monkeypatch,
        tmp_path,
        JIRA_URL=fake_jira.base_url,
        DATABASE_URL=h.settings.database_url,
        TRACKING_PROJECT="UZO",
    )
    code, text = check()
    assert code == 0, text
    assert "ok    transitions: UZO-400 offers 'Resolve this issue'; UZO-" in text
    assert "offers 'Done'" in text
    lines = [line.strip() for line in text.splitlines()]
    assert "site has request types of service desk 1: 101 Wijziging praktijkgegevens, " in text
    assert any(
        line.startswith("site has transitions of UZO-400: ") and "Resolve this issue" in line
        for line in lines
    )


def test_no_case_yet_skips_transitions_and_says_how_to_name_one(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_env(monkeypatch, tmp_path, JIRA_URL=fake_jira.base_url)
    code, text = check()
    assert code == 0, text
    assert "skip  transitions: no case in the journal yet" in text
    assert "uzibot check --request KEY" in text


def test_missing_field_names_it_lists_the_site_fields_and_the_fix(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_jira.site.fields = tuple(f for f in fake_jira.site.fields if f.name != "Praktijknaam")
    settings_env(monkeypatch, tmp_path, JIRA_URL=fake_jira.base_url)
    code, text = check()
    assert code == 1
    fail, fix, has = fail_block(text, "request fields")
    assert fail == "FAIL  request fields: custom fields not found by name: Praktijknaam"
    assert fix.startswith("fix: give the request form a field with that name")
    assert "fields.toml" in fix and "uzibot mappings init DIR" in fix
    assert has.startswith("site has custom fields: ") and "Abonneenummer (customfield_10051)" in has
    assert text.rstrip().endswith("1 check(s) failed")
    assert_shown_lines_appear(fenced_commands()["uzibot check"], text)  # the README's example


def test_wrong_project_lists_the_service_desks(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_env(monkeypatch, tmp_path, JIRA_URL=fake_jira.base_url, SERVICE_DESK_PROJECT="UZX")
    code, text = check()
    assert code == 1
    fail, fix, has = fail_block(text, "service desk project UZX")
    assert "project UZX not found" in fail
    assert fix.startswith("fix: set SERVICE_DESK_PROJECT to the project's key")
    assert has.startswith("site has service desk projects: UZO (")
    request_types = fail_block(text, "request types")
    assert "UZX is not a service desk project" in request_types[0]


def test_request_type_id_the_site_lacks_lists_the_site_types(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mappings = mappings_with(
        tmp_path,
        "request_types.toml",
        'id = "103"\nname = "UZI-servercertificaat vernieuwen"',
        'id = "903"\nname = "Certificaat vernieuwen"',
    )
    settings_env(monkeypatch, tmp_path, JIRA_URL=fake_jira.base_url, MAPPINGS_DIR=str(mappings))
    code, text = check()
    assert code == 1
    fail, fix, has = fail_block(text, "request types")
    assert fail == "FAIL  request types: request type '903' is not on the site (by id or name)"
    assert "request_types.toml" in fix and "drop the id" in fix
    assert has.startswith(
        "site has request types of service desk 1: 101 Wijziging praktijkgegevens"
    )
    assert "103 UZI-servercertificaat vernieuwen" in has


def test_an_id_the_site_lacks_is_resolved_by_name_with_a_warning(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mappings = mappings_with(tmp_path, "request_types.toml", 'id = "103"', 'id = "903"')
    settings_env(monkeypatch, tmp_path, JIRA_URL=fake_jira.base_url, MAPPINGS_DIR=str(mappings))
    code, text = check()
    assert code == 0, text
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("warn  request types: "))
    assert lines[at + 1].strip() == (
        "request type 'UZI-servercertificaat vernieuwen' resolved by name to id 103 (was 903)"
    )
    assert any(line.strip().startswith("fix: in request_types.toml") for line in lines[at:])


def test_missing_transition_lists_what_the_request_offers(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture("practice_change-abonneenummer-promedico")
    h.seed(payload)
    h.post(payload, delivery_id="one")
    h.drain()
    mappings = mappings_with(
        tmp_path,
        "workflows.toml",
        'resolve_transition = "Resolve this issue"',
        'resolve_transition = "Close request"',
    )
    settings_env(
        monkeypatch,
        tmp_path,
        JIRA_URL=fake_jira.base_url,
        DATABASE_URL=h.settings.database_url,
        MAPPINGS_DIR=str(mappings),
    )
    code, text = check()
    assert code == 1
    fail, fix, has = fail_block(text, "transitions")
    assert fail.startswith("FAIL  transitions: request UZO-400 (status ")
    assert fail.endswith("offers no transition 'Close request'")
    assert "lifecycle.resolve_transition" in fix and "workflows.toml" in fix
    assert has.startswith("site has transitions of UZO-400: ") and "Resolve this issue" in has


def test_bad_credentials_stop_after_one_line_with_the_fix(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_jira.sandbox.credentials = ("uzibot@example.com", "the-real-token")
    settings_env(monkeypatch, tmp_path, JIRA_URL=fake_jira.base_url)
    code, text = check()
    assert code == 1
    lines = text.splitlines()
    assert lines[0].startswith("ok    database")
    assert lines[1].startswith("FAIL  jira auth: ") and "(HTTP 401)" in lines[1]
    assert "fix: JIRA_USER is the bot account's e-mail" in lines[1]
    assert "unscoped API token" in lines[1] and "at most a year" in lines[1]
    assert lines[2].startswith("stopped after the failed sign-in")
    assert len(lines) == 3
    assert len([r for r in fake_jira.request_log if r.path.endswith("/myself")]) == 1


def test_unreachable_host_is_reported_in_under_3_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: connections are refused
    settings_env(monkeypatch, tmp_path, JIRA_URL=f"http://127.0.0.1:{port}")
    started = time.monotonic()
    code, text = check()
    elapsed = time.monotonic() - started
    assert code == 1
    lines = text.splitlines()
    assert lines[1].startswith(f"FAIL  jira auth: cannot reach http://127.0.0.1:{port} (")
    assert "fix: check JIRA_URL" in lines[1]
    assert len(lines) == 3
    assert elapsed < 3.0, elapsed


def test_a_host_that_never_answers_is_reported_in_under_3_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        settings_env(monkeypatch, tmp_path, JIRA_URL=f"http://127.0.0.1:{port}")
        started = time.monotonic()
        code, text = check()
        elapsed = time.monotonic() - started
    assert code == 1
    lines = text.splitlines()
    assert lines[1].startswith(f"FAIL  jira auth: cannot reach http://127.0.0.1:{port} (")
    assert len(lines) == 3
    assert elapsed < 3.0, elapsed


def test_a_database_that_cannot_be_opened_is_one_fail_line_and_the_site_is_still_checked(
    fake_jira: FakeJira,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-dir' / 'uzibot.db'}"
    settings_env(monkeypatch, tmp_path, JIRA_URL=fake_jira.base_url, DATABASE_URL=url)
    code, text = check()
    assert code == 1
    fail, fix = fail_block(text, "database")
    assert fail == f"FAIL  database: cannot open the database {url}: unable to open database file"
    assert fix.startswith("fix: check DATABASE_URL")
    assert "ok    jira auth: signed in" in text and "ok    link type: Relates" in text
    assert text.rstrip().endswith("1 check(s) failed")
    assert main(["deliveries"]) == 2  # the other commands: one line, no traceback
    err = capsys.readouterr().err
    assert err.startswith(f"uzibot: cannot open the database {url}: ") and "Traceback" not in err
