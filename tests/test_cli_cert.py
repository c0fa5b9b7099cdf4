"""Tests for the `uzibot cert` subcommand (bot.cli.cert)."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.cli.cert import add_cert_parser, cert_command, run_cert
from tests import certgen as g

TODAY = date(2026, 6, 1)
CONTRACT = {
    "file",
    "verdict",
    "abonneenummer",
    "uzi_number",
    "card_type",
    "fqdn",
    "not_before",
    "not_after",
    "deactivation_date",
    "latest_start",
    "environment",
    "generation",
    "issuer",
    "contains_private_key",
    "problems",
}


def run(
    files: list[str], *, as_json: bool = True, abonneenummer: str | None = None
) -> tuple[int, str]:
    out = io.StringIO()
    code = run_cert(
        files,
        as_json=as_json,
        abonneenummer=abonneenummer,
        today=TODAY,
        max_bytes=262144,
        out=out,
    )
    return code, out.getvalue()


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "server.pem"
    path.write_bytes(g.pem(g.server_cert()))
    return path


def test_json_for_one_good_file(good: Path) -> None:
    code, text = run([str(good)])
    assert code == 0
    [entry] = json.loads(text)
    assert entry.keys() >= CONTRACT
    assert entry["file"] == str(good)
    assert entry["verdict"] == "ok"
    assert entry["abonneenummer"] == "01234567"
    assert entry["not_after"] == "2028-01-01T09:30:00Z"
    assert entry["deactivation_date"] == "2027-12-25"
    assert entry["latest_start"] == "2027-12-04"
    assert entry["environment"] == "production"
    assert entry["generation"] == "G1"
    assert entry["issuer"] == "UZI-register Private Server CA G1"
    assert entry["contains_private_key"] is False


def test_one_bad_file_makes_exit_one(good: Path, tmp_path: Path) -> None:
    expired = tmp_path / "old.cer"
    expired.write_bytes(g.der(g.server_cert(not_after=datetime(2026, 1, 1, tzinfo=UTC))))
    code, text = run([str(good), str(expired)])
    assert code == 1
    assert [entry["verdict"] for entry in json.loads(text)] == ["ok", "expired"]


def test_missing_file_is_unparseable(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    code, text = run([str(missing)])
    assert code == 1
    [entry] = json.loads(text)
    assert entry["verdict"] == "unparseable"
    assert entry["problems"] == ["The file could not be opened: No such file or directory."]


def test_a_directory_is_unparseable(tmp_path: Path) -> None:
    code, text = run([str(tmp_path)])
    assert code == 1
    assert json.loads(text)[0]["verdict"] == "unparseable"


def test_abonneenummer_is_passed_on(good: Path) -> None:
    code, text = run([str(good)], abonneenummer="7654321")
    assert code == 1
    assert json.loads(text)[0]["verdict"] == "abonneenummer_mismatch"


def test_text_output_is_aligned(good: Path, tmp_path: Path) -> None:
    keyed = tmp_path / "with-key.pem"
    keyed.write_bytes(g.pem(g.server_cert()) + g.key_pem())
    code, text = run([str(good), str(keyed)], as_json=False)
    assert code == 1
    blocks = text.split("\n\n")
    assert len(blocks) == 2
    first = blocks[0].splitlines()
    assert first[0].split() == ["file", str(good)]
    assert first[1].split() == ["verdict", "ok"]
    assert len({line.index(line.split()[1]) for line in first}) == 1
    assert "private_key_included" in blocks[1]
    assert "contains_private_key  yes" in blocks[1]
    assert "problems" in blocks[1] and "PRIVATE KEY" not in text


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="uzibot")
    add_cert_parser(parser.add_subparsers(dest="command"))
    return parser


def test_parser_and_command(good: Path) -> None:
    args = make_parser().parse_args(
        ["cert", str(good), "--json", "--abonneenummer", "1234567", "--today", "2026-06-01"]
    )
    assert (args.json, args.abonneenummer, args.today) == (True, "1234567", TODAY)
    out = io.StringIO()
    assert args.func is cert_command
    assert cert_command(args, out) == 0
    assert json.loads(out.getvalue())[0]["verdict"] == "ok"


def test_bad_today_is_a_usage_error(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        make_parser().parse_args(["cert", str(good), "--today", "1-6-2026"])
    assert stopped.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_no_file_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as stopped:
        make_parser().parse_args(["cert"])
    assert stopped.value.code == 2


EXAMPLES = Path(__file__).resolve().parents[1] / "bot" / "examples"
EXAMPLE = str(EXAMPLES / "servercertificaat.crt")
EXAMPLE_CA = str(EXAMPLES / "example-ca.pem")


def test_the_bundled_example_is_never_ok_next_to_a_failed_signature() -> None:
    code, text = run([EXAMPLE])
    (report,) = json.loads(text)
    assert (code, report["verdict"], report["chain_verified"]) == (0, "ok", None)
    assert report["issuer"] == "uzibot Example Server CA G1"
    assert report["problems"] == [
        "The issuer 'uzibot Example Server CA G1' is not one of the shipped UZI CA "
        "certificates, so the chain could not be checked."
    ]
    code, text = run([EXAMPLE], as_json=False)
    assert "chain_verified        not checked" in text.splitlines()


def test_the_bundled_example_verifies_against_the_bundled_example_ca() -> None:
    args = make_parser().parse_args(
        ["cert", EXAMPLE, "--ca", EXAMPLE_CA, "--today", "2026-06-01", "--json"]
    )
    out = io.StringIO()
    assert cert_command(args, out) == 0
    (report,) = json.loads(out.getvalue())
    assert (report["verdict"], report["chain_verified"], report["problems"]) == ("ok", True, [])
    assert (report["abonneenummer"], report["deactivation_date"]) == ("07654321", "2027-02-22")


def test_the_example_ca_vouches_only_for_its_own_certificates(good: Path) -> None:
    args = make_parser().parse_args(["cert", str(good), "--ca", EXAMPLE_CA, "--json"])
    out = io.StringIO()
    assert cert_command(args, out) == 0
    assert json.loads(out.getvalue())[0]["chain_verified"] is None


@pytest.mark.parametrize(
    ("ca", "message"),
    [("missing.pem", "cannot read"), ("README.md", "no PEM certificate in")],
)
def test_a_bad_ca_file_is_a_usage_error(
    ca: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(Path(__file__).resolve().parents[1] / ca)
    with pytest.raises(SystemExit) as stopped:
        make_parser().parse_args(["cert", EXAMPLE, "--ca", path])
    assert stopped.value.code == 2
    assert f"argument --ca: {message}" in capsys.readouterr().err
