"""`uzibot certs import` and `uzibot certs list`: formats, duplicates, refusals, exit codes."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.certs.registry import certificates_for
from bot.cli.main import main
from tests import certgen as g
from tests.fakejira import FakeJira
from tests.harness import make_harness

ISSUED = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
EXPIRES = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def use_settings(monkeypatch: pytest.MonkeyPatch, fake: FakeJira, database_url: str) -> None:
    """The environment `uzibot` reads, pointed at the test database and the fake site."""
    for name, value in {
        "JIRA_URL": fake.base_url,
        "JIRA_USER": "uzibot@example.com",
        "JIRA_API_TOKEN": "api-token-for-tests",
        "WEBHOOK_SECRET": "s3cret-value",
        "SERVICE_DESK_PROJECT": "UZO",
        "DATABASE_URL": database_url,
    }.items():
        monkeypatch.setenv(name, value)


def mixed_folder(root: Path) -> Path:
    """Valid certificates in several formats, a duplicate, a test and a card certificate, junk."""
    folder = root / "inbox"
    (folder / "sub").mkdir(parents=True)
    linde = g.server_cert(not_before=ISSUED, not_after=EXPIRES)
    hoven = g.server_cert(
        abonneenummer="07654321",
        organisation="Gezondheidscentrum De Hoven",
        fqdn="digid.dehoven.nl",
        uzi_number="222333444",
        not_before=ISSUED,
        not_after=datetime(2027, 1, 15, 9, 0, tzinfo=UTC),
    )
    (folder / "linde.pem").write_bytes(g.pem(linde))
    (folder / "sub" / "linde-copy.cer").write_bytes(g.der(linde))  # the same certificate, DER
    (folder / "hoven.p7b").write_bytes(g.p7([hoven]))
    berk = g.server_cert(
        abonneenummer="03456789", organisation="Apotheek De Berk", uzi_number="333444555"
    )
    (folder / "sub" / "berk.p12").write_bytes(g.p12(berk))  # PKCS#12 without a key
    (folder / "test.pem").write_bytes(g.pem(g.server_cert("g1-test", abonneenummer="05555555")))
    (folder / "card.pem").write_bytes(g.pem(g.server_cert(card_type="Z", uzi_number="999888777")))
    (folder / "garbage.txt").write_bytes(b"dit is geen certificaat")
    (folder / "with-key.p12").write_bytes(g.p12(linde, key=g.rsa_key(2048, 0)))
    return folder


def test_import_of_a_mixed_folder_records_the_server_certificates_and_lists_refusals(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = make_harness(fake_jira, tmp_path)
    use_settings(monkeypatch, fake_jira, h.settings.database_url)
    folder = mixed_folder(tmp_path)
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "abonneenummer,practice,vendor,contact,notes\n"
        "1234567,Huisartsenpraktijk De Linde,CGM Huisarts,qm:linde,ignored column\n"
        "7654321,Gezondheidscentrum De Hoven,Promedico ASP,hoven@example.nl,\n"
        "4444,Nergens,,,\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    code = main(["certs", "import", str(folder), "--contacts", str(contacts)], out=out)
    text = out.getvalue()
    assert code == 1, text
    assert text.splitlines()[0] == (
        "recorded 3 certificate(s) for 3 abonneenummer(s); 1 duplicate(s); 4 refused"
    )
    assert f"same certificate: {folder / 'sub' / 'linde-copy.cer'} = {folder / 'linde.pem'}" in text
    refused = {line.split(": ", 2)[1]: line for line in text.splitlines() if "refused:" in line}
    assert set(refused) == {
        str(folder / n) for n in ("card.pem", "garbage.txt", "test.pem", "with-key.p12")
    }
    assert "TEST (acceptance)" in refused[str(folder / "test.pem")]
    assert "card type Z" in refused[str(folder / "card.pem")]
    assert "private key" in refused[str(folder / "with-key.p12")]
    assert "note: contacts row for 00004444: no certificate" in text
    linde = certificates_for(h.services.store, "01234567")
    assert [(r.practice, r.vendor, r.contact, r.environment) for r in linde] == [
        ("Huisartsenpraktijk De Linde", "CGM Huisarts", "qm:linde", "production")
    ]
    assert certificates_for(h.services.store, "07654321")[0].contact == "hoven@example.nl"
    assert certificates_for(h.services.store, "05555555") == []
    # Importing the same files again records nothing new and refuses the same four.
    again = io.StringIO()
    assert main(["certs", "import", str(folder)], out=again) == 1
    assert len(certificates_for(h.services.store, "01234567")) == 1
    # Only valid files: exit 0; the contacts stay with the abonneenummer.
    assert main(["certs", "import", str(folder / "linde.pem")], out=io.StringIO()) == 0
    assert certificates_for(h.services.store, "01234567")[0].contact == "qm:linde"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["certs", "import", "/nonexistent/cert.pem"], "no such file or directory"),
        (["certs", "import", "{folder}", "--contacts", "{bad_csv}"], "header row lacks contact"),
        (["certs", "import", "{folder}", "--contacts", "{bad_number}"], "is not 1-8 digits"),
    ],
)
def test_usage_errors_exit_2_and_record_nothing(
    fake_jira: FakeJira,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    h = make_harness(fake_jira, tmp_path)
    use_settings(monkeypatch, fake_jira, h.settings.database_url)
    folder = mixed_folder(tmp_path)
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("abonneenummer,practice,vendor\n1234567,De Linde,CGM Huisarts\n")
    bad_number = tmp_path / "bad-number.csv"
    bad_number.write_text("abonneenummer,practice,vendor,contact\n12-34,De Linde,,qm:x\n")
    filled = [a.format(folder=folder, bad_csv=bad_csv, bad_number=bad_number) for a in args]
    assert main(filled, out=io.StringIO()) == 2
    assert message in capsys.readouterr().err
    assert certificates_for(h.services.store, "01234567") == []


def test_list_shows_the_current_certificate_per_abonneenummer_soonest_first(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = make_harness(fake_jira, tmp_path)
    use_settings(monkeypatch, fake_jira, h.settings.database_url)
    folder = mixed_folder(tmp_path)
    renewed = g.server_cert(
        uzi_number="555666777",
        not_before=datetime(2026, 11, 1, tzinfo=UTC),
        not_after=datetime(2029, 11, 1, tzinfo=UTC),
    )
    (folder / "linde-2029.pem").write_bytes(g.pem(renewed))
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "abonneenummer;practice;vendor;contact\n"
        "07654321;Gezondheidscentrum De Hoven met een heel lange naam;Promedico ASP;qm:hoven\n"
    )
    main(["certs", "import", str(folder), "--contacts", str(contacts)], out=io.StringIO())
    out = io.StringIO()
    assert main(["certs", "list"], out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split() == [
        "abonnee", "practice", "system", "expiry", "switch-off", "start", "by", "case"
    ]  # fmt: skip
    assert lines[1].startswith("07654321 Gezondheidscen… Promedico…")
    assert "2027-01-15 2027-01-08 2026-12-18" in lines[1]
    assert lines[2].startswith("03456789 Apotheek De Be…")  # the practice from the subject
    assert lines[3].startswith("01234567 Huisartsenprak…")
    assert "2029-11-01 2029-10-25 2029-10-04" in lines[3]
    assert lines[-1] == "3 abonneenummer(s); ! = latest start passed"
    assert all(len(line) <= 80 for line in lines), lines
    out = io.StringIO()
    assert main(["certs", "list", "--json"], out=out) == 0
    rows = json.loads(out.getvalue())
    assert [(r["abonneenummer"], r["switch_off"], r["open_case"]) for r in rows] == [
        ("07654321", "2027-01-08", None),
        ("03456789", "2027-12-25", None),
        ("01234567", "2029-10-25", None),
    ]
    assert rows[0]["practice"] == "Gezondheidscentrum De Hoven met een heel lange naam"
