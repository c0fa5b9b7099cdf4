"""Jira requests per case, per workflow: new case, replay, later webhook (prints figures).

Run: .venv/bin/python bench/bench_calls.py
Posts real-shaped fixtures through the real app into the in-memory Jira sandbox and counts
the HTTP requests the gateway sent (retries included), after the one-time GET /field.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "webhooks"
EXAMPLES = ROOT / "bot" / "examples"

WORKFLOWS = {
    "practice change (abonneenummer)": "practice_change-abonneenummer-cgm-huisarts",
    "practice change (other kinds)": "practice_change-contract_holder-omnihis",
    "renewal, certificate attached": "renewal-cgm-huisarts",
    "undecided (note only)": "undecided-nothing",
}


def main() -> int:
    sys.path.insert(0, str(ROOT))
    import asyncio

    from bot.app import create_app
    from bot.cli.demo import post_twice, sandbox_settings
    from bot.sandbox.site import JiraSandbox
    from bot.wiring import build_services

    sandbox = JiraSandbox()
    session = requests.Session()
    sandbox.mount(session)
    with tempfile.TemporaryDirectory() as tmp:
        settings = sandbox_settings(sandbox, f"sqlite:///{tmp}/b.db")
        services = build_services(settings, session=session)
        app = create_app(settings, services)
        services.gateway.field_ids(services.mappings.field_names())  # the one-time lookup
        print(f"{'workflow':36}{'new case':>10}{'writes':>8}{'replay':>8}{'update':>8}")
        for label, name in WORKFLOWS.items():
            path = FIXTURES / f"{name}.json"
            if not path.exists():
                print(f"{label:36}  (fixture {name} missing)")
                continue
            payload: dict[str, Any] = json.loads(path.read_text())
            attachments = {
                str(a["id"]): (EXAMPLES / a["filename"]).read_bytes()
                for a in payload["issue"]["fields"].get("attachment") or ()
                if (EXAMPLES / a["filename"]).exists()
            }
            sandbox.seed_issue_from_webhook(payload["issue"], attachments=attachments)
            services.gateway.reset_stats()
            asyncio.run(post_twice(app, name, payload))
            services.worker.drain()
            new = dict(services.gateway.stats)
            services.gateway.reset_stats()
            services.store.requeue(f"demo-{name}")
            services.worker.drain()
            replay = sum(services.gateway.stats.values())
            services.gateway.reset_stats()
            updated = dict(payload, webhookEvent="jira:issue_updated")
            asyncio.run(post_twice(app, name + "-upd", updated))
            services.worker.drain()
            update = sum(services.gateway.stats.values())
            writes = new.get("POST", 0) + new.get("PUT", 0)
            print(f"{label:36}{sum(new.values()):>10}{writes:>8}{replay:>8}{update:>8}")
        services.store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
