"""Loads and validates mappings/*.toml and the message templates into a typed Mappings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from bot import mappings_schema as m
from bot.mappings_schema import Kind, KindDef, SubTaskDef, Vendor, Workflow
from bot.mappings_source import MappingSources, bundled_dir, key_path, line_of
from bot.markup import PlainLine
from bot.templating import build_environment, compile_all, render_line, render_text
from bot.textmatch import Phrase, PhraseIndex, bound_text, compile_phrase, squash, tokens

__all__ = ["KINDS", "Kind", "Mappings", "MappingsError", "Vendor", "load_mappings"]

KINDS: tuple[Kind, ...] = get_args(Kind)
CLASSIFIED_WORKFLOWS = ("practice_change", "renewal", "question")
KNOWN_WORKFLOWS = (*CLASSIFIED_WORKFLOWS, "triage")
FILES = ("fields", "request_types", "kinds", "keywords", "vendors", "workflows")

_M = TypeVar("_M", bound=BaseModel)


class MappingsError(ValueError):
    """The mappings are unusable; the message names the file, the line, the key and the fix."""

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        path: Path | None = None,
        line: int | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.path = path
        self.line = line
        self.fix = fix
        where = str(path or file or "mappings") + (f", line {line}" if line else "")
        super().__init__(f"{where}: {problem}" + (f"\n  fix: {fix}" if fix else ""))

    @property
    def short(self) -> str:
        """`<file>: <problem>` without path, line or fix."""
        return f"{self.file}: {self.problem}" if self.file else self.problem


class Mappings:
    """Validated mappings with compiled phrases and templates; built once by load_mappings."""

    def __init__(
        self,
        files: m.MappingFiles,
        templates: dict[str, str],
        line_templates: dict[str, str],
    ) -> None:
        self.fields = files.fields.fields
        self.field_ids: dict[str, str] = dict(files.fields.ids)
        self.request_types = files.request_types
        self.site_resolved = False
        """True once `resolve_request_types` matched the rules to the site's request types."""
        self.kinds: dict[Kind, KindDef] = dict(files.kinds.kind)
        self.keywords = files.keywords
        self.vendors: tuple[Vendor, ...] = files.vendors.vendor
        self.workflows: dict[str, Workflow] = dict(files.workflows)
        self._file_templates = tuple(sorted(templates))
        self._plain_templates = tuple(sorted(_plain_template_refs(files)))
        self._line_templates = tuple(sorted(line_templates))
        self._env = build_environment({**templates, **line_templates})
        self.kind_subjects = {k: _phrases(d.subjects) for k, d in self.kinds.items()}
        self.kind_phrases = {k: _phrases(d.phrases) for k, d in self.kinds.items()}
        self.change_before = _phrases(self.keywords.change.before)
        self.change_after = _phrases(self.keywords.change.after)
        self.negators = _phrases(self.keywords.change.negators)
        self.unchanged = _phrases(self.keywords.change.unchanged)
        self.renewal_phrases = _phrases(self.keywords.renewal.phrases)
        self.question_phrases = _phrases(self.keywords.question.phrases)
        self.question_type_phrases = _phrases(self.keywords.question.request_type_names)
        self.question_topics = {
            slug: tuple(_phrases(group) for group in topic.all_of)
            for slug, topic in self.keywords.question.topics.items()
        }
        self._vendor_keys = {squash(n): v for v in self.vendors for n in (v.name, *v.aliases)}
        self._vendor_phrases = [
            (compile_phrase(n), v) for v in self.vendors for n in (v.name, *v.aliases)
        ]
        self._vendor_index = PhraseIndex(phrase for phrase, _ in self._vendor_phrases)
        self.sentence_index = PhraseIndex(
            phrase
            for group in (
                *self.kind_subjects.values(),
                *self.kind_phrases.values(),
                self.change_before,
                self.change_after,
                self.negators,
                self.unchanged,
            )
            for phrase in group
        )
        """Every phrase read per sentence (kinds, change words), for one pass per sentence."""
        topic_phrases = (
            phrase for groups in self.question_topics.values() for g in groups for phrase in g
        )
        self.text_index = PhraseIndex(
            (*self.renewal_phrases, *self.question_phrases, *topic_phrases)
        )
        """Renewal and question words, read over the whole text."""

    def field_names(self) -> tuple[str, ...]:
        """The display names of the request fields, for the worker to resolve to ids."""
        f = self.fields
        return (
            f.practice_name,
            f.abonneenummer,
            f.vendor,
            f.change_kind,
            f.old_value,
            f.new_value,
        )

    def request_type_rule(
        self, type_id: str | None, type_name: str | None
    ) -> m.RequestTypeRule | None:
        """The rule for a request type, found by id, else by name (case-insensitive)."""
        for rule in self.request_types.request_type:
            if type_id is not None and rule.id == type_id:
                return rule
        folded = type_name.strip().casefold() if type_name else None
        for rule in self.request_types.request_type:
            if folded and rule.name and rule.name.strip().casefold() == folded:
                return rule
        return None

    def renewal_request_type(self) -> str:
        """The request type mapped to the renewal workflow, for raising requests with it.

        Once resolved against the site, its id (the site's id for the name, or the id of a
        renamed type); before that its name, since an id written in the mappings may be the
        bundled example's and name another type on this site. The bundled name when none
        is mapped.
        """
        for rule in self.request_types.request_type:
            if rule.workflow == "renewal" and not rule.kind:
                first = (rule.id, rule.name) if self.site_resolved else (rule.name, rule.id)
                return str(first[0] or first[1])
        return "UZI-servercertificaat vernieuwen"

    def resolve_request_types(self, site: dict[str, str]) -> list[str]:
        """Match the mapped request types to the site's (id -> name); return what changed.

        A name the site has gives the rule that type's id (so a site whose names match needs
        no ids, and the bundled example ids cannot point at another type); otherwise an id the
        site has is kept (the type was renamed); a rule with neither is reported.
        """
        by_name = {name.strip().casefold(): rid for rid, name in site.items()}
        notes: list[str] = []
        rules = []
        for rule in self.request_types.request_type:
            folded = rule.name.strip().casefold() if rule.name else None
            found = by_name.get(folded) if folded else None
            if found is not None:
                if found != rule.id:
                    was = f" (was {rule.id})" if rule.id else ""
                    notes.append(f"request type {rule.name!r} resolved by name to id {found}{was}")
                rules.append(rule.model_copy(update={"id": found}))
                continue
            if rule.id is not None and rule.id in site:
                if rule.name:
                    notes.append(
                        f"request type {rule.id} is {site[rule.id]!r} on the site but "
                        f"{rule.name!r} in request_types.toml; matched by id"
                    )
                rules.append(rule)
                continue
            notes.append(
                f"request type {rule.id or rule.name!r} is not on the site (by id or name)"
            )
            rules.append(rule)
        self.request_types = self.request_types.model_copy(update={"request_type": tuple(rules)})
        self.site_resolved = True
        return notes

    def kind_for_option(self, value: str | None) -> Kind | None:
        """The kind a "Soort wijziging" option value stands for (spelling-tolerant)."""
        if not value:
            return None
        key = squash(value)
        for kind, definition in self.kinds.items():
            names = (*definition.options, definition.label_nl, definition.label_en, kind)
            if key in {squash(name) for name in names}:
                return kind
        return None

    def match_vendor(self, text: str | None) -> Vendor | None:
        """The vendor whose name or alias equals the text (a field value), or None."""
        if not text:
            return None
        return self._vendor_keys.get(squash(text))

    def vendors_in_text(self, text: str | None) -> tuple[Vendor, ...]:
        """Every vendor named in free text, as whole words, in the vendors.toml order.

        Reads at most the first MAX_TEXT_CHARS characters (bot.textmatch.bound_text).
        """
        words = tokens(bound_text(text or "")[0])
        hits = self._vendor_index.scan(words)
        found = {v.name for phrase, v in self._vendor_phrases if phrase in hits}
        return tuple(v for v in self.vendors if v.name in found)

    def find_vendor_in_text(self, text: str | None) -> Vendor | None:
        """The one vendor named in free text; None when none or several are named."""
        found = self.vendors_in_text(text)
        return found[0] if len(found) == 1 else None

    def workflow(self, name: str) -> Workflow:
        """A workflow's definition; KeyError for a name that is not defined."""
        return self.workflows[name]

    def subtasks_for(self, workflow: str, kind: str | None = None) -> tuple[SubTaskDef, ...]:
        """The workflow's sub-tasks that apply to this kind, in their configured order."""
        return tuple(s for s in self.workflow(workflow).subtasks if not s.kinds or kind in s.kinds)

    def render(self, template_name: str, **values: Any) -> str:
        """Render a wiki-markup template (comments); every string value must be JiraText."""
        return render_text(self._env, template_name, values)

    def render_plain(self, template_name: str, **values: Any) -> str:
        """Render a plain-text template (descriptions, sent as ADF); values must be PlainLine."""
        return render_text(self._env, template_name, values, PlainLine)

    def render_line(self, template_name: str, **values: Any) -> str:
        """Render a one-line template (see line_template_names); values must be PlainLine."""
        return render_line(self._env, template_name, values)

    def template_names(self) -> tuple[str, ...]:
        """The file templates (templates/*.j2)."""
        return self._file_templates

    def plain_template_names(self) -> tuple[str, ...]:
        """The file templates used as descriptions: plain text, rendered with render_plain."""
        return self._plain_templates

    def line_template_names(self) -> tuple[str, ...]:
        """The one-line templates: '<workflow>.summary', '<workflow>.<slug>.title'."""
        return self._line_templates


def load_mappings(root: Path | None = None) -> Mappings:
    """Read, validate and compile the mappings; raise MappingsError naming file, line and fix.

    `root` (MAPPINGS_DIR) may hold only the files an admin changed: every other file, and
    every template it does not replace, comes from the bundled mappings.
    """
    if root is not None and not root.is_dir():
        raise MappingsError(
            f"MAPPINGS_DIR: {root} is not a directory",
            fix="create it with `uzibot mappings init DIR`, or unset MAPPINGS_DIR",
        )
    sources = MappingSources(root, bundled_dir())
    raw = {name: _read_toml(sources, f"{name}.toml") for name in FILES}
    files = m.MappingFiles(
        fields=_validate(sources, m.FieldsFile, raw["fields"], "fields.toml"),
        request_types=_validate(
            sources, m.RequestTypesFile, raw["request_types"], "request_types.toml"
        ),
        kinds=_validate(sources, m.KindsFile, raw["kinds"], "kinds.toml"),
        keywords=_validate(sources, m.KeywordsFile, raw["keywords"], "keywords.toml"),
        vendors=_validate(sources, m.VendorsFile, raw["vendors"], "vendors.toml"),
        workflows=_validate(sources, m.WorkflowsFile, raw["workflows"], "workflows.toml").root,
    )
    _check_references(sources, files)
    template_files = sources.templates()
    templates = {n: p.read_text(encoding="utf-8") for n, p in template_files.items()}
    line_templates = _line_templates(files)
    _check_templates(sources, files, templates)
    env_sources = {**templates, **line_templates}
    errors = compile_all(build_environment(env_sources), [*env_sources])
    if errors:
        name, message = sorted(errors.items())[0]
        if name in templates:
            raise MappingsError(
                message,
                file=f"templates/{name}",
                path=template_files[name],
                fix="correct the Jinja syntax at that line (see the bundled template)",
            )
        workflow, _, rest = name.partition(".")
        loc: tuple[str | int, ...] = (workflow, "summary") if rest == "summary" else (workflow,)
        raise _located(
            sources,
            "workflows.toml",
            loc,
            f"{name}: {message}",
            "correct the one-line template's Jinja syntax",
        )
    return Mappings(files, templates, line_templates)


def _located(
    sources: MappingSources, file: str, loc: tuple[str | int, ...], problem: str, fix: str
) -> MappingsError:
    """A MappingsError for the key at `loc` of `file`, with the file's path and the key's line."""
    path = sources.file(file)
    try:
        line = line_of(path.read_text(encoding="utf-8"), loc)
    except OSError:
        line = None
    return MappingsError(problem, file=file, path=path, line=line, fix=fix)


def _read_toml(sources: MappingSources, file: str) -> dict[str, Any]:
    path = sources.file(file)
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise MappingsError(
            f"file not found in {path.parent}",
            file=file,
            path=path,
            fix="reinstall uzibot (the bundled mappings are incomplete)",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"at line (\d+)", str(exc))
        line = getattr(exc, "lineno", None) or (int(at.group(1)) if at else None)
        raise MappingsError(
            f"not valid TOML: {exc}",
            file=file,
            path=path,
            line=line,
            fix="correct the TOML syntax at that line (quotes, brackets, `key = value`)",
        ) from None


_FIXES = {
    "missing": "add the key (the bundled file has it, with a comment: `uzibot mappings init DIR`)",
    "extra_forbidden": "remove the key or correct its spelling (the comments at the top of the "
    "bundled file list every key)",
    "literal_error": "use one of the values named above",
}


def _validate(sources: MappingSources, model: type[_M], raw: dict[str, Any], file: str) -> _M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        key = _key_path(loc) or "(top level)"
        fix = _FIXES.get(
            error["type"], "correct the value (the comments at the top of the file explain it)"
        )
        raise _located(sources, file, loc, f"{key}: {error['msg']}", fix) from None


def _key_path(loc: tuple[int | str, ...]) -> str:
    """('vendor', 2, 'delivery') -> 'vendor[2].delivery'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _check_references(sources: MappingSources, files: m.MappingFiles) -> None:
    known = ", ".join(KNOWN_WORKFLOWS)
    for name in files.workflows:
        if name not in KNOWN_WORKFLOWS:
            raise _located(
                sources,
                "workflows.toml",
                (name,),
                f"{name}: unknown workflow (known: {known})",
                "rename the section to a known workflow or remove it",
            )
    for name in KNOWN_WORKFLOWS:
        if name not in files.workflows:
            raise _located(
                sources,
                "workflows.toml",
                (),
                f"{name}: workflow is missing",
                f"add the [{name}] section (copy it from the bundled workflows.toml)",
            )
    for index, rule in enumerate(files.request_types.request_type):
        for key in ("workflow", "fallback_workflow"):
            value = getattr(rule, key)
            if value is not None and value not in CLASSIFIED_WORKFLOWS:
                raise _located(
                    sources,
                    "request_types.toml",
                    ("request_type", index, key),
                    f"request_type[{index}].{key}: unknown workflow "
                    f"{value!r} (known: {', '.join(CLASSIFIED_WORKFLOWS)})",
                    "use one of the known workflows",
                )
    for kind in KINDS:
        if kind not in files.kinds.kind:
            raise _located(
                sources,
                "kinds.toml",
                ("kind",),
                f"kind.{kind}: kind is missing",
                f"add a [kind.{kind}] section (copy it from the bundled kinds.toml)",
            )


def _line_templates(files: m.MappingFiles) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, flow in files.workflows.items():
        if flow.summary:
            out[f"{name}.summary"] = flow.summary
        for sub in flow.subtasks:
            out[f"{name}.{sub.slug}.title"] = sub.title
    return out


def _plain_template_refs(files: m.MappingFiles) -> set[str]:
    refs = {flow.description for flow in files.workflows.values() if flow.description}
    return refs | {s.description for flow in files.workflows.values() for s in flow.subtasks}


def _check_templates(
    sources: MappingSources, files: m.MappingFiles, templates: dict[str, str]
) -> None:
    for name, flow in files.workflows.items():
        refs = [("description", flow.description)]
        refs += _comment_refs(flow)
        refs += [(f"subtasks[{i}].description", s.description) for i, s in enumerate(flow.subtasks)]
        for key, template in refs:
            if template is not None and template not in templates:
                raise _located(
                    sources,
                    "workflows.toml",
                    key_path(f"{name}.{key}"),
                    f"{name}.{key}: template {template!r} not found in templates/",
                    f"add templates/{template} (in MAPPINGS_DIR) or name an existing template",
                )
    plain = _plain_template_refs(files)
    for name, flow in files.workflows.items():
        for key, template in _comment_refs(flow):
            if template in plain:
                raise _located(
                    sources,
                    "workflows.toml",
                    key_path(f"{name}.{key}"),
                    f"{name}.{key}: {template!r} is also a "
                    "description (plain text); a comment template must be its own file",
                    "copy the template to a new file and name that one here",
                )


def _comment_refs(flow: Workflow) -> list[tuple[str, str | None]]:
    """The comment templates a workflow names: its roles and its lifecycle steps."""
    refs: list[tuple[str, str | None]] = [(f"templates.{r}", t) for r, t in flow.templates.items()]
    steps = flow.lifecycle.templates if flow.lifecycle else {}
    return refs + [(f"lifecycle.templates.{slug}", t) for slug, t in steps.items()]


def _phrases(texts: tuple[str, ...]) -> tuple[Phrase, ...]:
    return tuple(compile_phrase(text) for text in texts)
