"""Every metric on /metrics changes when what it counts happens (real app, fake Jira)."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import WORKER_FAMILIES, create_metrics, operation_of
from bot.sandbox.faults import Fault
from tests.fakejira import FakeJira
from tests.harness import Harness, load_fixture, make_harness, with_key

FIXTURE = "practice_change-abonneenummer-promedico"


def scrape(h: Harness) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """GET /metrics through the app, parsed: (sample name, labels) -> value."""
    answer = h.client.get("/metrics")
    assert answer.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_delivery_metrics_follow_intake_queue_worker_and_jira(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = load_fixture(FIXTURE)
    h.seed(payload)
    before = scrape(h)
    assert value(before, "uzibot_queue_depth") == 0
    assert value(before, "uzibot_oldest_pending_seconds") == 0
    h.post(payload, delivery_id="d1")
    h.post(payload, delivery_id="d1")
    h.clock.now += 90
    queued = scrape(h)
    assert value(queued, "uzibot_duplicate_deliveries_total") == 1
    assert value(queued, "uzibot_queue_depth") == 1
    assert value(queued, "uzibot_oldest_pending_seconds") == 90
    fake_jira.inject(Fault.rate_limited(retry_after=2, method="POST", path=r"/comment$"))
    assert h.drain() == 1
    after = scrape(h)
    assert value(after, "uzibot_queue_depth") == 0
    assert value(after, "uzibot_oldest_pending_seconds") == 0
    assert value(after, "uzibot_deliveries_processed_total", outcome="done") == 1
    assert value(after, "uzibot_processing_seconds_count") == 1
    assert value(after, "uzibot_processing_seconds_sum") > 0
    comment = "POST /rest/servicedeskapi/request/{key}/comment"
    assert value(after, "uzibot_jira_calls_total", operation=comment, status="429") == 1
    assert value(after, "uzibot_jira_calls_total", operation=comment, status="201") == 2
    assert value(after, "uzibot_jira_throttled_total") == 1
    assert value(after, "uzibot_parked_failures") == 0


def test_a_refused_write_shows_as_a_parked_failure(fake_jira: FakeJira, tmp_path: Path) -> None:
    h = make_harness(fake_jira, tmp_path)
    payload = with_key(load_fixture(FIXTURE), "UZO-470", "10470")
    h.seed(payload)
    fake_jira.inject(Fault.http(400, body={"errorMessages": ["no"]}, method="POST", times=3))
    h.post(payload, delivery_id="refused")
    h.drain()
    samples = scrape(h)
    assert value(samples, "uzibot_parked_failures") == 1
    assert value(samples, "uzibot_deliveries_processed_total", outcome="failed") == 1
    assert any(k[0] == "uzibot_jira_calls_total" and ("status", "400") in k[1] for k in samples)


def test_watch_families_are_worker_families() -> None:
    # The expiry watch runs beside the worker: under serve its families come from the child.
    metrics = create_metrics()
    text = metrics.render(WORKER_FAMILIES.__contains__).decode()
    assert "uzibot_watch_steps_total" in text and "uzibot_certificates" in text
    assert "uzibot_intake_total" not in text and "uzibot_queue_depth" not in text


def test_operation_labels_stay_bounded() -> None:
    assert operation_of("rest/api/3/issue/UZO-12/comment") == "/rest/api/3/issue/{key}/comment"
    assert operation_of("/rest/servicedeskapi/servicedesk/4/requesttype?start=0") == (
        "/rest/servicedeskapi/servicedesk/{id}/requesttype"
    )
