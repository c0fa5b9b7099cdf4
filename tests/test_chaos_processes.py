"""Chaos across real processes: exactly one case and one of each comment per request.

The sandbox Jira runs in its own process (bench/jira_server.py) and answers 10% of calls
with 429/503 and drops 5% of answers after applying them, with latency; `uzibot serve` and
`uzibot worker` processes share one database; 200 requests are posted signed, 30% of them
again with the same delivery id (Jira's retry) and 30% with a new id (a re-delivery); serve
and worker processes are SIGKILLed at random moments and restarted; a 429 storm outlasts the
lease. Then, once every delivery is done, the sandbox's state must show, for each request,
one case, its sub-tasks once each and one public and one internal comment.

Everything listens on 127.0.0.1; every loop has a deadline; every child runs in its own
process group, which is killed at the end whatever happens.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.inbox.db import open_store
from bot.signature import sign
from tests.harness import load_fixture, with_key
from tests.pgdb import fresh_database

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SECRET = "chaos-secret-0123456789"
FIXTURES = {  # fixture -> number of sub-tasks its case gets
    "practice_change-abonneenummer-promedico": 4,
    "practice_change-contract_holder-omnihis": 3,
}
LEASE_SECONDS = 4.0  # at least twice JIRA_TIMEOUT_SECONDS (the settings check)
STORM_SECONDS = 10.0  # longer than the lease
SETTLE_DEADLINE = 150.0  # seconds for every delivery to be done after the chaos


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.pid} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {seconds} s")


@dataclass(eq=False)
class Child:
    """One supervised process of the test: a serve (with a port) or a worker."""

    role: str
    cmd: list[str]
    env: dict[str, str]
    log: Path
    port: int | None = None
    proc: subprocess.Popen[bytes] | None = None
    groups: list[int] = field(default_factory=list)

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.cmd,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: the cleanup reaches its children
            )
        self.groups.append(self.proc.pid)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the process itself (a serve's worker child notices and stops on its own)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def cleanup(self) -> None:
        """SIGKILL every session this child started that still has a process (orphans too)."""
        for group in self.groups:
            if session_alive(group):
                with suppress(ProcessLookupError, PermissionError):
                    os.killpg(group, signal.SIGKILL)
        if self.proc is not None:
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)


def session_alive(sid: int) -> bool:
    """True while a process of the session `sid` (which our child led) still runs."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == sid and int(fields[3]) == sid:  # pgrp and session
            return True
    return False


@contextmanager
def children() -> Iterator[list[Child]]:
    started: list[Child] = []
    try:
        yield started
    finally:
        for child in started:
            child.cleanup()


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "postgresql":
        with fresh_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'chaos.db'}"


def deliveries(url: str) -> dict[str, int]:
    store = open_store(url)
    try:
        return store.counts()
    finally:
        store.close()


def post(
    serves: list[Child],
    body: bytes,
    delivery_id: str,
    rng: random.Random,
    deadline: float,
    tick: Callable[[], None],
) -> int:
    """Post like Jira: to a live serve; a refused or failed post is retried (same id)."""
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature": sign(body, SECRET.encode()),
        "X-Atlassian-Webhook-Identifier": delivery_id,
    }
    while time.monotonic() < deadline:
        serve = rng.choice(serves)
        try:
            answer = requests.post(
                f"http://127.0.0.1:{serve.port}/webhooks/jira",
                data=body,
                headers=headers,
                timeout=5,
            )
        except requests.RequestException:
            tick()  # a dead serve comes back when its time has come
            time.sleep(0.05)
            continue
        if answer.status_code in (200, 202):
            return answer.status_code
        assert answer.status_code >= 500, (answer.status_code, answer.text)
        tick()
        time.sleep(0.05)
    raise AssertionError(f"delivery {delivery_id} was never accepted")


def run_chaos(
    kind: str,
    tmp_path: Path,
    *,
    serves: int,
    workers: int,
    requests_total: int,
    kill: set[str],
    kill_gap: tuple[float, float],
) -> dict[str, Any]:
    """Run the chaos; `kill_gap` bounds the seconds between kills (after restarts)."""
    rng = random.Random(f"chaos-{kind}-20261129")
    payloads: list[tuple[bytes, str, int]] = []
    with (tmp_path / "seed.jsonl").open("w") as seed:
        for i in range(requests_total):
            name = list(FIXTURES)[i % len(FIXTURES)]
            payload = with_key(load_fixture(name), f"UZO-{3000 + i}", str(93000 + i))
            seed.write(json.dumps(payload) + "\n")
            payloads.append((json.dumps(payload).encode(), payload["issue"]["key"], FIXTURES[name]))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "LEASE"))}
    base_env["PYTHONPATH"] = str(ROOT)
    kills: Counter[str] = Counter()
    posts: Counter[str] = Counter()
    started = time.monotonic()
    with database(kind, tmp_path) as url, children() as procs:
        jira_port = free_port()
        jira = Child(
            "jira",
            [
                sys.executable,
                "-m",
                "bench.jira_server",
                "--port",
                str(jira_port),
                "--seed",
                str(tmp_path / "seed.jsonl"),
                "--latency",
                "0.002",
                "--jitter",
                "0.01",
                "--error-rate",
                "0.10",
                "--lost-rate",
                "0.05",
                "--fault-seed",
                "20261129",
            ],
            base_env,
            tmp_path / "jira.log",
            port=jira_port,
        )
        procs.append(jira)
        jira.start()
        assert jira.proc is not None
        wait_listening(jira_port, jira.proc)
        env = dict(
            base_env,
            JIRA_URL=f"http://127.0.0.1:{jira_port}",
            JIRA_USER="chaos@example.org",
            JIRA_API_TOKEN="chaos-token-123",
            WEBHOOK_SECRET=SECRET,
            SERVICE_DESK_PROJECT="UZO",
            DATABASE_URL=url,
            BOT_ACCOUNT_ID="557058:uzibot-bot",
            LOG_LEVEL="WARNING",
            LEASE_SECONDS=str(LEASE_SECONDS),
            JIRA_TIMEOUT_SECONDS="2",
            JIRA_MAX_WAIT_SECONDS="2",
            WORKER_POLL_SECONDS="0.2",
            WORKER_BACKOFF_BASE_SECONDS="0.5",
            WORKER_BACKOFF_CAP_SECONDS="2",
            WORKER_MAX_ATTEMPTS="1000",
            # Time is squeezed here like the backoff above: the production default of 5
            # writes/s per process would take the drain far past the test's deadline.
            JIRA_WRITES_PER_SECOND="100",
            EXPIRY_SCAN_SECONDS="0",
        )
        bot = [sys.executable, "-m", "bot.cli.main"]
        serve_children = []
        for n in range(serves):
            port = free_port()
            cmd = [*bot, "serve", "--host", "127.0.0.1", "--port", str(port)]
            serve_children.append(Child("serve", cmd, env, tmp_path / f"serve{n}.log", port))
        worker_children = [
            Child("worker", [*bot, "worker"], env, tmp_path / f"worker{n}.log")
            for n in range(workers)
        ]
        bots = serve_children + worker_children
        procs.extend(bots)
        for child in bots:
            child.start()
        for child in serve_children:
            assert child.proc is not None
            wait_listening(child.port or 0, child.proc)

        deadline = time.monotonic() + 240
        victims = [c for c in bots if c.role in kill]
        roles = sorted(kill)
        restarts: list[tuple[float, Child]] = []
        next_kill = [time.monotonic() + 1.0]

        def chaos_step() -> None:
            """Restart the dead whose time has come; now and then SIGKILL one."""
            now = time.monotonic()
            for due, child in list(restarts):
                if due <= now:
                    restarts.remove((due, child))
                    child.start()
                    if child.port is not None and child.proc is not None:
                        wait_listening(child.port, child.proc)
                    now = time.monotonic()  # the next kill counts from the restart
                    next_kill[0] = max(next_kill[0], now + rng.uniform(*kill_gap))
            if now >= next_kill[0]:
                # Roles take turns (serve, worker, ...) so that each gets killed; which
                # process of that role, and when, is random.
                role = roles[sum(kills.values()) % len(roles)]
                child = rng.choice([c for c in victims if c.role == role])
                if child.alive():
                    child.kill()
                    kills[child.role] += 1
                    restarts.append((now + rng.uniform(0.3, 1.5), child))
                next_kill[0] = now + rng.uniform(*kill_gap)

        stored: set[str] = set()
        storm_ends = time.monotonic()
        for i, (body, _key, _subtasks) in enumerate(payloads):
            chaos_step()
            if i == requests_total // 2:
                storm = requests.post(
                    f"http://127.0.0.1:{jira_port}/__fake/storm",
                    params={"seconds": STORM_SECONDS, "retry_after": 2},
                    timeout=5,
                )
                assert storm.status_code == 204
                storm_ends = time.monotonic() + STORM_SECONDS
            ids = [f"chaos-{i}"]
            if rng.random() < 0.3:
                ids.append(f"chaos-{i}")  # Jira's retry of the same delivery
            if rng.random() < 0.3:
                ids.append(f"chaos-{i}-again")  # a re-delivery under a new id
            for delivery_id in ids:
                status = post(serve_children, body, delivery_id, rng, deadline, chaos_step)
                posts["duplicate" if delivery_id in stored else "new"] += 1
                posts[f"answered {status}"] += 1
                stored.add(delivery_id)
            time.sleep(rng.uniform(0, 0.03))
        # Keep killing through the storm (it outlasts the lease), then let everything heal.
        while time.monotonic() < storm_ends + 2 and time.monotonic() < deadline:
            chaos_step()
            time.sleep(0.05)
        posted = time.monotonic() - started
        for due, child in restarts:
            del due
            child.start()
            if child.port is not None and child.proc is not None:
                wait_listening(child.port, child.proc)
        restarts.clear()

        settle = time.monotonic() + SETTLE_DEADLINE
        counts = deliveries(url)
        progress: list[tuple[int, dict[str, int]]] = []
        while time.monotonic() < settle:
            counts = deliveries(url)
            if counts == {"done": len(stored)}:
                break
            if len(progress) < 60:
                progress.append((round(time.monotonic() - started), counts))
            time.sleep(2)
        state = requests.get(f"http://127.0.0.1:{jira_port}/__fake/state", timeout=10).json()
        figures = {
            "store": kind,
            "requests": requests_total,
            "posts": dict(posts),
            "deliveries": counts,
            "kills": dict(kills),
            "faults": state["faults"],
            "jira_calls": state["calls"],
            "seconds_posting": round(posted, 1),
            "seconds_total": round(time.monotonic() - started, 1),
        }
        print(f"\nchaos across processes: {json.dumps(figures)}\nsettling: {progress}")
        assert counts == {"done": len(stored)}, figures
        assert all(kills[role] > 0 for role in kill), figures
        assert state["faults"].get("lost", 0) > 0, figures
        assert state["faults"].get("storm", 0) > 0, figures
        wrong = {}
        for _body, key, subtasks in payloads:
            got = state["requests"][key]
            if (
                (got["cases"], got["public"], got["internal"]) != (1, 1, 1)
                or len(got["subtasks"]) != subtasks
                or len(set(got["subtasks"])) != subtasks
            ):
                wrong[key] = got
        assert not wrong, (len(wrong), dict(list(wrong.items())[:5]), figures)
        return figures


def test_chaos_postgresql_two_serves_two_workers(tmp_path: Path) -> None:
    run_chaos(
        "postgresql",
        tmp_path,
        serves=2,
        workers=2,
        requests_total=200,
        kill={"serve", "worker"},
        kill_gap=(0.8, 2.5),
    )


def test_chaos_sqlite_one_serve_killed(tmp_path: Path) -> None:
    run_chaos(
        "sqlite",
        tmp_path,
        serves=1,
        workers=0,
        requests_total=200,
        kill={"serve"},
        kill_gap=(2.0, 5.0),
    )
