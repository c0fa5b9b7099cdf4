"""Start-up: `uzibot --help` and `uzibot cert` import only what they use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER_ONLY = ("pydantic_settings", "fastapi", "sqlalchemy", "uvicorn", "jinja2", "atlassian")
PROBE = """
import contextlib, io, json, sys
from bot.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def loaded(*args: str) -> tuple[int, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True, check=True
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return found["code"], {name.split(".")[0] for name in found["modules"]}


def test_help_imports_no_settings_server_or_certificate_libraries() -> None:
    code, modules = loaded("--help")
    assert code == 0
    assert not modules & {*SERVER_ONLY, "pydantic", "cryptography"}


def test_cert_imports_the_reader_but_no_settings_or_server() -> None:
    code, modules = loaded("cert", str(ROOT / "bot" / "examples" / "servercertificaat.crt"))
    assert code in (0, 1)
    assert "cryptography" in modules
    assert not modules & set(SERVER_ONLY)
