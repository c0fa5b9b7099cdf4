"""kill -9 of `uzibot serve` under load loses no delivery it answered 202 (prints the count).

Run: python bench/bench_kill.py [--clients 16] [--kill-after 4] [--rounds 3]
     [--database-url postgresql://...]
A sandbox Jira over loopback HTTP (bench/jira_server.py); `uzibot serve` (intake and worker
process) on a fresh database; `--clients` threads post signed `jira:issue_created` deliveries,
each with its own delivery id, and write down every id answered 202. After `--kill-after`
seconds the whole serve process group gets SIGKILL mid-load. Then `uzibot serve` starts again
on the same database (it must come up), is stopped, and every id answered 202 is looked up in
the store. Repeated `--rounds` times on the same database.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def post_until_dead(
    port: int,
    bodies: list[tuple[str, str]],
    tag: str,
    accepted: list[str],
    stats: dict[str, int],
    lock: threading.Lock,
    stop: threading.Event,
) -> None:
    """Post deliveries until the server is gone; record the ids answered 202."""
    import requests

    session = requests.Session()
    n = 0
    while not stop.is_set():
        sig, body = bodies[n % len(bodies)]
        delivery = f"{tag}-{n}"
        n += 1
        try:
            answer = session.post(
                f"http://127.0.0.1:{port}/webhooks/jira",
                data=body.encode(),
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature": sig,
                    "X-Atlassian-Webhook-Identifier": delivery,
                },
                timeout=5,
            )
        except requests.RequestException:
            with lock:
                stats["errors"] += 1
            if stop.wait(0.05):
                return
            continue
        with lock:
            stats[str(answer.status_code)] = stats.get(str(answer.status_code), 0) + 1
            if answer.status_code == 202:
                accepted.append(answer.json()["delivery"])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--kill-after", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--database-url", default=None, help="PostgreSQL admin URL")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.bench_intake import free_port, wait_up
    from bench.bench_serve import bot_env, fresh_url, start, start_jira, stop, write_bodies
    from bot.inbox.db import open_store

    work = Path(tempfile.mkdtemp(prefix="uzibot-bench-kill-"))
    bodies_file = work / "bodies.tsv"
    write_bodies(bodies_file, args.requests)
    bodies = [
        (line.split("\t", 1)[0], line.split("\t", 1)[1])
        for line in bodies_file.read_text().splitlines()
    ]
    jira, jira_port = start_jira(bodies_file)
    url = fresh_url(args, work, "kill")
    db = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{db}; {args.clients} client threads; SIGKILL to the serve process group after "
        f"{args.kill_after:g} s of load; {os.cpu_count()} cores"
    )
    print(
        f"{'round':>5}{'202s':>8}{'other':>8}{'errors':>8}{'stored':>8}{'missing':>9}{'restart':>9}"
    )
    lost_total = 0
    try:
        wait_up(jira_port)
        for rnd in range(1, args.rounds + 1):
            port = free_port()
            env = {**bot_env(jira_port, url), "PORT": str(port)}
            cmd = [sys.executable, "-m", "bot.cli.main", "serve", "--host", "127.0.0.1"]
            proc = subprocess.Popen(
                cmd,
                cwd=work,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            wait_up(port)
            accepted: list[str] = []
            stats: dict[str, int] = {"errors": 0}
            lock = threading.Lock()
            halt = threading.Event()
            clients = [
                threading.Thread(
                    target=post_until_dead,
                    args=(
                        port,
                        bodies,
                        f"kill-{rnd}-{c}-{time.time_ns()}",
                        accepted,
                        stats,
                        lock,
                        halt,
                    ),
                    daemon=True,
                )
                for c in range(args.clients)
            ]
            for client in clients:
                client.start()
            time.sleep(args.kill_after)
            os.killpg(proc.pid, signal.SIGKILL)  # serve and its worker process, mid-request
            proc.wait(timeout=10)
            time.sleep(0.5)
            halt.set()
            for client in clients:
                client.join(timeout=10)
            with lock:
                answered = list(accepted)
                figures = dict(stats)
            restart_started = time.perf_counter()
            restart_port = free_port()
            again = start(cmd, dict(env, PORT=str(restart_port)), work)
            try:
                wait_up(restart_port)  # it opened the store after the kill and answers
                restarted = again.poll() is None
            except Exception:
                restarted = False
            restart_seconds = time.perf_counter() - restart_started
            stop(again)
            store = open_store(url)
            try:
                missing = [d for d in answered if store.get(d) is None]
                stored = sum(store.counts().values())
            finally:
                store.close()
            lost_total += len(missing)
            other = sum(v for k, v in figures.items() if k not in ("202", "errors"))
            print(
                f"{rnd:>5}{len(answered):>8}{other:>8}{figures['errors']:>8}{stored:>8}"
                f"{len(missing):>9}{(f'{restart_seconds:.1f} s' if restarted else 'FAILED'):>9}"
            )
            for d in missing[:5]:
                print(f"      missing: {d}")
    finally:
        stop(jira)
    print("no delivery answered 202 was lost" if lost_total == 0 else f"LOST {lost_total}")
    return 0 if lost_total == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
