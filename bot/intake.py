"""Webhook intake: bound the size, authenticate, parse, dedupe and store; answer in milliseconds."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.envelope import EnvelopeError, check_automation_payload, check_jira_envelope
from bot.inbox.store import NewDelivery
from bot.inbox.writer import InboxWriter
from bot.metrics import Metrics
from bot.signature import body_delivery_id, verify_shared_secret, verify_signature

log = logging.getLogger("uzibot.intake")


class _TooLarge(Exception):
    pass


@dataclass(frozen=True)
class IntakeConfig:
    """What the two endpoints need: secrets, the size bound and the store."""

    writer: InboxWriter
    metrics: Metrics
    max_body_bytes: int
    webhook_secrets: Sequence[bytes]
    automation_secrets: Sequence[bytes]


async def read_bounded(request: Request, limit: int) -> bytes:
    """Read the body, refusing (before reading it all) anything over `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > limit:
            raise _TooLarge
    return bytes(chunks)


def _answer(cfg: IntakeConfig, endpoint: str, status: int, body: dict[str, Any]) -> JSONResponse:
    cfg.metrics.intake.labels(endpoint, str(status)).inc()
    return JSONResponse(body, status_code=status)


async def receive(
    request: Request,
    cfg: IntakeConfig,
    endpoint: str,
    authenticate: Callable[[Request, bytes], bool],
    check: Callable[[Any], tuple[str, str | None]],
) -> JSONResponse:
    """The shared intake pipeline; the endpoint supplies how to authenticate and parse."""
    started = time.perf_counter()
    try:
        body = await read_bounded(request, cfg.max_body_bytes)
    except _TooLarge:
        log.warning("refused %s delivery: body over %d bytes (413)", endpoint, cfg.max_body_bytes)
        return _answer(
            cfg,
            endpoint,
            413,
            {"status": "rejected", "error": "body too large", "limit": cfg.max_body_bytes},
        )
    if not authenticate(request, body):
        log.warning("refused %s delivery: missing or bad signature (401)", endpoint)
        return _answer(cfg, endpoint, 401, {"status": "rejected", "error": "bad signature"})
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        log.warning("refused %s delivery: body is not JSON (400)", endpoint)
        return _answer(cfg, endpoint, 400, {"status": "rejected", "error": "body is not JSON"})
    delivery_id = request.headers.get("x-atlassian-webhook-identifier") or body_delivery_id(body)
    delivery_id = delivery_id.strip()[:200]
    try:
        event_name, issue_key = check(payload)
    except EnvelopeError as exc:
        log.warning(
            "refused %s delivery %s: %s (422)",
            endpoint,
            delivery_id,
            str(exc)[:300].replace("\n", " "),
            extra={"delivery": delivery_id},
        )
        return _answer(cfg, endpoint, 422, {"status": "rejected", "error": str(exc)})
    try:
        stored = await cfg.writer.submit(
            NewDelivery(delivery_id, endpoint, event_name, issue_key, body)
        )
    except Exception:
        log.exception(
            "could not store delivery %s (503)", delivery_id, extra={"delivery": delivery_id}
        )
        return _answer(cfg, endpoint, 503, {"status": "unavailable", "delivery": delivery_id})
    cfg.metrics.intake_seconds.observe(time.perf_counter() - started)
    if not stored:
        cfg.metrics.duplicates.inc()
        log.info(
            "duplicate %s delivery %s (200)",
            endpoint,
            delivery_id,
            extra={"delivery": delivery_id, "event": event_name, "issue": issue_key},
        )
        return _answer(cfg, endpoint, 200, {"status": "duplicate", "delivery": delivery_id})
    return _answer(cfg, endpoint, 202, {"status": "accepted", "delivery": delivery_id})


def jira_authenticator(cfg: IntakeConfig) -> Callable[[Request, bytes], bool]:
    """Jira admin webhooks: `X-Hub-Signature: sha256=<hex>` over the raw body."""

    def check(request: Request, body: bytes) -> bool:
        return verify_signature(body, request.headers.get("x-hub-signature"), cfg.webhook_secrets)

    return check


def automation_authenticator(cfg: IntakeConfig) -> Callable[[Request, bytes], bool]:
    """Automation "Send web request": the secret in `X-Webhook-Secret`."""

    def check(request: Request, _body: bytes) -> bool:
        return verify_shared_secret(request.headers.get("x-webhook-secret"), cfg.automation_secrets)

    return check


CHECKS: dict[str, Callable[[Any], tuple[str, str | None]]] = {
    "jira": check_jira_envelope,
    "automation": check_automation_payload,
}
