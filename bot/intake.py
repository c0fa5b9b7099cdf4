"""Webhook intake: bound the size, authenticate, parse, dedupe and store; answer in milliseconds.

Every delivery takes this path, so it is plain ASGI (bot/app.py routes the two webhook POSTs
here before FastAPI): no request or response objects and no middleware stack, which cost
the event loop more than the parse and the signature check together.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from bot.envelope import EnvelopeError, check_automation_payload, check_jira_envelope
from bot.inbox.limits import row_problem, storable_id
from bot.inbox.store import NewDelivery
from bot.inbox.writer import InboxWriter, Unstorable
from bot.metrics import Metrics
from bot.signature import body_delivery_id, verify_shared_secret, verify_signature

log = logging.getLogger("uzibot.intake")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = dict[str, str]

MAX_NESTING = 100
"""Deepest array/object nesting accepted; Jira's own payloads (ADF included) stay far below."""
AUTOMATION_WINDOW_SECONDS = 30.0
"""Identical Automation posts within this many seconds are one delivery."""
_NOT_OPENERS = bytes(b for b in range(256) if b not in b"[{")
_JSON = [(b"content-type", b"application/json")]


class _TooLarge(Exception):
    pass


class _Gone(Exception):
    """The client disconnected before its body was complete."""


@dataclass(frozen=True)
class IntakeConfig:
    """What the two endpoints need: secrets, the size bound and the store."""

    writer: InboxWriter
    metrics: Metrics
    max_body_bytes: int
    webhook_secrets: Sequence[bytes]
    automation_secrets: Sequence[bytes]
    clock: Callable[[], float] = time.time
    counters: dict[tuple[str, int], Any] = field(default_factory=dict)
    """The intake counter's child per (endpoint, status), looked up once."""


def header_map(scope: Scope) -> Headers:
    """The request's headers by lower-case name (the first of repeated ones), as text."""
    pairs = reversed(list(scope["headers"]))  # so that the first of repeated names wins
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in pairs}


async def read_bounded(headers: Headers, receive: Receive, limit: int) -> bytes:
    """Read the body, refusing (before reading it all) anything over `limit` bytes."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _Gone
        chunks += message.get("body", b"")
        if len(chunks) > limit:
            raise _TooLarge
        if not message.get("more_body", False):
            return bytes(chunks)


@dataclass(frozen=True)
class Answer:
    """A JSON response: status and body."""

    status: int
    body: dict[str, Any]

    async def send(self, send: Send, extra: Sequence[tuple[bytes, bytes]] = ()) -> None:
        """Send it as one ASGI response (with `extra` headers)."""
        data = orjson.dumps(self.body)
        headers = [*_JSON, (b"content-length", str(len(data)).encode()), *extra]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": data})


def _answer(cfg: IntakeConfig, endpoint: str, status: int, body: dict[str, Any]) -> Answer:
    counter = cfg.counters.get((endpoint, status))
    if counter is None:
        counter = cfg.counters[endpoint, status] = cfg.metrics.intake.labels(endpoint, str(status))
    counter.inc()
    return Answer(status, body)


def _refuse(cfg: IntakeConfig, endpoint: str, status: int, error: str, **extra: Any) -> Answer:
    """Answer a delivery that is not stored, and log why (every refusal is logged).

    The reason may quote the sender's input: it is cut to 300 characters and logged as a
    Python literal, so a log line stays one short line.
    """
    if len(error) > 300:
        error = error[:300] + "..."
    log.warning("refused %s delivery with %d: %r", endpoint, status, error)
    return _answer(cfg, endpoint, status, {"status": "rejected", "error": error, **extra})


def too_deep(payload: Any, limit: int = MAX_NESTING) -> bool:
    """True when arrays/objects nest deeper than `limit` (level by level, without recursion).

    Parsed JSON holds only dict, list, str, int, float, bool and None, so exact type checks
    suffice; each container is visited once.
    """
    level = [payload] if type(payload) is dict or type(payload) is list else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        deeper = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                if type(child) is dict or type(child) is list:
                    deeper.append(child)
        level = deeper
    return False


def parse_body(body: bytes) -> tuple[Any, int, str]:
    """(payload, 0, "") for a JSON body within the nesting bound, else (None, status, why).

    orjson parses strict JSON about three times faster than the json module, and this runs
    on the event loop for every delivery. What it refuses (NaN, Infinity, integers beyond
    64 bits, lone surrogates) the json module may still read, as the worker does later: an
    odd value in a field the bot never uses must not cost the practice its request.
    """
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            payload = json.loads(body)
        except RecursionError:
            return None, 422, f"the JSON nests deeper than {MAX_NESTING} levels"
        except (ValueError, UnicodeDecodeError):
            return None, 400, "body is not JSON"
    # Counting the opening brackets is cheap; only a body with many of them is walked.
    if len(body.translate(None, _NOT_OPENERS)) > MAX_NESTING and too_deep(payload):
        return None, 422, f"the JSON nests deeper than {MAX_NESTING} levels"
    return payload, 0, ""


def delivery_ids(
    headers: Headers, body: bytes, endpoint: str, now: float
) -> tuple[str, tuple[str, float] | None]:
    """(the delivery id, the id an earlier identical delivery in the window would have).

    Jira sends `X-Atlassian-Webhook-Identifier` and keeps it across its retries; a body
    hash stands in when it is missing. Automation sends no id, and a re-check rule posts
    the same body each time, so there the hash is per AUTOMATION_WINDOW_SECONDS: identical
    posts within the window are one delivery, a re-check after it runs again.
    """
    header = (headers.get("x-atlassian-webhook-identifier") or "").strip()
    if header:
        return storable_id(header), None
    if endpoint != "automation":
        return body_delivery_id(body), None
    window = AUTOMATION_WINDOW_SECONDS
    digest = body_delivery_id(body).removeprefix("sha256:")
    bucket = int(now // window)
    return (
        f"automation:{digest}:{bucket}",
        (f"automation:{digest}:{bucket - 1}", now - window),
    )


Authenticator = Callable[[Headers, bytes], bool]


async def receive(
    scope: Scope,
    receive_message: Receive,
    cfg: IntakeConfig,
    endpoint: str,
    authenticate: Authenticator,
    check: Callable[[Any], tuple[str, str | None]],
) -> Answer:
    """The shared intake pipeline; the endpoint supplies how to authenticate and parse."""
    started = time.perf_counter()
    headers = header_map(scope)
    try:
        body = await read_bounded(headers, receive_message, cfg.max_body_bytes)
    except _TooLarge:
        return _refuse(cfg, endpoint, 413, "body too large", limit=cfg.max_body_bytes)
    except _Gone:  # gone (or cut off by the request timeout) before the body ended
        return _refuse(cfg, endpoint, 400, "the client left before the body was complete")
    if not authenticate(headers, body):
        return _refuse(cfg, endpoint, 401, "bad signature")
    payload, status, why = parse_body(body)
    if status:
        return _refuse(cfg, endpoint, status, why)
    try:
        event_name, issue_key = check(payload)
    except EnvelopeError as exc:
        return _refuse(cfg, endpoint, 422, str(exc))
    problem = row_problem(event_name, issue_key)
    if problem is not None:
        return _refuse(cfg, endpoint, 422, problem)
    delivery_id, seen_as = delivery_ids(headers, body, endpoint, cfg.clock())
    try:
        stored = await cfg.writer.submit(
            NewDelivery(delivery_id, endpoint, event_name, issue_key, body, seen_as)
        )
    except Unstorable as exc:
        return _refuse(cfg, endpoint, 422, str(exc), delivery=delivery_id)
    except Exception:
        log.exception("could not store delivery %s (the inbox is unavailable)", delivery_id)
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


def jira_authenticator(cfg: IntakeConfig) -> Authenticator:
    """Jira admin webhooks: `X-Hub-Signature: sha256=<hex>` over the raw body."""

    def check(headers: Headers, body: bytes) -> bool:
        return verify_signature(body, headers.get("x-hub-signature"), cfg.webhook_secrets)

    return check


def automation_authenticator(cfg: IntakeConfig) -> Authenticator:
    """Automation "Send web request": the secret in `X-Webhook-Secret`."""

    def check(headers: Headers, _body: bytes) -> bool:
        return verify_shared_secret(headers.get("x-webhook-secret"), cfg.automation_secrets)

    return check


CHECKS: dict[str, Callable[[Any], tuple[str, str | None]]] = {
    "jira": check_jira_envelope,
    "automation": check_automation_payload,
}
