"""The README's expiry watch commands, run in the README's setting; the output shown is true."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.main import main
from tests import certgen as g
from tests.fakejira import FakeJira
from tests.harness import make_harness
from tests.test_certs_cli import use_settings
from tests.test_readme import assert_shown_lines_appear, fenced_commands

# In the order the story happens: import, three scans, then the list with the open cases.
SCENARIO = (
    "uzibot certs import certs --contacts contacts.csv",
    "uzibot watch --once --today 2026-12-01",
    "uzibot watch --once --today 2026-12-01",
    "uzibot watch --once --today 2027-01-04",
    "uzibot certs list --today 2027-01-04",
)
EXIT = {"uzibot certs import certs --contacts contacts.csv": 1}


def readme_folder(root: Path) -> None:
    """The certificates and contacts the README's example imports."""
    (root / "certs" / "oud").mkdir(parents=True)
    linde = g.server_cert(
        not_before=datetime(2024, 3, 1, 9, tzinfo=UTC),
        not_after=datetime(2027, 3, 1, 9, tzinfo=UTC),
    )
    hoven = g.server_cert(
        abonneenummer="07654321",
        organisation="Gezondheidscentrum De Hoven",
        uzi_number="222333444",
        fqdn="digid.dehoven.nl",
        not_before=datetime(2024, 1, 10, tzinfo=UTC),
        not_after=datetime(2027, 1, 15, 9, tzinfo=UTC),
    )
    berk = g.server_cert(
        abonneenummer="03456789",
        organisation="Apotheek De Berk",
        uzi_number="333444555",
        fqdn="portaal.apotheekdeberk.nl",
        not_before=datetime(2025, 6, 1, tzinfo=UTC),
        not_after=datetime(2028, 6, 1, 9, tzinfo=UTC),
    )
    (root / "certs" / "linde.pem").write_bytes(g.pem(linde))
    (root / "certs" / "oud" / "linde.cer").write_bytes(g.der(linde))
    (root / "certs" / "hoven.p7b").write_bytes(g.p7([hoven]))
    (root / "certs" / "berk.crt").write_bytes(g.der(berk))
    test_cert = g.server_cert("g1-test", abonneenummer="05555555")
    (root / "certs" / "acceptatie.pem").write_bytes(g.pem(test_cert))
    card = g.server_cert(card_type="Z", uzi_number="999888777")
    (root / "certs" / "pas.pem").write_bytes(g.pem(card))
    (root / "certs" / "notities.txt").write_bytes(b"wachtwoord van de beheeromgeving")
    (root / "contacts.csv").write_text(
        "abonneenummer,practice,vendor,contact\n"
        "1234567,Huisartsenpraktijk De Linde,CGM Huisarts,qm:linde\n"
        "7654321,Gezondheidscentrum De Hoven,Promedico ASP,assistente@dehoven.nl\n",
        encoding="utf-8",
    )


def test_readme_watch_commands_print_what_the_readme_shows(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = fenced_commands()
    assert set(SCENARIO) <= set(shown)
    (tmp_path / "db").mkdir()
    h = make_harness(fake_jira, tmp_path / "db")
    use_settings(monkeypatch, fake_jira, h.settings.database_url)
    fake_jira.add_customer("qm:linde", "praktijk@delinde.nl")
    fake_jira.add_customer("qm:hoven", "assistente@dehoven.nl")
    readme_folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    printed: dict[str, str] = {}
    for command in SCENARIO:
        out = io.StringIO()
        assert main(command.split()[1:], out=out) == EXIT.get(command, 0), out.getvalue()
        printed[command] = printed.get(command, "") + out.getvalue()
    for command in dict.fromkeys(SCENARIO):
        text = printed[command].replace(str(tmp_path) + os.sep, "")
        assert_shown_lines_appear(shown[command], text)
    assert fake_jira.issue("UZO-1").reporter_id == "qm:hoven"  # e-mail contact resolved
    assert fake_jira.issue("UZO-2").reporter_id == "qm:linde"
