"""The built wheel is whole: installed into a fresh venv, `uzibot demo`, `cert` and `serve` work.

An editable install reads the source tree and hides missing package data, so this builds the
wheel from a copy of the project (without build isolation, offline), installs it with
`--no-deps --no-index` into a new venv that borrows this environment's dependencies through a
.pth file, and runs the console script from outside the source tree.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("pyproject.toml", "README.md", "bot", "handlers", "mappings", "tests")
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist", "*.db")
DATA_GLOBS = (
    "bot/examples/*",
    "bot/certs/ca/*.pem",
    "mappings/*.toml",
    "mappings/templates/*.j2",
)


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{output}"
    return output


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """(venv bin directory, the wheel, the build output)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    source.mkdir()
    for name in PROJECT_FILES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, symlinks=True, ignore=JUNK)
        else:
            shutil.copy2(path, source / name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    build = _run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"),
            *("--no-index", "-v", "-w", str(tmp / "dist"), str(source)),
        ],
        tmp,
        env,
    )
    (wheel,) = (tmp / "dist").glob("uzibot-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp)
    bin_dir = venv / "bin"
    (purelib,) = (venv / "lib").glob("python3*/site-packages")
    # The dependencies come from this environment; .pth files there (an editable uzibot) are
    # not processed for a directory added this way, so only the wheel provides `bot`.
    (purelib / "borrowed-dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n", encoding="utf-8"
    )
    _run(
        [
            *(sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install"),
            # --ignore-installed: a uzibot in the borrowed environment is neither reused nor
            # uninstalled; the wheel goes into the new venv.
            *("--no-deps", "--no-index", "--ignore-installed", str(wheel)),
        ],
        tmp,
    )
    return bin_dir, wheel, build


def test_the_wheel_holds_the_package_data(installed: tuple[Path, Path, str]) -> None:
    names = set(zipfile.ZipFile(installed[1]).namelist())
    data = {str(p.relative_to(ROOT)) for pattern in DATA_GLOBS for p in ROOT.glob(pattern)}
    assert {"bot/examples/servercertificaat.crt", "bot/examples/example-ca.pem"} <= data
    assert len(data) > 40
    assert data - names == set()


def test_building_the_wheel_warns_about_nothing(installed: tuple[Path, Path, str]) -> None:
    warnings = [line for line in installed[2].splitlines() if "warn" in line.lower()]
    assert warnings == []


def test_the_installed_package_is_the_wheel(
    installed: tuple[Path, Path, str], tmp_path: Path
) -> None:
    where = _run([str(installed[0] / "python"), "-c", "import bot; print(bot.__file__)"], tmp_path)
    assert str(installed[0].parent) in where and str(ROOT) not in where


def test_installed_demo_reads_the_bundled_certificate(
    installed: tuple[Path, Path, str], tmp_path: Path
) -> None:
    text = _run([str(installed[0] / "uzibot"), "demo"], tmp_path)
    assert "uzibot demo: 5 example requests" in text
    assert text.count("202 accepted; Jira's retry: 200 duplicate") == 5
    assert "* servercertificaat.crt: verdict *ok*" in text
    assert "Abonneenummer 07654321: matches the request" in text
    assert "DigiD off on 2027-02-22" in text
    assert "The file is empty" not in text and "Traceback" not in text


def test_installed_cert_judges_the_bundled_example(
    installed: tuple[Path, Path, str], tmp_path: Path
) -> None:
    python, uzibot = str(installed[0] / "python"), str(installed[0] / "uzibot")
    examples = _run(
        [
            python,
            "-c",
            "import bot, pathlib; print(pathlib.Path(bot.__file__).parent / 'examples')",
        ],
        tmp_path,
    ).strip()
    crt, ca = f"{examples}/servercertificaat.crt", f"{examples}/example-ca.pem"
    (report,) = json.loads(_run([uzibot, "cert", crt, "--today", "2026-06-01", "--json"], tmp_path))
    assert (report["verdict"], report["abonneenummer"], report["chain_verified"]) == (
        "ok",
        "07654321",
        None,
    )
    assert not any("does not verify" in p for p in report["problems"])
    text = _run([uzibot, "cert", crt, "--ca", ca, "--today", "2026-06-01"], tmp_path)
    lines = [line.split(None, 1) for line in text.splitlines() if line.strip()]
    assert ["verdict", "ok"] in lines and ["chain_verified", "yes"] in lines
    assert not any(line[0] == "problems" for line in lines)


def test_installed_serve_answers_health_and_readiness(
    installed: tuple[Path, Path, str], tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "JIRA_URL": "https://uzo-wheeltest.atlassian.net",
        "JIRA_USER": "uzibot@uzo-wheeltest.nl",
        "JIRA_API_TOKEN": "wheel-test-token-0123456789",
        "WEBHOOK_SECRET": "0123456789abcdef0123456789abcdef",
        "SERVICE_DESK_PROJECT": "UZO",
        "BOT_ACCOUNT_ID": "557058:wheel-test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
    }
    server = subprocess.Popen(
        [str(installed[0] / "uzibot"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        answers = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(answers) < 2 and server.poll() is None:
            try:
                for path in ("/healthz", "/readyz"):
                    answers[path] = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
        assert server.poll() is None, server.communicate()[0]
        assert {p: a.status_code for p, a in answers.items()} == {"/healthz": 200, "/readyz": 200}
        assert answers["/readyz"].json() == {"store": True, "worker": True}
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Traceback" not in output
