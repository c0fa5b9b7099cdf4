"""Every command the README shows is run by a test or by .ci/run, and its shown output is true."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)

# Each command in a fenced block of the README, and what runs it. A new command in the README
# fails test_every_readme_command_is_run until it is added here with a test that runs it.
RUN_HERE = "tests/test_readme.py"
RUNNERS = {
    "pip install . && uzibot serve": "tests/test_wheel.py (wheel install, serve answers)",
    "python -m pytest": ".ci/run (twice)",
    "uzibot demo": RUN_HERE,
    "uzibot plan --example-site tests/fixtures/webhooks/practice_change-card_holder-bricks.json": (
        RUN_HERE
    ),
    "uzibot cert --ca bot/examples/example-ca.pem --today 2026-06-01 "
    "bot/examples/servercertificaat.crt": RUN_HERE,
    "uzibot check": "tests/test_cli_check.py (one thing wrong at a time, each with its fix)",
    "uzibot mappings init /etc/uzibot/mappings": "tests/test_mappings_site.py",
    "export MAPPINGS_DIR=/etc/uzibot/mappings": "tests/test_mappings_site.py (partial dir)",
    "uzibot deliveries": "tests/test_cli_inbox.py (the shown table)",
    "uzibot cases": "tests/test_cli_inbox.py (the shown table)",
    "uzibot send bot/examples/01-abonneenummer-promedico.json": (
        "tests/test_cli_send.py (against uvicorn on 127.0.0.1)"
    ),
    **dict.fromkeys(
        (
            "uzibot certs import certs --contacts contacts.csv",
            "uzibot certs list --today 2027-01-04",
            "uzibot watch --once --today 2026-12-01",
            "uzibot watch --once --today 2027-01-04",
        ),
        "tests/test_watch_readme.py",
    ),
}


def fenced_commands() -> dict[str, list[str]]:
    """README command -> the output lines shown under it (console blocks only)."""
    commands: dict[str, list[str]] = {}
    for lang, body in FENCE.findall(README):
        if lang == "sh":
            commands.update({line.strip(): [] for line in body.splitlines() if line.strip()})
        elif lang == "console":
            current: list[str] = []
            for line in body.splitlines():
                if line.startswith("$ "):
                    current = commands.setdefault(line[2:].strip(), [])
                else:
                    current.append(line)
    return commands


def run_uzibot(command: str) -> str:
    args = command.split()
    assert args[0] == "uzibot"
    out = io.StringIO()
    assert main(args[1:], out=out) == 0, out.getvalue()
    return out.getvalue()


def assert_shown_lines_appear(shown: list[str], output: str) -> None:
    """Each shown line (a trailing '...' elides the rest) is in the output, in order."""
    lines = output.splitlines()
    at = 0
    for shown_line in shown:
        wanted = shown_line.removesuffix("...").rstrip()
        if not wanted:
            continue
        while at < len(lines) and wanted not in lines[at]:
            at += 1
        assert at < len(lines), f"README shows {shown_line!r}, the command does not print it"


def test_every_readme_command_is_run() -> None:
    assert sorted(fenced_commands()) == sorted(RUNNERS)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest" in ci and 'run_tests "$root"' in ci and 'run_tests "$plain"' in ci


@pytest.mark.parametrize(
    "command", [c for c, runner in RUNNERS.items() if runner == RUN_HERE and "cert" not in c]
)
def test_readme_output_is_what_the_command_prints(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    shown = fenced_commands()[command]
    assert shown, f"the README shows no output for {command}"
    assert_shown_lines_appear(shown, run_uzibot(command))


def test_readme_cert_command_verifies_the_example(monkeypatch: pytest.MonkeyPatch) -> None:
    (command,) = [c for c in RUNNERS if c.startswith("uzibot cert ")]
    monkeypatch.chdir(ROOT)
    (report,) = json.loads(run_uzibot(command + " --json"))
    assert (report["verdict"], report["chain_verified"], report["problems"]) == ("ok", True, [])


def test_every_uzibot_command_named_in_the_readme_exists() -> None:
    parser = build_parser()
    choices = next(action.choices for action in parser._actions if isinstance(action.choices, dict))
    named = set(re.findall(r"`uzibot ([a-z]+)\b", README))
    assert named, "the README names no uzibot command"
    assert named <= set(choices), sorted(named - set(choices))


def test_the_readme_secret_command_prints_a_secret() -> None:
    (command,) = re.findall(r'`(python -c "import secrets[^`]*)`', README.replace("\n   ", " "))
    code = command.removeprefix("python -c ").strip('"')
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert re.fullmatch(r"[0-9a-f]{64}\n", done.stdout)
