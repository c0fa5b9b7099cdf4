"""Three simulated years of daily scans by two watchers at once, with a 10-day outage.

bench/watch_sim.py compares every request, reminder, notice and priority in the sandbox Jira
with an independent model; bench/bench_watch.py runs the same calendar over 2,000 certificates.
"""

from __future__ import annotations

from pathlib import Path

from bench.watch_sim import simulate


def test_three_years_two_watchers_an_outage_and_renewals_give_each_step_once(
    tmp_path: Path,
) -> None:
    result = simulate(45, years=3, outage=(400, 10), watchers=2, workdir=tmp_path)
    assert result.problems == []
    assert result.scans == 2 * (3 * 365 - 10)
    # 15 of 45 are renewed 30 days ahead (their replacements come due in year three).
    assert result.newer == 15
    assert result.raised > 45 and result.reminders > 4 * 30
    # The certificates whose thresholds passed unseen during the outage get one reminder each.
    assert result.catch_up_certificates >= 1 and result.catch_up_skipped >= 1
    assert result.catch_up_reminders == result.catch_up_certificates
