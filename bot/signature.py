"""Webhook authentication: HMAC-SHA256 signatures and shared-secret headers, constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence

_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


def sign(body: bytes, secret: bytes) -> str:
    """The `X-Hub-Signature` value Jira sends for this body and secret."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secrets: Sequence[bytes]) -> bool:
    """True when `header` is `sha256=<hex>` of the raw body under any of the secrets.

    hmac.digest is OpenSSL's one-shot HMAC, without hmac.new's Python-level object; this runs
    for every delivery.
    """
    if not header or not secrets:
        return False
    method, _, received = header.strip().partition("=")
    if method.lower() != "sha256" or not received:
        return False
    received = received.strip()
    if not _SHA256_HEX.fullmatch(received):
        return False  # 64 hex digits and nothing else (fromhex alone would skip whitespace)
    received_bytes = bytes.fromhex(received)
    ok = False
    for secret in secrets:
        expected = hmac.digest(secret, body, "sha256")
        # Check every secret (no early exit) so timing does not reveal which one matched.
        ok |= hmac.compare_digest(expected, received_bytes)
    return ok


def verify_shared_secret(header: str | None, secrets: Sequence[bytes]) -> bool:
    """True when the header equals one of the secrets (Automation web requests have no HMAC)."""
    if not header:
        return False
    given = header.strip().encode()
    ok = False
    for secret in secrets:
        ok |= hmac.compare_digest(given, secret)
    return ok


def body_delivery_id(body: bytes) -> str:
    """Delivery id for a body that came without `X-Atlassian-Webhook-Identifier`."""
    return "sha256:" + hashlib.sha256(body).hexdigest()
