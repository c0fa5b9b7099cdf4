"""`uzibot serve` as shipped: intake here, worker in a child process that beats and restarts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

from bot.inbox.db import open_store
from bot.signature import sign

SECRET = "serve-test-secret-4711"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except requests.RequestException:
            pass
        time.sleep(0.1)
    return False


def _children(pid: int) -> list[int]:
    """The worker processes of `serve` (not multiprocessing's resource tracker)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    kids = [int(p) for p in path.read_text().split()] if path.exists() else []
    return [k for k in kids if b"spawn_main" in _cmdline(k)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_serve_runs_the_worker_in_a_child_process_and_restarts_it(tmp_path: Path) -> None:
    db = tmp_path / "serve.db"
    port = _free_port()
    env = dict(
        os.environ,
        JIRA_URL="https://serve-test.atlassian.net",
        JIRA_USER="bot@example.org",
        JIRA_API_TOKEN="never-used-token-123",
        WEBHOOK_SECRET=SECRET,
        SERVICE_DESK_PROJECT="UZO",
        DATABASE_URL=f"sqlite:///{db}",
        BOT_ACCOUNT_ID="557058:serve-test",
        WORKER_POLL_SECONDS="0.2",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert _until(lambda: requests.get(f"{base}/readyz", timeout=1).status_code == 200, 30)
        assert requests.get(f"{base}/readyz", timeout=1).json() == {"store": True, "worker": True}
        workers = _children(proc.pid)
        assert len(workers) == 1
        body = json.dumps({"timestamp": 1, "webhookEvent": "worklog_created"}).encode()
        headers = {
            "X-Hub-Signature": sign(body, SECRET.encode()),
            "Content-Type": "application/json",
        }
        answer = requests.post(
            f"{base}/webhooks/jira",
            data=body,
            headers={**headers, "X-Atlassian-Webhook-Identifier": "serve-1"},
            timeout=5,
        )
        assert answer.status_code == 202
        store = open_store(f"sqlite:///{db}")
        try:
            assert _until(lambda: store.get("serve-1").status == "done", 20)  # type: ignore[union-attr]
            assert store.get("serve-1").outcome == "ignored:event"  # type: ignore[union-attr]
        finally:
            store.close()
        # The worker dies: /readyz says so, and serve starts a new one.
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        assert _until(lambda: requests.get(f"{base}/readyz", timeout=1).status_code == 503, 10)
        assert _until(lambda: requests.get(f"{base}/readyz", timeout=1).status_code == 200, 30)
        assert set(_children(proc.pid)).isdisjoint(workers)
        workers = _children(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled
    assert _until(lambda: not any(_cmdline(pid) for pid in workers), 10)
