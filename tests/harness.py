"""Builds the real app and services against the fake Jira; posts signed fixtures through it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bot.app import IntakeFront, create_app
from bot.inbox.store import Store
from bot.settings import Settings, load_settings
from bot.signature import sign
from bot.wiring import Services, build_services
from tests.asgi_client import AppClient
from tests.fakejira import FakeJira

FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
NEW_SECRET = "new-secret-2026"
OLD_SECRET = "old-secret-2025"
TODAY = date(2026, 11, 28)


def load_fixture(name: str) -> dict[str, Any]:
    """A webhook payload from tests/fixtures/webhooks/ (name without .json)."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def with_key(payload: dict[str, Any], key: str, issue_id: str) -> dict[str, Any]:
    """The same payload for another request key."""
    out = copy.deepcopy(payload)
    out["issue"]["key"] = key
    out["issue"]["id"] = issue_id
    return out


@dataclass
class Clock:
    """A settable clock for the store (leases and retry schedule)."""

    now: float = 1_795_852_800.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Harness:
    """The real app, its services and a client; Jira is the fake behind `responses`."""

    fake: FakeJira
    settings: Settings
    services: Services
    app: IntakeFront
    client: AppClient
    clock: Clock
    sleeps: list[float] = field(default_factory=list)

    def post(
        self,
        payload: dict[str, Any] | bytes,
        *,
        delivery_id: str | None = None,
        secret: str | None = NEW_SECRET,
        path: str = "/webhooks/jira",
        headers: dict[str, str] | None = None,
    ) -> Any:
        """POST a payload signed like Jira does (or unsigned with secret=None)."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sent = {"Content-Type": "application/json", **(headers or {})}
        if secret is not None:
            sent["X-Hub-Signature"] = sign(body, secret.encode())
        if delivery_id is not None:
            sent["X-Atlassian-Webhook-Identifier"] = delivery_id
        return self.client.post(path, content=body, headers=sent)

    def seed(self, payload: dict[str, Any], attachments: dict[str, bytes] | None = None) -> None:
        """Make the request in the payload exist in the fake Jira (the portal created it)."""
        self.fake.seed_issue_from_webhook(payload["issue"], attachments=attachments or {})

    def drain(self) -> int:
        """Run the worker until nothing is due."""
        return self.services.worker.drain()

    def writes(self) -> int:
        """Jira write requests sent so far that Jira applied."""
        return int(self.fake.count(writes_only=True, ok_only=True))


OPEN_STORES: list[Store] = []


def close_open_stores() -> None:
    """Stop the background threads and connections of every harness made in a test."""
    while OPEN_STORES:
        OPEN_STORES.pop().close()


def make_harness(
    fake: FakeJira,
    tmp_path: Path,
    *,
    database_url: str | None = None,
    on_effect: Callable[[str], None] | None = None,
    env: dict[str, str] | None = None,
) -> Harness:
    """Settings as an admin would set them, pointed at the fake Jira site."""
    settings = load_settings(
        {
            "JIRA_URL": fake.base_url,
            "JIRA_USER": "uzibot@example.com",
            "JIRA_API_TOKEN": "api-token-for-tests",
            "WEBHOOK_SECRET": f"{NEW_SECRET},{OLD_SECRET}",
            "SERVICE_DESK_PROJECT": "UZO",
            "DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'uzibot.db'}",
            "MAX_BODY_BYTES": "65536",
            # The governor paces on the real clock; its own tests (test_jira_governor) use a
            # fake one, so the engine tests do not wait for it.
            "JIRA_WRITES_PER_SECOND": "1000",
            "JIRA_ISSUE_WRITE_SPACING_SECONDS": "0",
            **(env or {}),
        },
        env_file=None,
    )
    clock = Clock()
    sleeps: list[float] = []
    services = build_services(
        settings, clock=clock, today=lambda: TODAY, sleep=sleeps.append, on_effect=on_effect
    )
    app = create_app(settings, services)
    OPEN_STORES.append(services.store)
    return Harness(fake, settings, services, app, AppClient(app), clock, sleeps)
