"""Settings: required values, placeholders and the exit status of the CLI when they are wrong."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

GOOD = {
    "JIRA_URL": "https://uzo.atlassian.net/",
    "JIRA_USER": "bot@uwzorgonline.nl",
    "JIRA_API_TOKEN": "ATATT3xFfGF0-real-looking",
    "WEBHOOK_SECRET": "new-secret-1, old-secret-0",
    "SERVICE_DESK_PROJECT": "uzo",
}
ENV_NAMES = [*GOOD, "TRACKING_PROJECT", "DATABASE_URL", "PORT", "AUTOMATION_SECRET"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_good_settings_normalise_and_default() -> None:
    s = load_settings(GOOD, env_file=None)
    assert s.jira_url == "https://uzo.atlassian.net"
    assert s.service_desk_project == "UZO" and s.tracking_project == "UZO"
    assert s.webhook_secrets() == [b"new-secret-1", b"old-secret-0"]
    assert s.automation_secrets() == s.webhook_secrets()
    assert "ATATT" not in repr(s)


def test_each_missing_variable_is_named_on_its_own_line() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({"JIRA_USER": "bot@uwzorgonline.nl"}, env_file=None)
    names = [line.split(":")[0] for line in err.value.problems]
    assert names == ["JIRA_URL", "JIRA_API_TOKEN", "WEBHOOK_SECRET", "SERVICE_DESK_PROJECT"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JIRA_API_TOKEN", "changeme"),
        ("WEBHOOK_SECRET", "<secret>"),
        ("JIRA_URL", "https://your-site.atlassian.net"),
        ("PORT", "99999"),
        ("SERVICE_DESK_PROJECT", "not a key"),
        ("DATABASE_URL", "mysql://x"),
    ],
)
def test_placeholders_and_invalid_values_are_refused(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({**GOOD, name: value}, env_file=None)
    assert len(err.value.problems) == 1 and err.value.problems[0].startswith(f"{name}:")


def test_serve_without_jira_url_exits_2_and_names_it(tmp_path: Path) -> None:
    env = {k: v for k, v in GOOD.items() if k != "JIRA_URL"}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "uzibot"), "serve"],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "uzibot: JIRA_URL: missing; set it in the environment or .env"
    ]


def test_settings_come_from_a_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("\n".join(f"{k}={v}" for k, v in GOOD.items()))
    assert load_settings().service_desk_project == "UZO"


def test_readme_settings_table_lists_exactly_the_settings() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.MULTILINE))
    from bot.settings import Settings

    assert documented == {name.upper() for name in Settings.model_fields}
