"""Shared helpers for pure handler tests: fixtures as Events and a HandlerContext as built."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from bot.certs.report import CertReport
from bot.cli.plan import example_field_ids
from bot.context import HandlerContext
from bot.envelope import parse_jira_envelope
from bot.events import Event
from bot.mappings import Mappings

FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
FIELD_IDS = example_field_ids()


def load_event(name: str) -> Event:
    """The Event of tests/fixtures/webhooks/<name>.json, parsed by the real envelope parser."""
    with (FIXTURES / f"{name}.json").open(encoding="utf-8") as handle:
        return parse_jira_envelope(json.load(handle), f"test-{name}")


def handler_context(
    mappings: Mappings,
    *,
    today: date,
    tracking_project: str = "UZO",
    certificates: Sequence[CertReport] = (),
) -> HandlerContext:
    """A HandlerContext as the worker builds it for the example site."""
    return HandlerContext(
        mappings=mappings,
        today=today,
        tracking_project=tracking_project,
        service_desk_project="UZO",
        field_ids=FIELD_IDS,
        certificates=certificates,
    )
