"""Property tests (hypothesis): the intake's parsing and row checks never let an exception out."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.envelope import (
    EnvelopeError,
    check_automation_payload,
    check_jira_envelope,
    parse_automation_payload,
    parse_jira_envelope,
)
from bot.inbox.limits import MAX_ID, row_problem, storable_id, unstorable_text
from bot.intake import parse_body
from tests.harness import load_fixture

# A thousand examples each; no example database is written into the worktree.
EXAMPLES = settings(
    max_examples=1000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)
FIXTURE = load_fixture("practice_change-abonneenummer-promedico")


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out.extend(_paths(value, (*prefix, key)))
    return out


PATHS = _paths(FIXTURE)


@EXAMPLES
@given(st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_parse_body_answers_every_body(body: bytes) -> None:
    _payload, status, why = parse_body(body)
    assert status in (0, 400, 422)
    assert (status == 0) == (why == "")


@EXAMPLES
@given(json_values)
def test_the_envelope_checks_either_accept_or_say_why(payload: Any) -> None:
    for check, parse in (
        (check_jira_envelope, parse_jira_envelope),
        (check_automation_payload, parse_automation_payload),
    ):
        try:
            name, key = check(payload)
        except EnvelopeError as exc:
            assert str(exc)
            continue
        assert isinstance(name, str) and (key is None or isinstance(key, str))
        assert parse(payload, "d").name == name


@EXAMPLES
@given(st.lists(st.tuples(st.sampled_from(PATHS), json_values), min_size=1, max_size=4))
def test_a_real_envelope_with_any_field_replaced_still_parses(
    changes: list[tuple[tuple[Any, ...], Any]],
) -> None:
    payload = json.loads(json.dumps(FIXTURE))
    for path, value in changes:
        node = payload
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node[path[-1]] = value
    try:
        check_jira_envelope(payload)
    except EnvelopeError:
        return  # webhookEvent or issue replaced by something unusable: a 422, tested elsewhere
    event = parse_jira_envelope(payload, "d")
    assert event.delivery_id == "d"


@EXAMPLES
@given(st.text(max_size=400), st.text(max_size=400))
def test_storable_ids_fit_and_never_collide(first: str, second: str) -> None:
    a, b = storable_id(first), storable_id(second)
    assert len(a) <= MAX_ID and unstorable_text(a) is None
    assert (a == b) == (first == second)


@EXAMPLES
@given(st.text(max_size=120), st.none() | st.text(max_size=60))
def test_a_row_without_problems_is_storable(event_name: str, issue_key: str | None) -> None:
    if row_problem(event_name, issue_key) is None:
        assert len(event_name) <= 100 and (issue_key is None or len(issue_key) <= 50)
        for value in (event_name, issue_key or ""):
            assert "\x00" not in value
            value.encode("utf-8")
