"""A standalone `uzibot worker` serves its metrics on METRICS_PORT, and nothing without it."""

from __future__ import annotations

import io
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.cli.worker import run_worker
from bot.settings import SettingsError, load_settings
from tests.fakejira import FakeJira
from tests.harness import load_fixture, make_harness

FIXTURE = "practice_change-abonneenummer-promedico"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    # urllib, not requests: the fake Jira's `responses` mock intercepts every requests call.
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_the_worker_serves_its_metrics_on_metrics_port_while_it_runs(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    port = free_port()
    h = make_harness(
        fake_jira,
        tmp_path,
        env={"METRICS_PORT": str(port), "EXPIRY_SCAN_SECONDS": "0", "WORKER_POLL_SECONDS": "0.05"},
    )
    payload = load_fixture(FIXTURE)
    h.seed(payload)
    assert h.post(payload, delivery_id="d1").status_code == 202
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(run_worker(h.services, h.settings, stop)), daemon=True
    )
    thread.start()
    try:
        processed = ("uzibot_deliveries_processed_total", (("outcome", "done"),))
        deadline = time.monotonic() + 20
        samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        while time.monotonic() < deadline:
            try:
                samples = scrape(port)
            except (urllib.error.URLError, ConnectionError):
                samples = {}
            if samples.get(processed) == 1:
                break
            time.sleep(0.05)
        assert samples.get(processed) == 1, sorted(samples)[:20]
        assert samples[("uzibot_queue_depth", ())] == 0
        calls = [k for k in samples if k[0] == "uzibot_jira_calls_total"]
        assert calls and all(samples[k] >= 1 for k in calls)
        assert not any(name.startswith("uzibot_intake") for name, _ in samples)  # never moves
    finally:
        stop.set()
        thread.join(10)
    assert result == [0]
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        scrape(port)  # stopped with the worker


def test_a_taken_metrics_port_is_one_line_and_exit_2(fake_jira: FakeJira, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        h = make_harness(fake_jira, tmp_path, env={"METRICS_PORT": str(port)})
        err = io.StringIO()
        assert run_worker(h.services, h.settings, threading.Event(), err=err) == 2
    assert err.getvalue().startswith(f"uzibot worker: cannot serve metrics on port {port}: ")
    assert "fix: set METRICS_PORT to a free port, or unset it" in err.getvalue()


def test_metrics_port_is_off_by_default_and_must_not_clash() -> None:
    base = {
        "JIRA_URL": "https://uwzorgonline.atlassian.net",
        "JIRA_USER": "bot@example.com",
        "JIRA_API_TOKEN": "t0ken-for-tests",
        "WEBHOOK_SECRET": "s3cret-for-tests",
        "SERVICE_DESK_PROJECT": "UZO",
    }
    assert load_settings(base, env_file=None).metrics_port is None
    assert load_settings({**base, "METRICS_PORT": "9100"}, env_file=None).metrics_port == 9100
    with pytest.raises(SettingsError, match="METRICS_PORT must differ"):
        load_settings({**base, "METRICS_PORT": "8000"}, env_file=None)
