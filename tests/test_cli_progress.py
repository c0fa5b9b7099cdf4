"""Progress bars of `uzibot certs import` and `uzibot watch --once`: drawn on a terminal only."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.certs.registry import certificates_for, record_certificates
from bot.cli.certs import import_files
from bot.cli.main import main
from bot.cli.progress import Progress
from bot.cli.watch import run_watch
from bot.plan import CertificateRecord
from tests import certgen as g
from tests.fakejira import FakeJira
from tests.harness import Harness, make_harness
from tests.test_certs_cli import mixed_folder, use_settings


class Tty(io.StringIO):
    """A stream that says it is a terminal (how Progress decides to draw)."""

    def isatty(self) -> bool:
        return True


def frames(stream: io.StringIO) -> list[str]:
    return [f for f in stream.getvalue().split("\r") if f]


def test_certs_import_draws_a_bar_over_the_files_on_a_terminal_only(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path)
    files = sorted(p for p in mixed_folder(tmp_path).rglob("*") if p.is_file())
    tty, pipe = Tty(), io.StringIO()
    first = import_files(h.services.store, files, {}, today=date(2026, 11, 29), progress=tty)
    again = import_files(h.services.store, files, {}, today=date(2026, 11, 29), progress=pipe)
    assert pipe.getvalue() == ""
    last = frames(tty)[-1]
    assert last.startswith(f"reading [{'#' * 30}] {len(files)}/{len(files)} 100%")
    assert last.endswith("\n")
    assert len(first.recorded) == len(again.recorded) == 3  # the bar changes nothing else


def test_certs_import_from_the_command_line_leaves_a_captured_stderr_empty(
    fake_jira: FakeJira,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    h = make_harness(fake_jira, tmp_path)
    use_settings(monkeypatch, fake_jira, h.settings.database_url)
    cert = tmp_path / "linde.pem"
    cert.write_bytes(g.pem(g.server_cert()))
    capsys.readouterr()
    assert main(["certs", "import", str(cert)], out=io.StringIO()) == 0
    assert "reading [" not in capsys.readouterr().err  # stderr is not a terminal here
    assert certificates_for(h.services.store, "01234567")


def register_many(h: Harness, count: int, expires: datetime) -> None:
    record_certificates(
        h.services.store,
        [
            CertificateRecord(
                fingerprint=f"{n:064x}",
                abonneenummer=f"{10_000_000 + n:08d}",
                uzi_number=f"{100_000_000 + n}",
                not_before=(expires - timedelta(days=1000)).isoformat(),
                not_after=expires.isoformat(),
                practice=f"Praktijk {n}",
                contact=None,
                environment="production",
            )
            for n in range(count)
        ],
    )


def test_a_watch_catch_up_draws_a_bar_over_the_watched_certificates_on_a_terminal_only(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path, env={"TRACKING_PROJECT": "TRK"})
    register_many(h, 5, datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    tty, pipe = Tty(), io.StringIO()
    out = io.StringIO()
    # Ten days past the first threshold: every certificate gets its case in this run.
    assert run_watch(h.services, today=date(2027, 1, 10), out=out, progress=tty) == 0
    assert "5 agents-only issues" in out.getvalue()
    drawn = frames(tty)
    assert drawn[-1].startswith(f"expiry scan [{'#' * 30}] 5/5 100%")
    assert drawn[-1].endswith("\n")
    assert run_watch(h.services, today=date(2027, 1, 10), out=io.StringIO(), progress=pipe) == 0
    assert pipe.getvalue() == ""


def test_update_sets_a_total_learnt_late() -> None:
    tty = Tty()
    with Progress(0, "expiry scan", stream=tty, min_interval=0) as bar:
        bar.update(1, 4)
        bar.update(2, 4)
        assert " 2/4  50%" in frames(tty)[-1]
        bar.update(4, 4)
    assert frames(tty)[-1].startswith(f"expiry scan [{'#' * 30}] 4/4 100%")
