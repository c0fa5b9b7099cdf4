"""A renewal request with 100 or 1,000 certificate files: one reply, a case, a note, bounded."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.mappings import load_mappings
from handlers.routing import build_router, decide_route
from tests import certgen as g
from tests.fakejira import FakeJira
from tests.harness import load_fixture, make_harness
from tests.plan_support import handler_context, load_event

KEY = "UZO-431"  # the request of the renewal-promedico fixture
JIRA_TEXT_LIMIT = 32_767
PROPERTY_LIMIT = 32_768
LONG_NAME = "certificaat-van-huisartsenpraktijk-de-lange-naam-{:04d}-" + "x" * 150 + ".cer"


def many_files(count: int) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The renewal-promedico request with its certificate plus `count` garbage '.cer' files."""
    payload = load_fixture("renewal-promedico")
    fields = payload["issue"]["fields"]
    (original,) = fields["attachment"]
    original.get("author", {}).pop("avatarUrls", None)
    leaf = g.server_cert(
        not_before=datetime(2024, 1, 5, tzinfo=UTC), not_after=datetime(2027, 1, 5, tzinfo=UTC)
    )
    contents = {original["id"]: g.pem(leaf)}
    original["size"] = len(contents[original["id"]])
    for i in range(count):
        item = copy.deepcopy(original)
        item["id"] = str(20_000 + i)
        item["filename"] = LONG_NAME.format(i)
        item["size"] = 2_000 + i  # all larger than the real certificate
        item["content"] = item["content"].rsplit("/", 1)[0] + f"/{item['id']}"
        fields["attachment"].append(item)
        contents[item["id"]] = f"geen certificaat {i}\n".encode() * 100
    return payload, contents


@pytest.mark.parametrize(("count", "max_files"), [(100, 10), (1_000, 10), (1_000, 100)])
def test_many_files_get_one_reply_a_case_and_a_note_with_bounded_downloads(
    fake_jira: FakeJira, tmp_path: Path, count: int, max_files: int
) -> None:
    env = {"MAX_BODY_BYTES": str(4 * 1024 * 1024), "MAX_CERT_FILES": str(max_files)}
    harness = make_harness(fake_jira, tmp_path, env=env)
    payload, contents = many_files(count)
    harness.seed(payload, attachments=contents)
    assert len(json.dumps(payload)) > 60_000
    assert harness.post(payload, delivery_id="many-1").status_code == 202
    harness.drain()

    assert harness.services.store.counts().get("failed", 0) == 0
    public = fake_jira.comments(KEY, public=True)
    internal = fake_jira.comments(KEY, public=False)
    assert len(public) == 1 and len(internal) == 1
    assert all(len(str(c.body)) <= JIRA_TEXT_LIMIT for c in public + internal)
    reply = str(public[0].body)
    assert "ingekort" not in reply  # the list is summarised, not cut off
    if max_files > 20:
        assert f"Nog {max_files - 1 - 10} andere bestanden konden wij niet gebruiken" in reply
    note = str(internal[0].body)
    assert f"{count + 1 - max_files:,} certificate files were not read" in note
    downloads = fake_jira.count("GET", "/rest/api/3/attachment/content/")
    assert downloads == max_files  # the smallest certificate-like files, once each
    links = fake_jira.links(KEY)
    assert len(links) == 1
    tracking = links[0].source if links[0].target == KEY else links[0].target
    facts = fake_jira.property(tracking, "uzibot")
    assert len(json.dumps(facts, separators=(",", ":")).encode()) < PROPERTY_LIMIT // 4
    assert facts["certificate"]["verdict"] == "ok"

    # the same state delivered again costs no new comment and at most the same downloads
    assert harness.post(payload, delivery_id="many-2").status_code == 202
    harness.drain()
    assert len(fake_jira.comments(KEY)) == 2
    assert fake_jira.count("GET", "/rest/api/3/attachment/content/") <= 2 * max_files


@pytest.mark.parametrize(
    "fixture", ["practice_change-abonneenummer-promedico", "undecided-nothing"]
)
def test_practice_change_and_triage_notes_name_the_unread_files(fixture: str) -> None:
    maps = load_mappings()
    names = tuple(f"bestand-{i}.cer" for i in range(30))
    ctx = replace(
        handler_context(maps, today=date(2026, 11, 28)),
        unread_certificates=names,
    )
    event = load_event(fixture)
    plans = build_router().dispatch(event, ctx, decide_route(event, ctx))
    notes = [c.body for p in plans for c in p.comments if not c.public]
    assert len(notes) == 1
    assert (
        "30 certificate files were not read: the bot reads at most MAX\\_CERT\\_FILES of them "
        "per request, the smallest first. Not read: bestand\\-0.cer, bestand\\-1.cer" in notes[0]
    )
    assert "bestand\\-19.cer and 10 more." in notes[0]
