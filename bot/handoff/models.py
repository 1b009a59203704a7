"""What the handoff store returns: agents, handoffs and audit entries (frozen values)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

ROLES = ("agent", "supervisor")
PRIORITIES = ("urgent", "high", "normal")  # most urgent first
STATUSES = ("pending", "assigned", "returned", "resolved", "cancelled", "message_left")
ACTIVE_STATUSES = ("pending", "assigned")


@dataclass(frozen=True)
class Agent:
    """A human agent of the console; ``last_seen`` is the last request of any of their sessions."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool
    last_seen: datetime | None

    @property
    def is_supervisor(self) -> bool:
        """Whether the agent has the supervisor role."""
        return self.role == "supervisor"


@dataclass(frozen=True)
class Handoff:
    """One request of a user to talk to a human, from the queue to its end.

    ``status`` is one of ``pending``, ``assigned``, ``returned`` (handed back to the
    bot), ``resolved``, ``cancelled`` (the user stopped waiting) and ``message_left``
    (waited too long or no agent on duty: the user left a message). ``reference`` is
    the number shown to people, e.g. ``H20261125-0007`` (China date of the request, id).
    """

    id: int
    reference: str
    sender_id: str
    channel: str
    status: str
    priority: str
    topic: str
    summary: str
    created_at: datetime
    assigned_agent_id: int | None
    assigned_agent_name: str | None
    assigned_at: datetime | None
    closed_at: datetime | None
    note: str | None
    satisfaction: int | None


@dataclass(frozen=True)
class AuditEntry:
    """Who did what to which handoff; ``agent_id`` is None for the system or an operator."""

    id: int
    at: datetime
    agent_id: int | None
    agent_name: str | None
    action: str
    handoff_id: int | None
    detail: str


def make_reference(handoff_id: int, created_at: datetime) -> str:
    """The human-facing number of a handoff: ``H`` + China date + ``-`` + id (at least 4 digits)."""
    return f"H{created_at.astimezone(CHINA_TZ):%Y%m%d}-{handoff_id:04d}"


@dataclass(frozen=True)
class Attachment:
    """An image a user sent: ``id`` is random and unguessable (``bot.handoff.ids``);
    ``content_type`` is what its bytes are (never what the sender declared)."""

    id: str
    content_type: str
    size: int
    sender_id: str
    channel: str
    source: str
    created_at: datetime
