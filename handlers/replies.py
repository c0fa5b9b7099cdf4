"""A practice's public reply during a case: a question is answered, anything else is noted.

A reply that asks one or two of the common questions gets the same answer as a new question
(with the case's own status and dates); a question the bot is unsure of gets an internal note
with candidate answers; any other reply gets one internal note asking an agent to look. A
reply that points at an attached file is left to the certificate reader (the renewal
handler reads the request's attachments on every event).
"""

from __future__ import annotations

import re

from bot.context import HandlerContext
from bot.events import Event
from bot.markup import escape_inline, trusted
from bot.plan import ISSUE_KEY, CommentSpec, Plan
from bot.router import Router
from handlers.classify import read_request_facts, read_signals, routed_classification
from handlers.question import MAX_CANDIDATES, MAX_TOPICS, answer_values, pick_case

HANDLED_WORKFLOWS = ("practice_change", "renewal")
ATTACHMENT_MARKUP = re.compile(r"\[\^[^\]\n]{1,255}\]|![^!\n]{1,255}!")
"""How Jira shows a file attached with a comment: [^name] or !name!."""
COMMENT_ID = re.compile(r"^[0-9]{1,20}$")

router = Router()


def plan_reply(event: Event, ctx: HandlerContext) -> Plan | None:
    """An answer or a note for a practice's public comment on a request with a case."""
    comment = event.comment
    found = routed_classification(event, ctx)
    if (
        comment is None
        or found is None
        or found.workflow not in HANDLED_WORKFLOWS
        or not event.issue_key
        or not comment.public
        or comment.author_type != "customer"
        or not COMMENT_ID.match(comment.id)
    ):
        return None
    if ATTACHMENT_MARKUP.search(comment.body):
        return None  # a file: the certificate reader answers it
    key = event.issue_key
    mappings = ctx.mappings
    templates = mappings.workflow("question").templates
    labels = {slug: topic.label for slug, topic in mappings.keywords.question.topics.items()}
    signals = read_signals(comment.body, mappings)
    facts = read_request_facts(event, ctx)
    case = pick_case([c for c in ctx.known_cases if c.request_key == key] or ctx.known_cases)
    values = answer_values(mappings, facts.vendor, facts.practice_name, case, ctx.today)
    note_values = {
        **values,
        "request_key": trusted(key) if ISSUE_KEY.match(key) else escape_inline(key),
        "reasons": (trusted(f"a public reply of the practice (comment {comment.id})"),),
        "vendor_source": trusted(facts.vendor_source) if facts.vendor_source else None,
    }
    slug = f"reply:{comment.id}"
    if signals.question and 1 <= len(signals.topics) <= MAX_TOPICS:
        topics = tuple(trusted(t) for t in signals.topics)
        return Plan(
            handler="replies",
            summary=f"reply {comment.id} on {key}: answered ({', '.join(signals.topics)})",
            comments=(
                CommentSpec(
                    slug=f"{slug}:answer",
                    issue_key=key,
                    body=mappings.render(templates["answer"], **values, topics=topics),
                    public=True,
                ),
                CommentSpec(
                    slug=f"{slug}:note",
                    issue_key=key,
                    body=mappings.render(
                        templates["note"],
                        **note_values,
                        topics=topics,
                        topic_labels=tuple(trusted(labels[t]) for t in signals.topics),
                    ),
                    public=False,
                ),
            ),
        )
    if signals.question and (signals.topics or signals.partial_topics):
        candidates = (
            signals.topics if len(signals.topics) > MAX_TOPICS else signals.partial_topics
        )[:MAX_CANDIDATES]
        body = mappings.render(
            templates["unsure"],
            **note_values,
            recognised=tuple(trusted(t) for t in signals.topics),
            candidates=tuple(
                {
                    "label": trusted(labels[t]),
                    "slug": trusted(t),
                    "draft": trusted(
                        mappings.render(templates["answer"], **values, topics=(trusted(t),))
                    ),
                }
                for t in candidates
            ),
        )
        return Plan(
            handler="replies",
            summary=f"reply {comment.id} on {key}: unsure question, note with candidates",
            comments=(CommentSpec(slug=f"{slug}:unsure", issue_key=key, body=body, public=False),),
        )
    return Plan(
        handler="replies",
        summary=f"reply {comment.id} on {key}: not a question; note asking an agent to look",
        comments=(
            CommentSpec(
                slug=f"{slug}:look",
                issue_key=key,
                body=(
                    f"*uzibot: the practice replied on {key}* (comment {comment.id}). It is no "
                    "question uzibot recognises and no certificate file: please read it and "
                    "act on it (uzibot changed nothing)."
                ),
                public=False,
            ),
        ),
    )


for _workflow in HANDLED_WORKFLOWS:
    router.register("comment_created", _workflow)(plan_reply)
