"""Every template renders for every vendor and kind, only takes escaped values, and is sandboxed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, meta
from jinja2.exceptions import SecurityError, UndefinedError

import mappings as mappings_package
from bot.mappings import KINDS, Mappings, Vendor, load_mappings
from bot.markup import JiraText, PlainLine, escape_jira, plain_line, trusted
from bot.templating import TemplateValueError, build_environment, render_text
from handlers.classify import Classification, RequestFacts
from handlers.practice_change import LINE, PLAIN, WIKI, View, template_values
from handlers.triage import triage_values
from tests.test_markup import live_markup

HELP_PAGE = Path(__file__).resolve().parents[2] / "shared" / "domain"
TEMPLATES = Path(mappings_package.__file__).resolve().parent / "templates"
OWNED_WORKFLOWS = ("practice_change", "triage")
"""The question workflow's templates need answer values: tests/test_question.py renders them."""
HOSTILE = "[klik|http://evil.example]{color:red}*x*{color} [~accountid:1] h1. |a|"


@pytest.fixture(scope="module")
def maps() -> Mappings:
    return load_mappings()


def _vendors(maps: Mappings) -> list[Vendor | None]:
    return [*maps.vendors, None]


def _values(
    maps: Mappings, kind: str, vendor: Vendor | None, view: View, text: str
) -> dict[str, Any]:
    found = Classification(
        workflow="practice_change",
        kind=kind,  # type: ignore[arg-type]
        decided_by="text",
        reasons=(f"the words name one kind: {kind} ({text})",),
    )
    facts = RequestFacts(
        practice_name=text,
        abonneenummer_input="1234567",
        abonneenummer="01234567",
        vendor=vendor,
        vendor_source="text" if vendor else None,
        vendor_field=text,
        vendors_named=(),
        old_value=text,
        new_value="00000009123456780000",
    )
    values = template_values("UZO-7", found, facts, maps, view)
    if view is WIKI:  # the triage note's own values, so one context renders every template
        values.update(triage_values(found, text, maps))
    return values


def _cases(maps: Mappings) -> list[tuple[str, Vendor | None]]:
    return [(kind, vendor) for kind in KINDS for vendor in _vendors(maps)]


def _reachable(maps: Mappings) -> tuple[list[str], list[str]]:
    """File and line templates of the workflows this module owns, with their includes.

    The renewal workflow's own templates need certificate values: its tests render them.
    """
    names: set[str] = set()
    for flow_name in OWNED_WORKFLOWS:
        flow = maps.workflow(flow_name)
        names |= set(flow.templates.values()) | {s.description for s in flow.subtasks}
        names |= {flow.description} if flow.description else set()
    env = Environment(autoescape=True)  # parsing only, to follow {% include %}
    todo = list(names)
    while todo:
        source = (TEMPLATES / todo.pop()).read_text(encoding="utf-8")
        for ref in meta.find_referenced_templates(env.parse(source)):
            if ref and ref not in names:
                names.add(ref)
                todo.append(ref)
    lines = [n for n in maps.line_template_names() if n.split(".")[0] in OWNED_WORKFLOWS]
    return sorted(names), lines


def test_every_template_renders_for_every_vendor_and_kind(maps: Mappings) -> None:
    plain = set(maps.plain_template_names())
    files, lines = _reachable(maps)
    assert {"practice_change_public.j2", "_patients.j2", "triage_note.j2"} <= set(files)
    assert "practice_change.new_certificate.title" in lines
    count = 0
    for kind, vendor in _cases(maps):
        for name in files:
            if name in plain:
                out = maps.render_plain(name, **_values(maps, kind, vendor, PLAIN, HOSTILE))
                assert "http://" not in out
            else:
                out = maps.render(name, **_values(maps, kind, vendor, WIKI, HOSTILE))
                benign = maps.render(name, **_values(maps, kind, vendor, WIKI, "Praktijk"))
                # The hostile value adds no kind of markup the template's own text lacks.
                assert set(live_markup(out)) <= set(live_markup(benign)), (name, kind, vendor)
                for raw in ("[klik", "{color", "[~", "|a|"):
                    assert not re.search(r"(?<!\\)" + re.escape(raw), out), (name, raw)
                assert "http://" not in out
            assert out.strip(), name
            count += 1
        for name in lines:
            line = maps.render_line(name, **_values(maps, kind, vendor, LINE, HOSTILE))
            assert "\n" not in line and line and "http://" not in line
    assert count == len(KINDS) * (len(maps.vendors) + 1) * len(files)


def test_only_escaped_values_reach_a_wiki_template(maps: Mappings) -> None:
    values = _values(maps, "abonneenummer", None, WIKI, "x")
    with pytest.raises(TemplateValueError, match="'practice_name' is a plain string"):
        maps.render("practice_change_public.j2", **{**values, "practice_name": "[x|y]"})
    with pytest.raises(TemplateValueError, match=r"'reasons\[0\]'"):
        maps.render("practice_change_note.j2", **{**values, "reasons": ("raw",)})
    with pytest.raises(TemplateValueError, match=r"'fields\.vendor'"):
        maps.render("practice_change_note.j2", **{**values, "fields": {"vendor": "raw"}})


def test_plain_and_line_templates_refuse_wiki_text(maps: Mappings) -> None:
    plain = _values(maps, "abonneenummer", None, PLAIN, "x")
    with pytest.raises(TemplateValueError):
        maps.render_plain("practice_change_case.j2", **{**plain, "vendor": escape_jira("v")})
    line = _values(maps, "abonneenummer", None, LINE, "x")
    with pytest.raises(TemplateValueError):
        maps.render_line("practice_change.summary", **{**line, "practice_name": trusted("p")})


def test_views_produce_the_right_types(maps: Mappings) -> None:
    for view, kind in ((WIKI, JiraText), (PLAIN, PlainLine), (LINE, PlainLine)):
        values = _values(maps, "practice_name", maps.vendors[0], view, HOSTILE)
        strings = [v for v in values.values() if isinstance(v, str)]
        strings += [s for v in values.values() if isinstance(v, tuple) for s in v]
        assert strings and all(isinstance(s, kind) for s in strings)


def test_missing_value_fails_loudly(maps: Mappings) -> None:
    values = _values(maps, "abonneenummer", maps.vendors[0], WIKI, "x")
    del values["kind_phrase"]
    with pytest.raises(UndefinedError):
        maps.render("practice_change_public.j2", **values)


def test_environment_is_sandboxed() -> None:
    env = build_environment({"evil.j2": "{{ x.__class__.__mro__[1].__subclasses__() }}"})
    with pytest.raises(SecurityError):
        render_text(env, "evil.j2", {"x": trusted("a")})


def test_templates_do_not_unescape_or_mark_safe() -> None:
    folder = (
        Path(load_mappings.__code__.co_filename).resolve().parents[1] / "mappings" / "templates"
    )
    for path in folder.glob("*.j2"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*(safe|unescape|striptags)\b", source), path.name
        assert "autoescape" not in source, path.name


def test_line_values_are_short(maps: Mappings) -> None:
    values = _values(maps, "contract_holder", None, LINE, "N" * 500)
    assert isinstance(values["practice_name"], PlainLine)
    assert len(values["practice_name"]) <= 60
    assert plain_line("a\nb") == "a b"


RUN = 6  # words in a row that may not be taken over from the help page


def _help_runs() -> set[tuple[str, ...]]:
    path = HELP_PAGE / "helppage-uzi-servercertificaat-vernieuwen.txt"
    if not path.exists():
        pytest.skip(
            f"{path} not found (a plain clone): the public texts are not checked for sentences "
            "taken over from the help page (CI checks them)"
        )
    words = _words(path.read_text(encoding="utf-8"))
    return {tuple(words[i : i + RUN]) for i in range(len(words) - RUN + 1)}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-zà-ÿ0-9]+", text.lower())


def test_customer_texts_are_our_own_words(maps: Mappings) -> None:
    """The public texts take the help page's facts, never its sentences."""
    runs = _help_runs()
    for kind, vendor in _cases(maps):
        values = _values(maps, kind, vendor, WIKI, "Praktijk")
        for name in ("practice_change_public.j2", "vendor_question.j2"):
            words = _words(maps.render(name, **values))
            copied = [
                " ".join(words[i : i + RUN])
                for i in range(len(words) - RUN + 1)
                if tuple(words[i : i + RUN]) in runs
            ]
            assert copied == [], (name, copied)
