"""The handoff store's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Every table name starts with ``handoff`` so the store can share a database with
Rasa's tracker store.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from bot.handoff.models import PRIORITIES, ROLES, STATUSES


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on both databases.

    PostgreSQL stores ``timestamptz``; SQLite stores naive UTC text, which still sorts
    and compares correctly because the format is fixed. Naive datetimes are refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC (naive on SQLite)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use timezone-aware UTC datetimes")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=f"{column}_valid")


metadata = MetaData()

agents = Table(
    "handoff_agents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(32), nullable=False, unique=True),
    Column("display_name", String(64), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime),
    _one_of("role", ROLES),
)

sessions = Table(
    "handoff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the token, never the token
    Column("agent_id", Integer, ForeignKey("handoff_agents.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

login_failures = Table(
    "handoff_login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(255), nullable=False),
    Column("at", UTCDateTime, nullable=False, index=True),
    Index("ix_handoff_login_failures_key_at", "key", "at"),
)

handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", String(32), unique=True),  # set right after the insert: it contains the id
    Column("sender_id", String(255), nullable=False, index=True),
    Column("channel", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("priority", String(8), nullable=False),
    Column("topic", String(64), nullable=False),
    Column("summary", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("assigned_agent_id", Integer, ForeignKey("handoff_agents.id")),
    Column("assigned_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("note", Text),
    Column("satisfaction", Integer),
    _one_of("status", STATUSES),
    _one_of("priority", PRIORITIES),
    CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_valid"),
    Index("ix_handoffs_status_created", "status", "created_at"),
)

# At most one pending or assigned handoff per sender, even when two requests race.
_active_only = handoffs.c.status.in_(["pending", "assigned"])
Index(
    "ux_handoffs_one_active_per_sender",
    handoffs.c.sender_id,
    unique=True,
    sqlite_where=_active_only,
    postgresql_where=_active_only,
)

audit_log = Table(
    "handoff_audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("agent_id", Integer, ForeignKey("handoff_agents.id")),
    Column("action", String(64), nullable=False),
    Column("handoff_id", Integer, ForeignKey("handoffs.id")),
    Column("detail", Text, nullable=False),
)

# What became of each agent message and system notice pushed to the user's channel
# (``bot.handoff.deliveries``): ``message_id`` is the id in the transcript event's metadata.
deliveries = Table(
    "handoff_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", String(32), nullable=False, unique=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("handoff_id", Integer, ForeignKey("handoffs.id")),
    Column("channel", String(32), nullable=False),
    Column("delivered", Boolean, nullable=False),
    Column("reason", String(32)),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_handoff_deliveries_handoff_delivered", "handoff_id", "delivered"),
)

# Images users sent (``bot.handoff.attachments``), served to agents by the console.
attachments = Table(
    "handoff_attachments",
    metadata,
    Column("id", String(32), primary_key=True),  # random, unguessable
    Column("sender_id", String(255), nullable=False, index=True),
    Column("channel", String(32), nullable=False),
    Column("content_type", String(32), nullable=False),
    Column("size", Integer, nullable=False),
    Column("source", String(255), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# One row (id 1) whose value grows with every change to handoffs, in the same transaction.
version = Table(
    "handoff_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("value", BigInteger, nullable=False),
)

# Messages left (``bot.handoff.left_messages``): one row per handoff that became a message,
# with the ticket the action server opened for it, the user's contact (masked) and the answer.
messages_left = Table(
    "handoff_messages_left",
    metadata,
    Column("handoff_id", Integer, ForeignKey("handoffs.id"), primary_key=True, autoincrement=False),
    Column("ticket_id", String(64)),
    Column("contact", String(255)),  # masked (138****8000, l***@example.cn), never the raw value
    Column("contact_kind", String(16)),  # phone | email | account | none
    Column("due_at", UTCDateTime, nullable=False),
    Column("answered_at", UTCDateTime),
    Column("answered_by", Integer, ForeignKey("handoff_agents.id")),
    Column("answer_kind", String(16)),  # channel | callback
    Column("answer_note", Text),
    Index("ix_handoff_messages_left_open", "answered_at", "due_at"),
)

# Whether each agent takes conversations now (``bot.handoff.assignment``): 在线/忙碌/离开, how
# many at once, and when round robin last gave them one.
presence = Table(
    "handoff_presence",
    metadata,
    Column("agent_id", Integer, ForeignKey("handoff_agents.id", ondelete="CASCADE"), primary_key=True),
    Column("status", String(8), nullable=False),
    Column("capacity", Integer),
    Column("last_assigned_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("status IN ('online', 'busy', 'away')", name="presence_status_valid"),
)

# Each assignment of a handoff to an agent, and when that agent first replied (the
# unanswered-assignment timer).
assignments = Table(
    "handoff_assignments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("handoff_id", Integer, ForeignKey("handoffs.id"), nullable=False, index=True),
    Column("agent_id", Integer, ForeignKey("handoff_agents.id"), nullable=False),
    Column("auto", Boolean, nullable=False),
    Column("assigned_at", UTCDateTime, nullable=False),
    Column("answered_at", UTCDateTime),
    Column("released_at", UTCDateTime),
)

# The queue place and wait each waiting user was last told (live position updates).
waits = Table(
    "handoff_waits",
    metadata,
    Column("handoff_id", Integer, ForeignKey("handoffs.id"), primary_key=True, autoincrement=False),
    Column("position", Integer, nullable=False),
    Column("told_at", UTCDateTime, nullable=False),
)

# Agents' private notes on a conversation (``bot.handoff.annotations``): never shown to the
# user, stored masked. New tables are created by ``Database.create_schema`` on the next start.
notes = Table(
    "handoff_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("handoff_id", Integer, ForeignKey("handoffs.id"), nullable=False, index=True),
    Column("agent_id", Integer, ForeignKey("handoff_agents.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# The tags of a conversation: from the configured list or free (validated), each once.
tags = Table(
    "handoff_tags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("handoff_id", Integer, ForeignKey("handoffs.id"), nullable=False),
    Column("tag", String(32), nullable=False),
    Column("agent_id", Integer, ForeignKey("handoff_agents.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ux_handoff_tags_handoff_tag", "handoff_id", "tag", unique=True),
)

# The verified wallet account of a conversation, as the bot's tracker had it
# (``bot.handoff.account_links``): previous conversations of the same customer on any channel.
account_links = Table(
    "handoff_account_links",
    metadata,
    Column("handoff_id", Integer, ForeignKey("handoffs.id"), primary_key=True, autoincrement=False),
    Column("account_id", String(64), index=True),  # NULL: the tracker was read, nobody verified
    Column("linked_at", UTCDateTime, nullable=False),
)
