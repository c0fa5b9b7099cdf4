"""Seed data of the sandbox Jira site: projects, issue types, workflows, fields, priorities."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.example_site import example_field_id

CATEGORIES: dict[str, tuple[int, str, str]] = {
    # key: (id, name, colorName), as GET /rest/api/3/statuscategory answers
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}


@dataclass(frozen=True)
class StatusSeed:
    """A workflow status."""

    id: str
    name: str
    category: str


@dataclass(frozen=True)
class TransitionSeed:
    """A workflow transition available from some statuses."""

    id: str
    name: str
    to: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class WorkflowSeed:
    """A workflow: its initial status and its transitions."""

    name: str
    initial: str
    transitions: tuple[TransitionSeed, ...]

    def available(self, status: str) -> list[TransitionSeed]:
        """Transitions that can be taken from a status."""
        return [t for t in self.transitions if status in t.sources]


@dataclass(frozen=True)
class IssueTypeSeed:
    """An issue type; `workflow` names the workflow its issues follow."""

    id: str
    name: str
    subtask: bool
    workflow: str
    description: str = ""

    @property
    def hierarchy_level(self) -> int:
        """-1 for sub-tasks, 0 for standard types."""
        return -1 if self.subtask else 0


@dataclass(frozen=True)
class ProjectSeed:
    """A project; service desk projects also have a service desk id."""

    id: str
    key: str
    name: str
    issue_types: tuple[str, ...]
    service_desk_id: str | None = None


@dataclass(frozen=True)
class FieldSeed:
    """A field as GET /rest/api/3/field lists it; `options` for select lists."""

    id: str
    name: str
    schema: dict[str, Any] | None
    custom: bool = False
    clause_names: tuple[str, ...] = ()
    orderable: bool = True
    searchable: bool = True
    options: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def as_json(self) -> dict[str, Any]:
        """The field in GET /rest/api/3/field shape."""
        out: dict[str, Any] = {
            "id": self.id,
            "key": self.id,
            "name": self.name,
            "custom": self.custom,
            "orderable": self.orderable,
            "navigable": True,
            "searchable": self.searchable,
            "clauseNames": list(self.clause_names or (self.id,)),
        }
        if self.schema is not None:
            out["schema"] = dict(self.schema)
        return out


STATUSES = {
    s.name: s
    for s in (
        StatusSeed("10000", "To Do", "new"),
        StatusSeed("3", "In Progress", "indeterminate"),
        StatusSeed("10001", "Done", "done"),
        StatusSeed("10010", "Waiting for support", "new"),
        StatusSeed("10011", "Resolved", "done"),
        StatusSeed("10012", "Closed", "done"),
        StatusSeed("10013", "Declined", "done"),
    )
}

WORKFLOWS = {
    "request": WorkflowSeed(
        "Service Request workflow",
        "Waiting for support",
        (
            TransitionSeed("11", "In progress", "In Progress", ("Waiting for support",)),
            TransitionSeed(
                "761", "Resolve this issue", "Resolved", ("Waiting for support", "In Progress")
            ),
        ),
    ),
    "task": WorkflowSeed(
        "Task workflow",
        "To Do",
        (
            TransitionSeed("21", "Start", "In Progress", ("To Do",)),
            TransitionSeed("31", "Done", "Done", ("To Do", "In Progress")),
            TransitionSeed("41", "Reopen", "To Do", ("Done",)),
        ),
    ),
}

ISSUE_TYPES = (
    IssueTypeSeed("10001", "Task", False, "task", "A small, distinct piece of work."),
    IssueTypeSeed("10002", "Sub-task", True, "task", "A small piece of a larger task."),
    IssueTypeSeed("10003", "Service Request", False, "request", "A request from a customer."),
)

PRIORITIES = (("1", "Highest"), ("2", "High"), ("3", "Medium"), ("4", "Low"), ("5", "Lowest"))
DEFAULT_PRIORITY = "Medium"

LINK_TYPES = (
    ("10000", "Blocks", "is blocked by", "blocks"),
    ("10001", "Cloners", "is cloned by", "clones"),
    ("10002", "Duplicate", "is duplicated by", "duplicates"),
    ("10003", "Relates", "relates to", "relates to"),
)

REQUEST_TYPES = (
    ("101", "Wijziging praktijkgegevens"),
    ("102", "Abonneenummer (OIN) gewijzigd"),
    ("103", "UZI-servercertificaat vernieuwen"),
    ("104", "Vraag stellen"),
    ("105", "Overig"),
    ("106", "Vragen over DigiD"),
)

VENDORS = (
    "Promedico ASP",
    "CGM Huisarts",
    "CGM Apotheek",
    "MicroHIS",
    "OmniHis",
    "Sanday",
    "HealthConnected",
    "Bricks",
    "Anders",
)
CHANGE_KINDS = ("Abonneenummer", "Praktijknaam", "Contracthouder", "UZI-pashouder")

_TEXT = "com.atlassian.jira.plugin.system.customfieldtypes:textfield"
_SELECT = "com.atlassian.jira.plugin.system.customfieldtypes:select"
VP_ORIGIN = "com.atlassian.servicedesk:vp-origin"


def _system(fid: str, name: str, type_: str, clauses: tuple[str, ...] = (), **kw: Any) -> FieldSeed:
    schema: dict[str, Any] = {"type": type_, "system": fid}
    if "items" in kw:
        schema = {"type": type_, "items": kw.pop("items"), "system": fid}
    return FieldSeed(fid, name, schema, clause_names=clauses or (fid,), **kw)


def _custom(num: int, name: str, type_: str, custom: str, kind: str, **kw: Any) -> FieldSeed:
    schema = {"type": type_, "custom": custom, "customId": num}
    clauses = (f"cf[{num}]", name, f"{name}[{kind}]")
    return FieldSeed(f"customfield_{num}", name, schema, custom=True, clause_names=clauses, **kw)


def _options(first_id: int, values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((str(first_id + i), v) for i, v in enumerate(values))


def default_fields() -> tuple[FieldSeed, ...]:
    """System fields the bot touches plus the site's custom request fields."""
    return (
        FieldSeed(
            "issuekey",
            "Key",
            None,
            clause_names=("id", "issue", "issuekey", "key"),
            orderable=False,
        ),
        _system("summary", "Summary", "string"),
        _system("description", "Description", "string"),
        _system("labels", "Labels", "array", items="string"),
        _system("duedate", "Due date", "date", ("due", "duedate")),
        _system("priority", "Priority", "priority"),
        _system("issuetype", "Issue Type", "issuetype", ("issuetype", "type"), orderable=False),
        FieldSeed("parent", "Parent", None, clause_names=("parent",), searchable=False),
        _system("project", "Project", "project", orderable=False),
        _system("status", "Status", "status", orderable=False),
        _system("attachment", "Attachment", "array", ("attachments",), items="attachment"),
        _system("issuelinks", "Linked Issues", "array", ("issueLink",), items="issuelinks"),
        _system(
            "subtasks", "Sub-tasks", "array", ("subtasks",), items="issuelinks", orderable=False
        ),
        _system("comment", "Comment", "comments-page"),
        _system("created", "Created", "datetime", ("created", "createdDate"), orderable=False),
        _system("updated", "Updated", "datetime", ("updated", "updatedDate"), orderable=False),
        _system("reporter", "Reporter", "user"),
        _system("assignee", "Assignee", "user"),
        _system("resolution", "Resolution", "resolution"),
        _system(
            "resolutiondate",
            "Resolved",
            "datetime",
            ("resolutiondate", "resolved"),
            orderable=False,
        ),
        _custom(
            example_field_id("Request Type"),
            "Request Type",
            "sd-customerrequesttype",
            VP_ORIGIN,
            "Request Type",
        ),
        _custom(example_field_id("Praktijknaam"), "Praktijknaam", "string", _TEXT, "Short text"),
        _custom(example_field_id("Abonneenummer"), "Abonneenummer", "string", _TEXT, "Short text"),
        _custom(
            example_field_id("HIS/AIS-leverancier"),
            "HIS/AIS-leverancier",
            "option",
            _SELECT,
            "Dropdown",
            options=_options(10100, VENDORS),
        ),
        _custom(
            example_field_id("Soort wijziging"),
            "Soort wijziging",
            "option",
            _SELECT,
            "Dropdown",
            options=_options(10200, CHANGE_KINDS),
        ),
        _custom(example_field_id("Oude waarde"), "Oude waarde", "string", _TEXT, "Short text"),
        _custom(example_field_id("Nieuwe waarde"), "Nieuwe waarde", "string", _TEXT, "Short text"),
    )


def default_projects(service_desk: str, others: tuple[str, ...]) -> tuple[ProjectSeed, ...]:
    """The service desk project (id 10000, service desk 1) and plain projects after it."""
    desk = ProjectSeed(
        "10000",
        service_desk,
        "Uw Zorg Online Servicedesk",
        ("Service Request", "Task", "Sub-task"),
        service_desk_id="1",
    )
    plain = tuple(
        ProjectSeed(str(10001 + i), key, f"{key} tracking", ("Task", "Sub-task"))
        for i, key in enumerate(k for k in others if k != service_desk)
    )
    return (desk, *plain)
