"""Mappings for one site: `mappings init`, a partial MAPPINGS_DIR, located errors, request types."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import bot.sandbox.site_api as site_api
from bot.cli.main import main
from bot.mappings import MappingsError, load_mappings
from bot.wiring import resolve_request_types
from tests.fakejira import FakeJira
from tests.harness import make_harness

BUNDLED = Path(__file__).resolve().parents[1] / "mappings"


def test_init_copies_every_bundled_file_and_refuses_a_full_directory(tmp_path: Path) -> None:
    out = io.StringIO()
    target = tmp_path / "site-mappings"
    assert main(["mappings", "init", str(target)], out=out) == 0
    bundled = sorted(
        str(p.relative_to(BUNDLED))
        for p in BUNDLED.rglob("*")
        if p.is_file() and p.suffix in {".toml", ".j2"}
    )
    copied = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert copied == bundled
    assert f"MAPPINGS_DIR={target.resolve()}" in out.getvalue()
    assert load_mappings(target).field_names() == load_mappings().field_names()
    assert main(["mappings", "init", str(target)], out=io.StringIO()) == 2


def test_a_partial_directory_takes_the_rest_from_the_bundled_set(tmp_path: Path) -> None:
    (tmp_path / "fields.toml").write_text('[fields]\npractice_name = "Naam praktijk"\n')
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "question_ack.j2").write_text("Dank voor uw vraag.\n")
    maps = load_mappings(tmp_path)
    assert maps.field_names()[0] == "Naam praktijk"
    assert maps.field_names()[1] == "Abonneenummer"  # the model's default, not the bundled file
    assert maps.vendors == load_mappings().vendors
    assert maps.render("question_ack.j2") == "Dank voor uw vraag.\n"
    assert "practice_change_public.j2" in maps.template_names()


def test_errors_name_the_path_the_line_and_the_fix(tmp_path: Path) -> None:
    text = (BUNDLED / "request_types.toml").read_text(encoding="utf-8")
    (tmp_path / "request_types.toml").write_text(
        text.replace('workflow = "renewal"', 'workflow = "renwal"'), encoding="utf-8"
    )
    expected_line = (
        text.splitlines().index('workflow = "renewal"') + 1
    )  # the line an admin must edit
    with pytest.raises(MappingsError) as caught:
        load_mappings(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'request_types.toml'}, line {expected_line}: ")
    assert "request_type[2].workflow: unknown workflow 'renwal'" in message
    assert message.endswith("\n  fix: use one of the known workflows")


def test_a_misspelt_key_and_bad_toml_are_located(tmp_path: Path) -> None:
    (tmp_path / "vendors.toml").write_text(
        (BUNDLED / "vendors.toml")
        .read_text(encoding="utf-8")
        .replace("fallback_login = false", "fallback_logon = false", 1),
        encoding="utf-8",
    )
    with pytest.raises(MappingsError) as caught:
        load_mappings(tmp_path)
    lines = (tmp_path / "vendors.toml").read_text(encoding="utf-8").splitlines()
    assert caught.value.line is not None
    assert lines[caught.value.line - 1].startswith("fallback_logon")
    assert "remove the key or correct its spelling" in str(caught.value)
    (tmp_path / "vendors.toml").write_text('[[vendor]]\nname = "Sanday\n')
    with pytest.raises(MappingsError) as caught:
        load_mappings(tmp_path)
    assert caught.value.line == 2 and "fix: correct the TOML syntax" in str(caught.value)


def test_a_bad_mappings_dir_ends_in_a_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "workflows.toml").write_text("[practice_change]\ncase = tru\n")
    for name, value in {
        "JIRA_URL": "https://uzo.atlassian.net",
        "JIRA_USER": "uzibot@example.com",
        "JIRA_API_TOKEN": "api-token-for-tests",
        "WEBHOOK_SECRET": "s3cret-value",
        "SERVICE_DESK_PROJECT": "UZO",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'u.db'}",
        "MAPPINGS_DIR": str(tmp_path / "site"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert main(["deliveries"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith(f"uzibot: mappings: {tmp_path / 'site' / 'workflows.toml'}, line 2: ")
    assert "fix: correct the TOML syntax" in err
    monkeypatch.setenv("MAPPINGS_DIR", str(tmp_path / "nowhere"))
    assert main(["deliveries"]) == 2
    assert "uzibot mappings init DIR" in capsys.readouterr().err


def test_request_types_are_resolved_by_name_at_start(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A site whose request types carry other ids than the bundled mappings, same names; its
    # id 101 is a type the mappings do not know.
    monkeypatch.setattr(
        site_api,
        "REQUEST_TYPES",
        (
            ("101", "Iets anders"),
            ("201", "Wijziging praktijkgegevens"),
            ("202", "Abonneenummer (OIN) gewijzigd"),
            ("203", "UZI-servercertificaat vernieuwen"),
            ("204", "Vraag stellen"),
        ),
    )
    h = make_harness(fake_jira, tmp_path)
    maps = h.services.mappings
    assert maps.request_type_rule("101", "Iets anders").generic  # type: ignore[union-attr]
    notes = resolve_request_types(h.services, h.settings)
    assert (
        "request type 'Abonneenummer (OIN) gewijzigd' resolved by name to id 202 (was 102)" in notes
    )
    assert len(notes) == 4
    assert maps.request_type_rule("101", "Iets anders") is None  # no longer the example's 101
    assert maps.request_type_rule("201", None).generic  # type: ignore[union-attr]
    assert maps.request_type_rule("202", None).kind == "abonneenummer"  # type: ignore[union-attr]
    assert maps.request_type_rule("203", None).workflow == "renewal"  # type: ignore[union-attr]
    assert h.services.processor.mappings is maps  # the worker uses the resolved rules


def test_a_renamed_type_keeps_its_id_and_an_unknown_one_is_reported(
    fake_jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        site_api,
        "REQUEST_TYPES",
        (("101", "Praktijkgegevens wijzigen"), ("102", "Abonneenummer (OIN) gewijzigd")),
    )
    h = make_harness(fake_jira, tmp_path)
    notes = resolve_request_types(h.services, h.settings)
    assert notes[0] == (
        "request type 101 is 'Praktijkgegevens wijzigen' on the site but "
        "'Wijziging praktijkgegevens' in request_types.toml; matched by id"
    )
    assert "request type '103' is not on the site (by id or name)" in notes
    assert h.services.mappings.request_type_rule("101", None) is not None


def test_without_the_site_the_request_types_stay_as_mapped(
    fake_jira: FakeJira, tmp_path: Path
) -> None:
    h = make_harness(fake_jira, tmp_path, env={"JIRA_MAX_ATTEMPTS": "1"})
    fake_jira.outage = True
    before = h.services.mappings.request_types
    assert resolve_request_types(h.services, h.settings) == []
    assert h.services.mappings.request_types == before
