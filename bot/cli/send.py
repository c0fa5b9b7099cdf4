"""`uzibot send FILE`: sign a payload like Jira does and post it to a running `uzibot serve`."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import TextIO

import httpx

from bot.settings import Settings
from bot.signature import sign


def default_url(settings: Settings) -> str:
    """The local `serve` of these settings."""
    return f"http://127.0.0.1:{settings.port}/webhooks/jira"


def send_file(
    settings: Settings,
    file: str,
    *,
    url: str | None,
    delivery_id: str | None,
    out: TextIO,
    timeout: float = 10.0,
) -> int:
    """POST the file's bytes as they are, signed with the first WEBHOOK_SECRET; 0 on a 2xx."""
    path = Path(file)
    try:
        body = path.read_bytes()
    except OSError as exc:
        print(f"uzibot send: cannot read {file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        json.loads(body)
    except ValueError as exc:
        print(f"uzibot send: {file} is not JSON ({exc}); nothing sent", file=sys.stderr)
        return 2
    target = url or default_url(settings)
    delivery = delivery_id or f"send-{uuid.uuid4()}"
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature": sign(body, settings.webhook_secrets()[0]),
        "X-Atlassian-Webhook-Identifier": delivery,
    }
    try:
        answer = httpx.post(target, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        print(
            f"uzibot send: cannot reach {target}: {exc}; is `uzibot serve` running?",
            file=sys.stderr,
        )
        return 1
    print(f"POST {path.name} -> {target}: {answer.status_code} {answer.text.strip()}", file=out)
    return 0 if 200 <= answer.status_code < 300 else 1
