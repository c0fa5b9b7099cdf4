"""Structured logs: the demo's log lines carry the delivery fields and no secret, e-mail or key."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.demo import DEMO_SECRET
from bot.cli.main import main
from bot.logs import Redactor, configure_logging, log_context, redact_secrets
from bot.sandbox.faults import Fault
from tests import certgen as g
from tests.fakejira import FakeJira
from tests.harness import NEW_SECRET, OLD_SECRET, load_fixture, make_harness
from tests.test_lifecycle_app import move, open_case, tracking_of

FIXTURE = "practice_change-abonneenummer-promedico"
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+")
PRIVATE_KEY = (
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def captured() -> io.StringIO:
    """Every log line of the test as the uzibot handler writes it off a terminal (JSON)."""
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    return stream


def _lines(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_full_demo_run_logs_json_with_the_fields_and_nothing_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # DEBUG: the Jira client then logs whole answers, e-mail addresses of users included.
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    assert main(["demo"], out=io.StringIO()) == 0
    err = capsys.readouterr().err
    entries = [json.loads(line) for line in err.splitlines()]  # every line is one JSON object
    finished = [e for e in entries if e["message"].endswith("finished: done")]
    assert len(finished) == 5
    for entry in finished:
        assert {"delivery", "event", "issue", "request", "workflow", "outcome"} <= set(entry)
    cases = {e["request"]: e.get("case") for e in finished}
    assert cases["UZO-400"] and cases["UZO-400"].startswith("UZO-")  # a case was made
    assert any(e["message"].startswith("duplicate jira delivery") for e in entries)
    for needle in (DEMO_SECRET, "sandbox-api-token", "PRIVATE KEY", "sha256="):
        assert needle not in err
    assert not EMAIL.search(err), EMAIL.search(err)
    assert "[e-mail]" in err  # there were addresses to remove, and they were removed


def test_a_terminal_gets_readable_text_with_the_fields() -> None:
    tty = _Tty()
    configure_logging("INFO", stream=tty)
    with log_context(delivery="d-1", request="UZO-1"):
        logging.getLogger("uzibot.test").info("hello %s", "world")
    line = tty.getvalue().strip()
    assert not line.startswith("{")
    assert line.endswith("uzibot.test  hello world  [delivery=d-1 request=UZO-1]")


def test_the_redactor_masks_secrets_mail_auth_signatures_and_keys() -> None:
    redact = Redactor(["s3cret-token"])
    text = redact(
        f"token s3cret-token from jan@praktijk.nl; Authorization: Basic dXppYm90OnRva2Vu; "
        f"X-Hub-Signature: sha256={'ab' * 32}; {PRIVATE_KEY} tail"
    )
    assert "s3cret-token" not in text and "jan@praktijk.nl" not in text
    assert "dXppYm90OnRva2Vu" not in text and "ab" * 32 not in text
    assert "MIIEvQ" not in text and "PRIVATE KEY" not in text
    assert text.endswith("[private key removed] tail")


def test_every_refusal_logs_its_reason(
    fake_jira: FakeJira, tmp_path: Path, captured: io.StringIO
) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture(FIXTURE)
    assert h.post(payload, secret=None).status_code == 401
    assert h.post(b"{" + b" " * 70_000 + b"}").status_code == 413
    assert h.post(b"{not json").status_code == 400
    assert h.post({"hello": "world"}, delivery_id="bad-envelope").status_code == 422
    refusals = [e["message"] for e in _lines(captured) if e["message"].startswith("refused")]
    assert [re.findall(r" with (\d+): ", m) for m in refusals] == [
        ["401"],
        ["413"],
        ["400"],
        ["422"],
    ]
    assert "webhookEvent" in refusals[-1]  # the reason, not only the status


def test_a_jira_error_with_mail_and_token_is_logged_masked(
    fake_jira: FakeJira, tmp_path: Path, captured: io.StringIO
) -> None:
    h = make_harness(fake_jira, tmp_path)
    redact_secrets(h.settings.secret_values())
    payload = load_fixture(FIXTURE)
    h.seed(payload)
    leak = (
        "user jan.jansen@praktijk-delinde.nl may not; token api-token-for-tests; "
        f"secret {NEW_SECRET} {OLD_SECRET}"
    )
    fake_jira.inject(Fault.http(400, body={"errorMessages": [leak]}, method="POST", times=5))
    h.post(payload, delivery_id="refused-by-jira")
    h.drain()
    text = captured.getvalue()
    parked = [e for e in _lines(captured) if e.get("outcome") == "failed"]
    assert parked and parked[0]["delivery"] == "refused-by-jira"
    assert "may not" in text  # the reason is there ...
    for needle in ("jan.jansen@", "api-token-for-tests", NEW_SECRET, OLD_SECRET):
        assert needle not in text  # ... the personal data and the secrets are not


def test_serve_logs_one_start_line_with_masked_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import bot.server

    env = {
        "JIRA_URL": "https://uzo.atlassian.net",
        "JIRA_USER": "bot@uzo.nl",
        "JIRA_API_TOKEN": "ATATT-very-secret-token",
        "WEBHOOK_SECRET": "hook-secret-new,hook-secret-old",
        "SERVICE_DESK_PROJECT": "UZO",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    seen: list[object] = []

    async def no_serving(servers: list[object]) -> None:  # build, log, but do not listen
        seen.extend(servers)

    monkeypatch.setattr(bot.server, "run_servers", no_serving)
    assert main(["serve", "--port", "8123"]) == 0
    config = seen[0].config  # type: ignore[attr-defined]
    assert config.port == 8123 and config.log_config is None  # uvicorn logs through ours
    err = capsys.readouterr().err
    starts = [json.loads(x) for x in err.splitlines() if "uzibot serve on" in x]
    assert len(starts) == 1
    message = starts[0]["message"]
    assert "0.0.0.0:8123" in message and "JIRA_URL=https://uzo.atlassian.net" in message
    assert "JIRA_API_TOKEN=[set]" in message and "WEBHOOK_SECRET=[set]" in message
    assert "AUTOMATION_SECRET=[unset]" in message and "LEASE_SECONDS=300.0" in message
    assert "BOT_ACCOUNT_ID=[unset]" in message
    for needle in ("ATATT-very-secret-token", "hook-secret-new", "hook-secret-old", "bot@uzo.nl"):
        assert needle not in err


def test_an_uploaded_private_key_never_reaches_the_logs(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)  # the most the bot ever logs
    h = make_harness(fake_jira, tmp_path)
    key_pem = g.key_pem()
    leaf = g.pem(
        g.server_cert(
            not_before=datetime(2024, 3, 1, tzinfo=UTC), not_after=datetime(2027, 6, 1, tzinfo=UTC)
        )
    )
    payload = load_fixture("renewal-sanday-key")
    h.seed(payload, attachments={"10815": leaf, "10816": key_pem})
    h.post(payload, delivery_id="with-a-key")
    assert h.drain() == 1
    assert h.services.store.get("with-a-key").status == "done"  # type: ignore[union-attr]
    text = stream.getvalue()
    assert "finished: done" in text  # the run was logged ...
    key_lines = key_pem.decode().splitlines()[1:-1]
    assert "PRIVATE KEY-----" not in text  # ... without the key's armour
    assert not any(line[:24] in text for line in key_lines)  # ... nor any line of its body


def test_a_subtask_event_logs_its_issue_and_the_request_it_belongs_to(
    fake_jira: FakeJira, tmp_path: Path, captured: io.StringIO
) -> None:
    h = make_harness(fake_jira, tmp_path)
    request = open_case(h, FIXTURE)
    sub = fake_jira.subtasks(tracking_of(fake_jira, request))[0]
    move(h, sub, "Done", "sub-done")
    [line] = [e for e in _lines(captured) if e.get("delivery") == "sub-done" and "outcome" in e]
    assert line["issue"] == sub and line["request"] == request
    assert line["workflow"] == "lifecycle" and line["outcome"] == "done"
