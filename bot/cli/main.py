"""The `uzibot` command line: serve, worker, plan, cert, certs, watch, check, inbox, demo."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # settings import pydantic-settings: only the commands that need them load it
    from bot.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree for every subcommand."""
    from bot.cli.cert import add_cert_parser, parse_day
    from bot.cli.certs import add_certs_parser

    parser = argparse.ArgumentParser(prog="uzibot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="intake, with the worker in a child process it supervises")
    serve.add_argument("--port", type=int, default=None, help="defaults to PORT (8000)")
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server binds all interfaces
    sub.add_parser("worker", help="worker only (scale-out with PostgreSQL)")
    plan = sub.add_parser("plan", help="show what the bot would do with a webhook payload")
    plan.add_argument("file")
    plan.add_argument("--json", action="store_true", dest="as_json")
    plan.add_argument("--today", type=date.fromisoformat, default=None)
    plan.add_argument(
        "--example-site", action="store_true", help="read fields by the bundled examples' ids"
    )
    plan.add_argument(
        "--online", action="store_true", help="gather facts from the configured site (reads only)"
    )
    add_cert_parser(sub)
    sub.add_parser("check", help="verify settings and the Jira site")
    deliveries = sub.add_parser("deliveries", help="list stored deliveries")
    deliveries.add_argument("--failed", action="store_true")
    deliveries.add_argument("--limit", type=int, default=50)
    deliveries.add_argument(
        "--purge", action="store_true", help="delete every parked (failed) delivery"
    )
    replay = sub.add_parser("replay", help="process a stored delivery again")
    replay.add_argument("delivery_id")
    replay.add_argument(
        "--queue-only",
        action="store_true",
        help="only make it due again; a running worker picks it up",
    )
    sub.add_parser("demo", help="run the whole pipeline against an in-memory Jira sandbox")
    add_certs_parser(sub)
    watch = sub.add_parser("watch", help="run the expiry scan (cron or a scheduler)")
    watch.add_argument("--once", action="store_true", required=True, help="one scan, then exit")
    watch.add_argument("--today", type=parse_day, default=None, metavar="YYYY-MM-DD")
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    command: str = args.command
    if command == "cert":
        from bot.cli.cert import cert_command

        return cert_command(args, out)
    if command == "plan" and not args.online:
        from bot.cli.plan import run_plan

        return run_plan(
            args.file,
            as_json=args.as_json,
            today=args.today,
            out=out,
            example_site=args.example_site,
        )
    if command == "demo":
        from bot.cli.demo import run_demo

        return run_demo(out)
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        for line in exc.problems:
            print(f"uzibot: {line}", file=sys.stderr)
        return 2
    logging.getLogger().setLevel(settings.log_level.upper())
    return _run_with_settings(command, args, settings, out)


def _run_with_settings(
    command: str, args: argparse.Namespace, settings: Settings, out: TextIO
) -> int:
    if command == "serve":
        from bot.cli.serve import run_serve

        return run_serve(settings, args.host, args.port or settings.port)
    from bot.wiring import build_gateway, build_services

    if command == "plan":
        from bot.cli.plan import run_plan

        return run_plan(
            args.file,
            as_json=args.as_json,
            today=args.today,
            out=out,
            mappings_dir=settings.mappings_dir,
            example_site=args.example_site,
            source=build_gateway(settings),
        )
    services = build_services(settings)
    if command == "worker":
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())  # finish current deliveries
        services.scheduler.start(stop)  # the expiry scan beside the worker
        try:
            services.worker.run_forever(stop)
        except KeyboardInterrupt:
            stop.set()
        return 0
    if command == "watch":
        from bot.cli.watch import run_watch

        return run_watch(services, today=args.today, out=out)
    if command == "certs":
        from bot.cli.certs import certs_command

        return certs_command(args, services.store, out)
    if command == "check":
        from bot.cli.check import run_check

        return run_check(settings, services, out)
    if command == "deliveries":
        from bot.cli.inbox import list_deliveries, purge_failed

        if args.purge:
            return purge_failed(services.store, out=out)
        return list_deliveries(services.store, failed_only=args.failed, limit=args.limit, out=out)
    if command == "replay":
        from bot.cli.inbox import replay

        return replay(services, args.delivery_id, queue_only=args.queue_only, out=out)
    raise AssertionError(command)


if __name__ == "__main__":
    raise SystemExit(main())
