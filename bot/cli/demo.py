"""`uzibot demo`: the whole pipeline on the embedded store against an in-memory Jira sandbox."""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

import httpx
import requests

from bot.app import IntakeFront, create_app
from bot.logs import redact_secrets
from bot.sandbox.site import DEFAULT_BOT_ACCOUNT, JiraSandbox
from bot.settings import Settings, load_settings
from bot.signature import sign
from bot.wiring import build_services

DEMO_SECRET = "demo-webhook-secret-not-for-production"  # noqa: S105 - sandbox only


def bundled_examples() -> list[tuple[str, dict[str, Any], dict[str, bytes]]]:
    """The example portal requests shipped with the package, with their attachment bytes."""
    folder = resources.files("bot") / "examples"
    out = []
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".json"):
            continue
        payload = json.loads(item.read_text(encoding="utf-8"))
        attachments = {}
        for att in payload["issue"]["fields"].get("attachment") or ():
            source = folder / att["filename"]
            if source.is_file():
                attachments[str(att["id"])] = source.read_bytes()
        out.append((item.name, payload, attachments))
    return out


def sandbox_settings(sandbox: JiraSandbox, database_url: str) -> Settings:
    """Settings that point the bot at the in-memory sandbox site (demo and bench)."""
    return load_settings(
        {
            "JIRA_URL": sandbox.base_url,
            "JIRA_USER": "uzibot@example.com",
            "JIRA_API_TOKEN": "sandbox-api-token",
            "WEBHOOK_SECRET": DEMO_SECRET,
            "SERVICE_DESK_PROJECT": "UZO",
            "DATABASE_URL": database_url,
            "BOT_ACCOUNT_ID": DEFAULT_BOT_ACCOUNT,
        },
        env_file=None,
    )


def run_demo(out: TextIO, *, log_level: str = "WARNING") -> int:
    """Post every bundled example through the real app, run the worker, print what Jira holds."""
    sandbox = JiraSandbox()
    session = requests.Session()
    sandbox.mount(session)
    with tempfile.TemporaryDirectory(prefix="uzibot-demo-") as tmp:
        settings = sandbox_settings(sandbox, f"sqlite:///{Path(tmp) / 'demo.db'}")
        services = build_services(settings, session=session)
        redact_secrets(settings.secret_values())
        logging.getLogger().setLevel(log_level.upper())
        app = create_app(settings, services)
        examples = bundled_examples()
        print(
            f"uzibot demo: {len(examples)} example requests -> {sandbox.base_url} "
            "(in-memory Jira)\n",
            file=out,
        )
        for name, payload, attachments in examples:
            sandbox.seed_issue_from_webhook(payload["issue"], attachments=attachments)
            print(asyncio.run(post_twice(app, name, payload)), file=out)
        processed = services.worker.drain()
        print(
            f"\nworker processed {processed} deliveries; Jira requests: "
            f"{dict(sorted(services.gateway.stats.items()))}\n",
            file=out,
        )
        for _name, payload, _ in examples:
            print(describe_request(sandbox, payload["issue"]["key"]), file=out)
        services.store.close()
    return 0


async def post_twice(app: IntakeFront, name: str, payload: dict[str, Any]) -> str:
    """POST a signed delivery through the real app, then once more as Jira's retry would."""
    body = json.dumps(payload).encode()
    headers = {
        "X-Hub-Signature": sign(body, DEMO_SECRET.encode()),
        "X-Atlassian-Webhook-Identifier": f"demo-{name}",
        "Content-Type": "application/json",
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://uzibot") as client:
        first = await client.post("/webhooks/jira", content=body, headers=headers)
        again = await client.post("/webhooks/jira", content=body, headers=headers)
    return (
        f"POST {name}: {first.status_code} {first.json()['status']}; "
        f"Jira's retry: {again.status_code} {again.json()['status']}"
    )


def describe_request(sandbox: JiraSandbox, key: str) -> str:
    """The request's case and comments as an agent would see them in Jira."""
    issue = sandbox.issue(key)
    lines = [f"=== {key}: {issue.fields.get('summary')}"]
    for link in sandbox.links(key):
        tracking = link.source if link.target == key else link.target
        case = sandbox.issue(tracking)
        lines.append(f"tracking issue {tracking}: {case.fields.get('summary')}")
        due = case.fields.get("duedate")
        labels = ", ".join(case.fields.get("labels") or [])
        lines.append(f"  labels: {labels}" + (f"; due {due}" if due else ""))
        for sub in sandbox.subtasks(tracking):
            lines.append(f"  sub-task {sub}: {sandbox.issue(sub).fields.get('summary')}")
    for comment in sandbox.comments(key):
        kind = "public comment" if comment.public else "internal note"
        lines.append(f"--- {kind}:\n{comment.body}")
    return "\n".join(lines) + "\n"
