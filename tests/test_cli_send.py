"""`uzibot send` against the real app served by uvicorn on 127.0.0.1 (a thread in the test)."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from bot.cli.main import main
from tests.fakejira import FakeJira
from tests.harness import NEW_SECRET, Harness, make_harness

EXAMPLE = (
    Path(__file__).resolve().parents[1] / "bot" / "examples" / "01-abonneenummer-promedico.json"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(fake_jira: FakeJira, tmp_path: Path) -> Iterator[tuple[Harness, str]]:
    """The harness's app on a real socket; yields (harness, webhook URL)."""
    h = make_harness(fake_jira, tmp_path)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(h.app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield h, f"http://127.0.0.1:{port}/webhooks/jira"
    server.should_exit = True
    thread.join(timeout=10)


def use_env(h: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, secret: str) -> None:
    for name, value in {
        "JIRA_URL": h.settings.jira_url,
        "JIRA_USER": "uzibot@example.com",
        "JIRA_API_TOKEN": "api-token-for-tests",
        "WEBHOOK_SECRET": secret,
        "SERVICE_DESK_PROJECT": "UZO",
        "DATABASE_URL": h.settings.database_url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)


def test_send_signs_and_posts_the_bundled_example(
    served: tuple[Harness, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    h, url = served
    use_env(h, monkeypatch, tmp_path, NEW_SECRET)
    out = io.StringIO()
    assert main(["send", str(EXAMPLE), "--url", url, "--id", "by-hand-1"], out=out) == 0
    assert out.getvalue().startswith(f"POST {EXAMPLE.name} -> {url}: 202 ")
    assert '"delivery":"by-hand-1"' in out.getvalue()
    stored = h.services.store.get("by-hand-1")
    assert stored is not None and stored.body == EXAMPLE.read_bytes()  # the bytes as they are
    assert stored.issue_key == "UZO-400"
    out = io.StringIO()
    assert main(["send", str(EXAMPLE), "--url", url, "--id", "by-hand-1"], out=out) == 0
    assert ": 200 " in out.getvalue() and "duplicate" in out.getvalue()


def test_send_with_the_wrong_secret_is_refused(
    served: tuple[Harness, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    h, url = served
    use_env(h, monkeypatch, tmp_path, "not-the-secret-of-serve")
    out = io.StringIO()
    assert main(["send", str(EXAMPLE), "--url", url], out=out) == 1
    assert ": 401 " in out.getvalue()
    assert h.services.store.counts() == {}


def test_send_says_what_is_wrong_without_a_server_or_with_a_bad_file(
    fake_jira: FakeJira,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    h = make_harness(fake_jira, tmp_path)
    use_env(h, monkeypatch, tmp_path, NEW_SECRET)
    url = f"http://127.0.0.1:{free_port()}/webhooks/jira"
    assert main(["send", str(EXAMPLE), "--url", url]) == 1
    assert f"cannot reach {url}" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    assert main(["send", str(bad), "--url", url]) == 2
    assert "bad.json is not JSON" in capsys.readouterr().err
