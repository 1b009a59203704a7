"""The handoff rows of the store: the shared queries, limits and checks, and rows as values."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, select

from bot.handoff.errors import InvalidInput
from bot.handoff.models import PRIORITIES, Handoff
from bot.handoff.schema import agents, handoffs

MAX_SENDER_ID = 255
MAX_CHANNEL = 32
MAX_TOPIC = 64
MAX_SUMMARY = 4000
MAX_NOTE = 2000
MAX_ACTION = 64
MAX_AUDIT_LIMIT = 1000

_assignee = agents.alias("assignee")
HANDOFF_QUERY = select(handoffs, _assignee.c.display_name.label("assigned_agent_name")).select_from(
    handoffs.outerjoin(_assignee, handoffs.c.assigned_agent_id == _assignee.c.id)
)
QUEUE_ORDER = (
    case({"urgent": 0, "high": 1}, value=handoffs.c.priority, else_=2),
    handoffs.c.created_at,
    handoffs.c.id,
)
PENDING = handoffs.c.status == "pending"


def handoff_of(row: Any) -> Handoff:
    """A row of ``HANDOFF_QUERY`` as a value."""
    return Handoff(
        id=row.id,
        reference=row.reference,
        sender_id=row.sender_id,
        channel=row.channel,
        status=row.status,
        priority=row.priority,
        topic=row.topic,
        summary=row.summary,
        created_at=row.created_at,
        assigned_agent_id=row.assigned_agent_id,
        assigned_agent_name=row.assigned_agent_name,
        assigned_at=row.assigned_at,
        closed_at=row.closed_at,
        note=row.note,
        satisfaction=row.satisfaction,
    )


def check_text(value: str, name: str, low: int, high: int) -> str:
    """The value if it is text of ``low``-``high`` characters without NUL; InvalidInput otherwise."""
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise InvalidInput(f"{name} must be text of {low}-{high} characters")
    if "\x00" in value:  # PostgreSQL cannot store it; refused on SQLite too, for one behaviour
        raise InvalidInput(f"{name} must not contain NUL characters")
    return value


def check_request(sender_id: str, channel: str, priority: str, topic: str, summary: str) -> None:
    """InvalidInput unless the parts of a request for a person are acceptable."""
    check_text(sender_id, "sender_id", 1, MAX_SENDER_ID)
    check_text(channel, "channel", 1, MAX_CHANNEL)
    check_text(topic, "topic", 0, MAX_TOPIC)
    check_text(summary, "summary", 0, MAX_SUMMARY)
    if priority not in PRIORITIES:
        raise InvalidInput("priority must be 'normal', 'high' or 'urgent'")
