"""The `uzibot` command line: serve, worker, plan, cert(s), watch, check, inbox, send, demo."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, TextIO

from bot.logs import configure_logging, redact_secrets

if TYPE_CHECKING:  # settings import pydantic-settings: only the commands that need them load it
    from sqlalchemy.exc import OperationalError

    from bot.settings import Settings

log = logging.getLogger("uzibot.cli")


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree for every subcommand."""
    from bot.cli.cert import add_cert_parser, parse_day
    from bot.cli.certs import add_certs_parser

    parser = argparse.ArgumentParser(prog="uzibot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="intake, with the worker in a child process it supervises")
    serve.add_argument("--port", type=int, default=None, help="defaults to PORT (8000)")
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server binds all interfaces
    worker = sub.add_parser("worker", help="worker only (scale-out with PostgreSQL)")
    worker.add_argument(
        "--host",
        default="0.0.0.0",  # noqa: S104 - a metrics endpoint is scraped from elsewhere
        help="address METRICS_PORT binds (default all interfaces)",
    )
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
    check = sub.add_parser("check", help="verify settings and the Jira site")
    check.add_argument("--request", default=None, help="a portal request to check transitions on")
    check.add_argument("--tracking", default=None, help="a tracking issue to check transitions on")
    deliveries = sub.add_parser("deliveries", help="list stored deliveries")
    deliveries.add_argument("--failed", action="store_true")
    deliveries.add_argument("--limit", type=int, default=50)
    deliveries.add_argument("--wide", action="store_true", help="whole error messages")
    deliveries.add_argument(
        "--purge", action="store_true", help="delete every parked (failed) delivery"
    )
    cases = sub.add_parser("cases", help="open cases, soonest deadline first")
    cases.add_argument("--all", action="store_true", dest="show_all", help="closed ones too")
    cases.add_argument("--today", type=date.fromisoformat, default=None)
    replay = sub.add_parser("replay", help="process stored deliveries again")
    replay.add_argument("delivery_ids", nargs="*", metavar="ID")
    replay.add_argument("--failed", action="store_true", help="every parked (failed) delivery")
    replay.add_argument(
        "--queue-only",
        action="store_true",
        help="only make it due again; a running worker picks it up",
    )
    send = sub.add_parser("send", help="sign a payload file and post it to a running serve")
    send.add_argument("file")
    send.add_argument("--url", default=None, help="default http://127.0.0.1:$PORT/webhooks/jira")
    send.add_argument("--id", default=None, dest="delivery_id", help="delivery id to send")
    maps = sub.add_parser("mappings", help="the mapping files of a site")
    maps_sub = maps.add_subparsers(dest="mappings_command", required=True)
    init = maps_sub.add_parser("init", help="copy the bundled mappings into DIR to edit")
    init.add_argument("dir")
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
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
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
    if command == "mappings":
        from bot.cli.mappings import mappings_init

        return mappings_init(args.dir, out)
    if command == "demo":
        from bot.cli.demo import run_demo

        return run_demo(out, log_level=os.environ.get("LOG_LEVEL", "WARNING"))
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        for line in exc.problems:
            print(f"uzibot: {line}", file=sys.stderr)
        return 2
    logging.getLogger().setLevel(settings.log_level.upper())
    redact_secrets(settings.secret_values())
    from sqlalchemy.exc import OperationalError

    from bot.mappings import MappingsError

    try:
        return _run_with_settings(command, args, settings, out)
    except MappingsError as exc:
        print(f"uzibot: mappings: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        print(f"uzibot: {database_problem(settings, exc)}", file=sys.stderr)
        return 2


def database_problem(settings: Settings, exc: OperationalError) -> str:
    """One line (and the fix) for a database that cannot be opened; no password."""
    where = settings.masked()["DATABASE_URL"]
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
    return (
        f"cannot open the database {where}: {reason}; fix: check DATABASE_URL and that the "
        "server runs and lets this user in (SQLite: the directory must exist and be writable)"
    )


def _run_with_settings(
    command: str, args: argparse.Namespace, settings: Settings, out: TextIO
) -> int:
    if command == "serve":
        from bot.cli.serve import run_serve

        return run_serve(settings, args.host, args.port or settings.port)
    from bot.wiring import build_gateway, build_services, resolve_request_types

    if command == "send":
        from bot.cli.send import send_file

        return send_file(settings, args.file, url=args.url, delivery_id=args.delivery_id, out=out)
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
    if command == "check":
        from sqlalchemy.exc import OperationalError

        from bot.cli.check import run_check
        from bot.inbox.db import open_store

        try:
            services = build_services(settings)
            database_error = None
        except OperationalError as exc:  # still check the site, on a throwaway store
            database_error = database_problem(settings, exc)
            services = build_services(settings, store=open_store("sqlite://"))
        return run_check(
            settings,
            services,
            out,
            request_key=args.request,
            tracking_key=args.tracking,
            database_error=database_error,
        )
    services = build_services(settings)
    if command == "worker":
        from bot.cli.worker import run_worker

        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())  # finish current deliveries
        return run_worker(services, settings, stop, host=args.host)
    if command == "watch":
        from bot.cli.watch import run_watch

        resolve_request_types(services, settings)  # raise with the site's renewal type

        return run_watch(services, today=args.today, out=out)
    if command == "certs":
        from bot.cli.certs import certs_command

        return certs_command(args, services.store, out)
    if command == "deliveries":
        from bot.cli.inbox import list_deliveries, purge_failed

        if args.purge:
            return purge_failed(services.store, out=out)
        return list_deliveries(
            services.store, failed_only=args.failed, limit=args.limit, out=out, wide=args.wide
        )
    if command == "cases":
        from bot.cli.cases import list_cases
        from bot.wiring import today_in_amsterdam

        return list_cases(
            services.store,
            today=args.today or today_in_amsterdam(),
            show_all=args.show_all,
            out=out,
        )
    if command == "replay":
        from bot.cli.inbox import replay_many

        ids = list(args.delivery_ids)
        if args.failed:
            ids += [
                d.id
                for d in services.store.list_deliveries("failed", limit=1_000_000)
                if d.id not in ids
            ]
        if not ids:
            print("uzibot replay: give delivery ids or --failed", file=sys.stderr)
            return 2
        return replay_many(services, ids, queue_only=args.queue_only, out=out)
    raise AssertionError(command)


if __name__ == "__main__":
    raise SystemExit(main())
