"""The mappings load, hold what the site needs, match vendors, and fail with clear messages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import mappings as mappings_package
from bot.mappings import KINDS, Mappings, MappingsError, load_mappings

SOURCE = Path(mappings_package.__file__).resolve().parent


@pytest.fixture(scope="module")
def maps() -> Mappings:
    return load_mappings()


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped mappings, to break one thing at a time."""
    target = tmp_path / "mappings"
    shutil.copytree(SOURCE, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


def test_default_root_is_the_package(maps: Mappings) -> None:
    assert load_mappings(SOURCE).field_names() == maps.field_names()


def test_field_names(maps: Mappings) -> None:
    assert maps.field_names() == (
        "Praktijknaam",
        "Abonneenummer",
        "HIS/AIS-leverancier",
        "Soort wijziging",
        "Oude waarde",
        "Nieuwe waarde",
    )
    assert maps.field_ids == {}


def test_request_types(maps: Mappings) -> None:
    assert maps.request_types.service_desk_id == "9"
    assert maps.request_types.request_issue_type == "Service Request"
    by_id = {tid: maps.request_type_rule(tid, None) for tid in ("101", "102", "103", "104", "105")}
    assert by_id["101"] is not None and by_id["101"].generic
    assert by_id["101"].workflow == "practice_change" and by_id["101"].kind is None
    assert by_id["102"] is not None and by_id["102"].kind == "abonneenummer"
    assert by_id["103"] is not None and by_id["103"].workflow == "renewal"
    assert by_id["104"] is not None and by_id["104"].fallback_workflow == "question"
    assert by_id["105"] is None
    by_name = maps.request_type_rule("999", "  abonneenummer (oin) GEWIJZIGD ")
    assert by_name is by_id["102"]


@pytest.mark.parametrize(
    ("option", "kind"),
    [
        ("Abonneenummer (OIN)", "abonneenummer"),
        ("abonneenummer", "abonneenummer"),
        ("OIN", "abonneenummer"),
        ("Praktijknaam", "practice_name"),
        ("Contracthouder", "contract_holder"),
        ("UZI-pashouder", "card_holder"),
        ("uzi pashouder", "card_holder"),
        ("Anders", None),
        (None, None),
    ],
)
def test_change_kind_options(maps: Mappings, option: str | None, kind: str | None) -> None:
    assert maps.kind_for_option(option) == kind


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("Promedico ASP", "Promedico ASP"),
        ("promedico-asp", "Promedico ASP"),
        ("PROMEDICO_ASP", "Promedico ASP"),
        ("promedicoasp", "Promedico ASP"),
        ("Promedico", "Promedico ASP"),
        ("CGM huisarts", "CGM Huisarts"),
        ("CGM-Apotheek", "CGM Apotheek"),
        ("Micro.HIS", "MicroHIS"),
        ("omni his", "OmniHis"),
        ("Sanday", "Sanday"),
        ("Health Connected", "HealthConnected"),
        ("bricks", "Bricks"),
        ("CGM", None),
        ("Anders", None),
        ("", None),
        (None, None),
    ],
)
def test_match_vendor(maps: Mappings, value: str | None, name: str | None) -> None:
    found = maps.match_vendor(value)
    assert (found.name if found else None) == name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Wij werken met Promedico-ASP sinds 2019.", "Promedico ASP"),
        ("Ons HIS is cgm huisarts.", "CGM Huisarts"),
        ("Leverancier: Micro-HIS", "MicroHIS"),
        ("We gebruiken HealthConnected.", "HealthConnected"),
        ("Onze praktijk zit op Bricks", "Bricks"),
        ("De bricksteen van het pand", None),
        ("Ons systeem: OmniHisX", None),
        ("Sandaystraat 4", None),
        ("Over van MicroHIS naar Bricks", None),
        ("Geen leverancier genoemd", None),
    ],
)
def test_find_vendor_in_text(maps: Mappings, text: str, name: str | None) -> None:
    found = maps.find_vendor_in_text(text)
    assert (found.name if found else None) == name


def test_several_vendors_in_text_are_all_listed(maps: Mappings) -> None:
    names = [v.name for v in maps.vendors_in_text("Over van MicroHIS naar Bricks")]
    assert names == ["MicroHIS", "Bricks"]


def test_vendor_delivery_and_fallback(maps: Mappings) -> None:
    table = {v.name: (v.delivery, v.fallback_login) for v in maps.vendors}
    assert table == {
        "Promedico ASP": ("self_upload", True),
        "CGM Huisarts": ("vendor", True),
        "CGM Apotheek": ("vendor", True),
        "MicroHIS": ("vendor", True),
        "OmniHis": ("vendor", True),
        "Sanday": ("vendor", True),
        "HealthConnected": ("vendor", True),
        "Bricks": ("unknown", False),
    }


def test_workflows_and_subtasks(maps: Mappings) -> None:
    assert set(maps.workflows) == {"practice_change", "renewal", "question", "triage"}
    slugs = [s.slug for s in maps.subtasks_for("practice_change", "abonneenummer")]
    assert slugs == ["digid_off", "new_certificate", "dictu_approval", "digid_on"]
    for kind in KINDS:
        if kind != "abonneenummer":
            got = [s.slug for s in maps.subtasks_for("practice_change", kind)]
            assert got == ["digid_off", "dictu_approval", "digid_on"]
    renewal = [s.slug for s in maps.subtasks_for("renewal")]
    assert renewal == ["receive_certificate", "dictu_check", "complete_renewal"]
    flow = maps.workflow("practice_change")
    assert flow.labels == ("uzibot", "uzibot-practice-change")
    assert (flow.tracking_issue_type, flow.subtask_issue_type) == ("Task", "Sub-task")
    assert maps.workflow("renewal").labels == ("uzibot", "uzibot-renewal")
    assert not maps.workflow("question").case


def test_template_lists(maps: Mappings) -> None:
    assert "practice_change_public.j2" in maps.template_names()
    assert "practice_change_case.j2" in maps.plain_template_names()
    assert "practice_change_public.j2" not in maps.plain_template_names()
    assert "practice_change.summary" in maps.line_template_names()
    assert "renewal.complete_renewal.title" in maps.line_template_names()


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _error(root: Path) -> str:
    with pytest.raises(MappingsError) as caught:
        load_mappings(root)
    return caught.value.short


def test_broken_toml_names_the_file(copy: Path) -> None:
    _edit(copy / "vendors.toml", 'name = "Sanday"', 'name = "Sanday')
    message = _error(copy)
    assert message.startswith("vendors.toml: not valid TOML")
    assert "line" in message


def test_unknown_workflow_in_a_request_type(copy: Path) -> None:
    _edit(copy / "request_types.toml", 'workflow = "renewal"', 'workflow = "renwal"')
    assert _error(copy) == (
        "request_types.toml: request_type[2].workflow: unknown workflow 'renwal' "
        "(known: practice_change, renewal, question)"
    )


def test_unknown_workflow_section(copy: Path) -> None:
    with (copy / "workflows.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n[onboarding]\ncase = false\n")
    assert _error(copy).startswith("workflows.toml: onboarding: unknown workflow")


def test_missing_workflow(copy: Path) -> None:
    block = (
        '[question]\ncase = false\n\n[question.templates]\nanswer = "question_answer.j2"\n'
        'note = "question_note.j2"\nunsure = "question_unsure.j2"\n'
    )
    _edit(copy / "workflows.toml", block, "")
    assert _error(copy) == "workflows.toml: question: workflow is missing"


def test_bad_vendor_delivery(copy: Path) -> None:
    _edit(copy / "vendors.toml", 'delivery = "self_upload"', 'delivery = "upload"')
    message = _error(copy)
    assert message.startswith("vendors.toml: vendor[0].delivery: ")
    assert "'self_upload', 'vendor' or 'unknown'" in message


def test_unknown_key_is_refused(copy: Path) -> None:
    _edit(copy / "vendors.toml", "fallback_login = false", "fallback_logon = false")
    assert _error(copy).startswith("vendors.toml: vendor[7].fallback_logon: ")


def test_missing_template(copy: Path) -> None:
    _edit(copy / "workflows.toml", 'description = "subtask_digid_off.j2"', 'description = "x.j2"')
    assert _error(copy) == (
        "workflows.toml: practice_change.subtasks[0].description: "
        "template 'x.j2' not found in templates/"
    )


def test_template_syntax_error(copy: Path) -> None:
    (copy / "templates" / "vendor_question.j2").write_text("{% if x %}open", encoding="utf-8")
    message = _error(copy)
    assert message.startswith("templates/vendor_question.j2: line")


def test_line_template_syntax_error(copy: Path) -> None:
    _edit(copy / "workflows.toml", 'title = "Goedkeuring DICTU"', 'title = "{{ oops"')
    assert _error(copy).startswith("workflows.toml: practice_change.dictu_approval.title: line")


def test_a_file_missing_from_mappings_dir_comes_from_the_bundled_set(copy: Path) -> None:
    (copy / "kinds.toml").unlink()
    assert load_mappings(copy).kinds == load_mappings().kinds


def test_kind_must_be_known(copy: Path) -> None:
    _edit(copy / "kinds.toml", "[kind.card_holder]", "[kind.card_owner]")
    assert _error(copy).startswith("kinds.toml: kind.card_owner")


def test_request_type_kind_needs_practice_change(copy: Path) -> None:
    _edit(
        copy / "request_types.toml",
        'workflow = "renewal"',
        'workflow = "renewal"\nkind = "abonneenummer"',
    )
    assert "request_type[2]: Value error, a kind only goes with" in _error(copy)


def test_empty_phrase_is_refused(copy: Path) -> None:
    _edit(copy / "keywords.toml", '"vraag",', '"?!",')
    assert _error(copy).startswith("keywords.toml: question.phrases: Value error, phrase '?!'")


def test_duplicate_slug_is_refused(copy: Path) -> None:
    _edit(copy / "workflows.toml", 'slug = "digid_on"', 'slug = "digid_off"')
    assert "sub-task slugs must be unique" in _error(copy)
