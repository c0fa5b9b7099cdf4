"""The shape of each mappings/*.toml file, as pydantic models (validated by bot.mappings)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    field_validator,
    model_validator,
)

from bot.textmatch import compile_phrase

Kind = Literal["abonneenummer", "practice_name", "contract_holder", "card_holder"]
Delivery = Literal["self_upload", "vendor", "unknown"]

_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
_LABEL = re.compile(r"^\S+$")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_phrases(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        compile_phrase(value)  # raises ValueError with the phrase in the message
    return values


Phrases = Annotated[tuple[str, ...], AfterValidator(_check_phrases)]


class FieldNames(_Model):
    """Display names of the request form's custom fields."""

    practice_name: str = "Praktijknaam"
    abonneenummer: str = "Abonneenummer"
    vendor: str = "HIS/AIS-leverancier"
    change_kind: str = "Soort wijziging"
    old_value: str = "Oude waarde"
    new_value: str = "Nieuwe waarde"


class FieldsFile(_Model):
    """fields.toml: the names, and optionally fixed ids (display name -> customfield id)."""

    fields: FieldNames = Field(default_factory=FieldNames)
    ids: dict[str, str] = Field(default_factory=dict)


class RequestTypeRule(_Model):
    """One request type and what decides its workflow and kind."""

    id: str | None = None
    name: str | None = None
    workflow: str | None = None
    kind: Kind | None = None
    generic: bool = False
    fallback_workflow: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RequestTypeRule:
        if self.id is None and self.name is None:
            raise ValueError("give an id or a name")
        if not self.generic and self.workflow is None:
            raise ValueError("a request type that is not generic needs a workflow")
        if self.kind is not None and self.workflow != "practice_change":
            raise ValueError("a kind only goes with workflow 'practice_change'")
        if self.fallback_workflow is not None and not self.generic:
            raise ValueError("fallback_workflow only goes with generic = true")
        return self


class RequestTypesFile(_Model):
    """request_types.toml."""

    service_desk_id: str
    portal_id: str
    request_issue_type: str = "Service Request"
    request_type: tuple[RequestTypeRule, ...] = ()


class KindDef(_Model):
    """One kind of practice data change and its words."""

    label_nl: str
    label_en: str
    phrase_nl: str
    options: tuple[str, ...] = ()
    subjects: Phrases = ()
    phrases: Phrases = ()


class KindsFile(_Model):
    """kinds.toml."""

    kind: dict[Kind, KindDef]


class ChangeWords(_Model):
    """Words that turn a subject into a change."""

    before: Phrases
    after: Phrases
    gap: int = Field(default=2, ge=0, le=5)
    negators: Phrases = ()
    unchanged: Phrases = ()


class PhraseList(_Model):
    """A list of phrases."""

    phrases: Phrases = ()


class QuestionTopic(_Model):
    """One common question of the practices: every group of words must occur in the text."""

    label: str = Field(min_length=1)
    all_of: tuple[Phrases, ...] = Field(min_length=1)


class QuestionWords(_Model):
    """Words of a question, of a question request type's name, and the common questions."""

    phrases: Phrases = ()
    request_type_names: Phrases = ()
    topics: dict[str, QuestionTopic] = Field(default_factory=dict)


class KeywordsFile(_Model):
    """keywords.toml."""

    change: ChangeWords
    renewal: PhraseList
    question: QuestionWords = Field(default_factory=QuestionWords)


class Vendor(_Model):
    """A HIS/AIS vendor and how a new certificate reaches the desk."""

    name: str = Field(min_length=1)
    aliases: Phrases = ()
    delivery: Delivery
    fallback_login: bool = True


class VendorsFile(_Model):
    """vendors.toml."""

    vendor: tuple[Vendor, ...] = Field(min_length=1)


class SubTaskDef(_Model):
    """One sub-task of a workflow."""

    slug: str
    title: str = Field(min_length=1)
    description: str
    kinds: tuple[Kind, ...] = ()

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("a slug is lower case letters, digits and underscores")
        return value


class Lifecycle(_Model):
    """What the case does as its sub-tasks move (handlers/lifecycle.py)."""

    done_statuses: tuple[str, ...] = ("Done",)
    done_category: bool = False
    templates: dict[str, str] = Field(default_factory=dict)
    confirmation: str | None = None
    resolve_transition: str = Field(default="Resolve this issue", min_length=1)
    tracking_done_transition: str = Field(default="Done", min_length=1)


class Workflow(_Model):
    """One workflow: its tracking issue, sub-tasks and templates."""

    case: bool = True
    summary: str = ""
    description: str | None = None
    labels: tuple[str, ...] = ()
    tracking_issue_type: str = "Task"
    subtask_issue_type: str = "Sub-task"
    templates: dict[str, str] = Field(default_factory=dict)
    subtasks: tuple[SubTaskDef, ...] = ()
    lifecycle: Lifecycle | None = None

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for label in value:
            if not _LABEL.match(label):
                raise ValueError(f"label {label!r} contains a space")
        return value

    @model_validator(mode="after")
    def _case_parts(self) -> Workflow:
        if self.case and not self.summary:
            raise ValueError("a workflow with a case needs a summary")
        slugs = [s.slug for s in self.subtasks]
        if len(set(slugs)) != len(slugs):
            raise ValueError("sub-task slugs must be unique")
        if self.lifecycle is not None:
            named = [*self.lifecycle.templates, self.lifecycle.confirmation]
            unknown = [slug for slug in named if slug is not None and slug not in slugs]
            if unknown:
                raise ValueError(f"lifecycle names {unknown[0]!r}, which is not a sub-task slug")
        return self


class WorkflowsFile(RootModel[dict[str, Workflow]]):
    """workflows.toml: workflow name -> definition."""


@dataclass(frozen=True)
class MappingFiles:
    """All TOML files, validated one by one."""

    fields: FieldsFile
    request_types: RequestTypesFile
    kinds: KindsFile
    keywords: KeywordsFile
    vendors: VendorsFile
    workflows: dict[str, Workflow]
