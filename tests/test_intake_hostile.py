"""Hostile and odd deliveries: each gets a clear answer, and none takes good deliveries down."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.envelope import parse_jira_envelope
from bot.inbox.limits import MAX_ID
from bot.inbox.store import NewDelivery
from bot.inbox.writer import InboxWriter, Unstorable
from bot.intake import AUTOMATION_WINDOW_SECONDS, MAX_NESTING
from bot.signature import sign
from tests.fakejira import FakeJira
from tests.harness import NEW_SECRET, Harness, load_fixture, make_harness, with_key
from tests.pgdb import fresh_database
from tests.test_engine import assert_one_complete_case

FIXTURE = "practice_change-abonneenummer-promedico"
AUTOMATION = {"X-Webhook-Secret": NEW_SECRET}


def _post_many(h: Harness, bodies: list[tuple[bytes, str]]) -> list[httpx.Response]:
    """POST signed bodies concurrently, so the intake stores them in one group commit."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=h.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://uzibot") as client:

            async def one(body: bytes, delivery_id: str) -> httpx.Response:
                headers = {
                    "X-Hub-Signature": sign(body, NEW_SECRET.encode()),
                    "X-Atlassian-Webhook-Identifier": delivery_id,
                    "Content-Type": "application/json",
                }
                return await client.post("/webhooks/jira", content=body, headers=headers)

            return await asyncio.gather(*(one(b, i) for b, i in bodies))

    return asyncio.run(run())


def _with(payload: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(payload))
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


# --- 2. Automation re-checks ------------------------------------------------------------------


def test_automation_recheck_runs_again_after_the_window_but_once_within_it(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    body = {"issue": {"key": "UZO-400"}}
    start = h.clock.now

    def post() -> str:
        answer = h.post(body, path="/webhooks/automation", secret=None, headers=AUTOMATION)
        return str(answer.json()["status"])

    # The window is sliding: every offset below is within it of the first post, also when
    # a bucket boundary falls between them.
    for offset in (0.0, 1.0, AUTOMATION_WINDOW_SECONDS - 1):
        h.clock.now = start + offset
        assert post() == ("accepted" if offset == 0 else "duplicate"), offset
    h.clock.now = start + 60  # the README's re-check a minute later
    assert post() == "accepted"
    h.clock.now = start + 61
    assert post() == "duplicate"
    h.clock.now = start + 60 + AUTOMATION_WINDOW_SECONDS + 0.5
    assert post() == "accepted"
    assert h.services.store.counts() == {"pending": 3}


@pytest.mark.parametrize("offset", [0.5, 29.5])
def test_identical_automation_posts_across_a_bucket_boundary_are_one(
    fake_jira: FakeJira, tmp_path: Path, offset: float
) -> None:
    h = make_harness(fake_jira, tmp_path)
    h.clock.now = 1_795_852_800.0 - offset  # just before a multiple of the window
    body = {"issue": {"key": "UZO-400"}}
    first = h.post(body, path="/webhooks/automation", secret=None, headers=AUTOMATION)
    h.clock.now += offset + 0.4
    again = h.post(body, path="/webhooks/automation", secret=None, headers=AUTOMATION)
    assert (first.status_code, again.status_code) == (202, 200)


def test_automation_recheck_a_minute_later_is_processed(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture(FIXTURE)
    h.seed(payload)
    body = {"issue": {"key": payload["issue"]["key"]}}
    assert h.post(body, path="/webhooks/automation", secret=None, headers=AUTOMATION).is_success
    assert h.drain() == 1
    h.clock.now += 60
    answer = h.post(body, path="/webhooks/automation", secret=None, headers=AUTOMATION)
    assert answer.status_code == 202
    assert h.drain() == 1  # it ran; the case is up to date, nothing is made twice
    assert h.services.store.counts() == {"done": 2}
    assert_one_complete_case(fake_jira, payload["issue"]["key"])


# --- 3 and 4. One bad delivery, and what can never be stored ---------------------------------


BAD_ROWS = {
    "lone surrogate in the key": (("issue", "key"), "UZO-\ud800"),
    "key over 50": (("issue", "key"), "UZO-" + "9" * 60),
    "NUL in the key": (("issue", "key"), "UZO-1\x00"),
    "event name over 100": (("webhookEvent",), "jira:issue_updated" + "x" * 100),
    "NUL in the event name": (("webhookEvent",), "jira:issue_updated\x00"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_one_unstorable_delivery_fails_alone_with_422(
    fake_jira: FakeJira, tmp_path: Path, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    h = make_harness(fake_jira, tmp_path)
    base = load_fixture(FIXTURE)
    good = [
        (json.dumps(with_key(base, f"UZO-{600 + i}", str(600 + i))).encode(), f"good-{i}")
        for i in range(95)
    ]
    path, value = BAD_ROWS[case]
    bad = (json.dumps(_with(base, path, value)).encode(), "bad-one")
    with caplog.at_level(logging.WARNING, logger="uzibot.intake"):
        answers = _post_many(h, [*good[:50], bad, *good[50:]])
    codes = [a.status_code for a in answers]
    assert codes[50] == 422, answers[50].text
    assert codes[:50] + codes[51:] == [202] * 95
    assert answers[50].json()["status"] == "rejected"
    assert h.services.store.counts() == {"pending": 95}
    assert any("refused jira delivery with 422" in r.getMessage() for r in caplog.records)


def _writer_isolates_a_row_the_store_refuses(h: Harness, bad: NewDelivery) -> None:
    """Bypass the intake's checks: the store itself refuses one row of the batch."""
    writer = InboxWriter(h.services.store)
    rows = [
        NewDelivery(f"w-{i}", "jira", "jira:issue_created", f"UZO-{i}", b"{}") for i in range(20)
    ]
    rows.insert(7, bad)

    async def run() -> list[bool | BaseException]:
        return await asyncio.gather(*(writer.submit(r) for r in rows), return_exceptions=True)

    results = asyncio.run(run())
    assert isinstance(results[7], Unstorable), results[7]
    assert results[:7] + results[8:] == [True] * 20
    assert h.services.store.counts() == {"pending": 20}


def test_writer_retries_a_failed_batch_row_by_row_on_sqlite(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    bad = NewDelivery("bad", "jira", "jira:issue_created", "UZO-\udcff", b"{}")
    _writer_isolates_a_row_the_store_refuses(h, bad)


@pytest.mark.parametrize(
    "bad",
    [
        NewDelivery("bad", "jira", "jira:issue_created", "UZO-" + "1" * 60, b"{}"),
        NewDelivery("bad", "jira", "e" * 101, "UZO-1", b"{}"),
        NewDelivery("bad", "jira", "jira:issue_created", "UZO-\x001", b"{}"),
    ],
    ids=["long key", "long event", "NUL"],
)
def test_writer_retries_a_failed_batch_row_by_row_on_postgres(
    fake_jira: FakeJira, tmp_path: Path, bad: NewDelivery
) -> None:
    with fresh_database() as url:
        h = make_harness(fake_jira, tmp_path, database_url=url)
        _writer_isolates_a_row_the_store_refuses(h, bad)
        h.services.store.close()


def test_a_store_outage_still_answers_503(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = make_harness(fake_jira, tmp_path)

    class OperationalError(Exception):
        pass

    calls: list[int] = []

    def down(rows: list[NewDelivery]) -> list[bool]:
        calls.append(len(rows))
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(h.services.store, "add_deliveries_nowait", down)  # SQLite's intake write
    base = load_fixture(FIXTURE)
    bodies = [
        (json.dumps(with_key(base, f"UZO-{i}", str(i))).encode(), f"o-{i}") for i in range(10)
    ]
    assert [a.status_code for a in _post_many(h, bodies)] == [503] * 10
    # An outage fails each batch at once: no row is retried on its own against a store
    # that is down (the batches may split as requests arrive while one commits).
    assert sum(calls) == 10


# --- 7. Nesting ------------------------------------------------------------------------------

_ENVELOPE_WITH = '{"webhookEvent": "jira:issue_created", "issue": {"key": "UZO-1"}, "x": X}'


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 990, 5000, 100_000])
def test_deeply_nested_signed_body_gets_422_not_500(
    fake_jira: FakeJira, tmp_path: Path, depth: int
) -> None:
    h = make_harness(fake_jira, tmp_path, env={"MAX_BODY_BYTES": "1048576"})
    inner = "[" * depth + "]" * depth
    body = _ENVELOPE_WITH.replace("X", inner)
    answer = h.post(body.encode())
    assert answer.status_code == 422, answer.text
    assert "nests deeper" in answer.json()["error"]
    assert h.services.store.counts() == {}


def test_nesting_within_the_bound_is_accepted(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    depth = MAX_NESTING - 5
    inner = "[" * depth + "]" * depth
    body = _ENVELOPE_WITH.replace("X", inner)
    assert h.post(body.encode(), delivery_id="deep-ok").status_code == 202


# --- 8. Irrelevant odd fields ----------------------------------------------------------------


ODD_FIELDS = {
    "timestamp 1e30": (("timestamp",), 1e30),
    "timestamp NaN": (("timestamp",), float("nan")),
    "timestamp Infinity": (("timestamp",), float("inf")),
    "timestamp huge int": (("timestamp",), 10**400),
    "timestamp a string": (("timestamp",), "yesterday"),
    "labels a number": (("issue", "fields", "labels"), 5),
    "labels a string": (("issue", "fields", "labels"), "uzibot"),
    "labels an object": (("issue", "fields", "labels"), {"a": 1}),
    "changelog items an object": (("changelog",), {"items": {"field": "x"}}),
    "attachment an object": (("issue", "fields", "attachment"), {"id": 1}),
    "comment id an object": (("comment",), {"id": {"x": 1}, "body": "hoi"}),
    "user a list": (("user",), [1, 2]),
}


@pytest.mark.parametrize("case", list(ODD_FIELDS))
def test_an_irrelevant_odd_field_does_not_park_the_request(
    fake_jira: FakeJira, tmp_path: Path, case: str
) -> None:
    h = make_harness(fake_jira, tmp_path)
    base = load_fixture(FIXTURE)
    h.seed(base)
    path, value = ODD_FIELDS[case]
    payload = _with(base, path, value)
    body = json.dumps(payload).encode()  # NaN and Infinity as Python's json writes them
    assert h.post(body, delivery_id="odd").status_code == 202
    assert h.drain() == 1
    assert h.services.store.get("odd").status == "done"  # type: ignore[union-attr]
    assert_one_complete_case(fake_jira, base["issue"]["key"])


def test_the_parser_never_raises_on_wrong_types_anywhere() -> None:
    base = load_fixture(FIXTURE)
    odd_values: list[Any] = [None, 5, -1, 1e308, "x", [], {}, [1, "a"], {"a": [1]}, True]
    paths = list(_leaf_paths(base))
    assert len(paths) > 20
    for path in paths:
        for value in odd_values:
            event = parse_jira_envelope(_with(base, path, value), "p")
            assert event.delivery_id == "p"


def _leaf_paths(node: Any, prefix: tuple[str, ...] = ()) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            # The envelope's required members have their own 422 tests.
            if prefix != () or key not in ("webhookEvent", "issue"):
                yield (*prefix, key)
            yield from _leaf_paths(value, (*prefix, key))


# --- 9. Long delivery ids -------------------------------------------------------------------


def test_long_delivery_ids_sharing_a_prefix_do_not_collide(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    base = load_fixture(FIXTURE)
    prefix = "x" * 250
    first = h.post(base, delivery_id=prefix + "-1")
    second = h.post(with_key(base, "UZO-901", "901"), delivery_id=prefix + "-2")
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["delivery"] != second.json()["delivery"]
    assert len(first.json()["delivery"]) <= MAX_ID
    assert h.post(base, delivery_id=prefix + "-1").status_code == 200  # Jira's retry
    exact = "y" * MAX_ID
    assert h.post(base, delivery_id=exact).json()["delivery"] == exact  # fits: stored whole
    assert h.services.store.counts() == {"pending": 3}


def test_a_refusal_quoting_hostile_input_stays_short(
    fake_jira: FakeJira, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    h = make_harness(fake_jira, tmp_path)
    with caplog.at_level(logging.WARNING, logger="uzibot.intake"):
        answer = h.post({"webhookEvent": "comment_" + "x\n" * 20_000})
    assert answer.status_code == 422
    assert len(answer.json()["error"]) <= 303
    (line,) = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(line) < 800 and "\n" not in line  # 300 characters, escaped as a literal


def test_concurrent_batches_on_postgres_store_each_id_once(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    """Several batches commit at once on PostgreSQL; an id sent twice (in different batches)
    is still stored once and answered new once."""
    with fresh_database() as url:
        h = make_harness(fake_jira, tmp_path, database_url=url)
        writer = InboxWriter(h.services.store, 3)  # POSTGRES_INTAKE_COMMITS=3
        assert writer.writers == 3

        async def one(i: int) -> bool:
            await asyncio.sleep((i % 10) * 0.002)  # spread over many small batches
            row = NewDelivery(f"c-{i % 40}", "jira", "jira:issue_created", f"UZO-{i}", b"{}")
            return await writer.submit(row)

        async def run() -> list[bool]:
            return await asyncio.gather(*(one(i) for i in range(80)))

        results = asyncio.run(run())
        assert sum(results) == 40
        assert h.services.store.counts() == {"pending": 40}
        h.services.store.close()
