"""`uzibot serve` as shipped: JSON logs from both processes, the worker's metrics on /metrics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from bot.signature import sign
from tests.test_serve import _free_port, _until

SECRET = "serve-observability-secret-0815"
TOKEN = "never-used-token-4711"


def test_serve_logs_json_from_both_processes_and_exports_the_worker_metrics(
    tmp_path: Path,
) -> None:
    port = _free_port()
    env = dict(
        os.environ,
        JIRA_URL="https://serve-test.atlassian.net",
        JIRA_USER="bot@example.org",
        JIRA_API_TOKEN=TOKEN,
        WEBHOOK_SECRET=SECRET,
        SERVICE_DESK_PROJECT="UZO",
        DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
        BOT_ACCOUNT_ID="557058:serve-test",
        WORKER_POLL_SECONDS="0.2",
        JIRA_MAX_ATTEMPTS="1",
    )
    stderr = (tmp_path / "serve.err").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    base = f"http://127.0.0.1:{port}"

    def processed() -> float:
        text = requests.get(f"{base}/metrics", timeout=2).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "uzibot_deliveries_processed_total":
                    return sample.value
        return 0.0

    try:
        assert _until(lambda: requests.get(f"{base}/readyz", timeout=1).status_code == 200, 30)
        body = json.dumps({"timestamp": 1, "webhookEvent": "worklog_created"}).encode()
        headers = {
            "X-Hub-Signature": sign(body, SECRET.encode()),
            "Content-Type": "application/json",
            "X-Atlassian-Webhook-Identifier": "observed-1",
        }
        assert (
            requests.post(
                f"{base}/webhooks/jira", data=body, headers=headers, timeout=5
            ).status_code
            == 202
        )
        assert requests.post(f"{base}/webhooks/jira", data=b"{}", timeout=5).status_code == 401
        # The worker (another process) processed it; the intake's /metrics shows its counter.
        assert _until(lambda: processed() == 1.0, 20)
        text = requests.get(f"{base}/metrics", timeout=2).text
        names = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
        assert len(names) == len(set(names))  # each family once: intake's and worker's apart
        assert "uzibot_queue_depth" in names and "uzibot_processing_seconds" in names
        assert "uzibot_intake_total" in names and "uzibot_jira_calls_total" in names
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
            stderr.close()
    err = (tmp_path / "serve.err").read_text(encoding="utf-8")
    entries = [json.loads(line) for line in err.splitlines()]  # every line JSON, both processes
    starts = [e for e in entries if e["message"].startswith("uzibot serve on 127.0.0.1:")]
    assert len(starts) == 1 and "JIRA_API_TOKEN=[set]" in starts[0]["message"]
    assert "(intake on uvloop;" in starts[0]["message"]  # the loop uvicorn picks, not asyncio's
    # No line per request by default (ACCESS_LOG=false): refusals are logged by the intake.
    assert not [e for e in entries if e["logger"] == "uvicorn.access"]
    [finished] = [e for e in entries if e.get("delivery") == "observed-1" and "outcome" in e]
    assert finished["outcome"] == "ignored:event" and finished["logger"] == "uzibot.worker"
    assert any(e["message"].startswith("refused jira delivery with 401") for e in entries)
    assert TOKEN not in err and SECRET not in err and "bot@example.org" not in err
