"""Structured logging: JSON lines off a terminal, text on one, per-delivery fields, redaction."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

# The fields an operator filters on: the worker binds the delivery's (issue: the issue the event
# is about, a request or a sub-task); the processor and the reconciler add the rest when known.
FIELDS = ("delivery", "event", "issue", "request", "case", "workflow", "outcome")

_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "uzibot_log_context", default=None
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_PEM_PRIVATE = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
    re.DOTALL,
)
_AUTH_HEADER = re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9+/=._\-]{8,}")
_SIGNATURE = re.compile(r"(?i)sha256=[0-9a-f]{16,}")


@contextlib.contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Bind fields (delivery, request, ...) to every record logged inside the block."""
    current = dict(_context.get() or {})
    current.update({k: str(v) for k, v in fields.items() if v is not None})
    token = _context.set(current)
    try:
        yield
    finally:
        _context.reset(token)


def add_log_fields(**fields: object) -> None:
    """Add fields to the innermost bound context (e.g. the case key once it is known)."""
    current = _context.get()
    if current is not None:
        current.update({k: str(v) for k, v in fields.items() if v is not None})


def current_fields() -> dict[str, str]:
    """The fields bound right now (tests, and the formatters)."""
    return dict(_context.get() or {})


class Redactor:
    """Masks secrets, e-mail addresses, auth headers, signatures and private key blocks."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Mask these values too (longest first, so a secret inside another goes with it)."""
        known = set(self.secrets) | {s for s in secrets if s and len(s) >= 4}
        self.secrets = sorted(known, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        # Cheap substring tests first: most lines hold none of these (access lines, say).
        if "PRIVATE KEY" in text:
            text = _PEM_PRIVATE.sub("[private key removed]", text)
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "[secret]")
        lowered = text.lower()
        if "basic" in lowered or "bearer" in lowered:
            text = _AUTH_HEADER.sub(r"\1 [secret]", text)
        if "sha256=" in lowered:
            text = _SIGNATURE.sub("sha256=[signature]", text)
        return _EMAIL.sub("[e-mail]", text) if "@" in text else text


def _extras(record: logging.LogRecord) -> dict[str, str]:
    fields = current_fields()
    for name in FIELDS:
        value = record.__dict__.get(name)
        if value is not None:
            fields[name] = str(value)
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the bound fields, the error."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        entry.update({k: self.redact(v) for k, v in _extras(record).items()})
        if record.exc_info:
            entry["error"] = self.redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Readable lines for a terminal: time, level, logger, message, then key=value fields."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s  %(message)s", "%H:%M:%S")
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = _extras(record)
        if fields:
            line += "  [" + " ".join(f"{k}={v}" for k, v in fields.items()) + "]"
        return self.redact(line)


_HANDLER_NAME = "uzibot"
_installed: list[Redactor] = []


def configure_logging(
    level: str | int = "INFO",
    *,
    stream: TextIO | None = None,
    secrets: Iterable[str] = (),
    json_lines: bool | None = None,
) -> logging.Handler:
    """Install the one uzibot handler on the root logger (replacing an earlier one).

    JSON lines unless `stream` is a terminal (override with `json_lines`); every record
    passes the redactor, whatever logger it comes from (uvicorn's included).
    """
    stream = stream or sys.stderr
    if json_lines is None:
        json_lines = not (hasattr(stream, "isatty") and stream.isatty())
    redact = Redactor(secrets)
    _installed[:] = [redact]
    handler = logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter(redact) if json_lines else TextFormatter(redact))
    root = logging.getLogger()
    for old in list(root.handlers):
        ours = old.get_name() == _HANDLER_NAME or isinstance(old, logging.StreamHandler)
        if ours and not _is_pytest_handler(old):
            root.removeHandler(old)
    root.addHandler(handler)
    for chatty in ("httpx", "httpcore"):  # one line per request of the demo's own client
        logging.getLogger(chatty).setLevel(logging.WARNING)
    root.setLevel(level if isinstance(level, int) else level.upper())
    return handler


def redact_secrets(secrets: Iterable[str]) -> None:
    """Mask these values in every line the installed handler writes (settings just loaded)."""
    for redact in _installed:
        redact.add(secrets)


def _is_pytest_handler(handler: logging.Handler) -> bool:
    return type(handler).__module__.startswith("_pytest")


def mask(value: str) -> str:
    """A secret for a log line: only whether it is set."""
    return "[set]" if value else "[unset]"
