"""The declared list of webhook events: which the bot handles and which it ignores on purpose."""

from __future__ import annotations

HANDLED_EVENTS: frozenset[str] = frozenset(
    {
        "jira:issue_created",
        "jira:issue_updated",
        "comment_created",
    }
)

IGNORED_EVENTS: frozenset[str] = frozenset(
    {
        "jira:issue_deleted",
        "comment_updated",
        "comment_deleted",
        "issuelink_created",
        "issuelink_deleted",
        "worklog_created",
        "worklog_updated",
        "worklog_deleted",
        "attachment_created",
        "attachment_deleted",
        "issue_property_set",
        "issue_property_deleted",
        "sprint_created",
        "sprint_started",
        "sprint_closed",
        "board_created",
        "project_created",
        "project_updated",
        "user_created",
        "user_updated",
        "jira:version_released",
    }
)


def is_handled(event_name: str) -> bool:
    """True for events some handler listens to; everything else is stored and ignored."""
    return event_name in HANDLED_EVENTS
