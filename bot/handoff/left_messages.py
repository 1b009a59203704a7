"""Messages left: handoffs that became a message (no agent on duty, outside agent hours, or
waited too long), the 留言 queue of the console.

Each message has a row beside its handoff: the wallet backend's ticket the action server
opened for it, the user's contact (masked: the store keeps no raw personal data), when its
answer is due (``HANDOFF_MESSAGE_SLA_HOURS`` after it was left) and how it was answered: on
the user's channel (``channel``), or by a call back with a note (``callback``). Answering is
one conditional UPDATE, so two agents cannot both answer one message; the audit log records it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.handoff.db import Database
from bot.handoff.errors import Conflict, InvalidInput, NotFound
from bot.handoff.models import Handoff
from bot.handoff.rows import HANDOFF_QUERY, MAX_NOTE, check_text, handoff_of
from bot.handoff.schema import agents, handoffs, messages_left
from bot.masking import mask_text

CONTACT_KINDS = ("phone", "email", "account", "none")
ANSWER_KINDS = ("channel", "callback")
MAX_TICKET_ID = 64
MAX_CONTACT = 255
_answerer = agents.alias("answerer")
_BASE = HANDOFF_QUERY.subquery("left_handoff")


@dataclass(frozen=True)
class LeftMessage:
    """A message left, with its handoff (``handoff.status`` is ``message_left``)."""

    handoff: Handoff
    ticket_id: str | None
    contact: str | None
    contact_kind: str | None
    due_at: datetime
    answered_at: datetime | None
    answered_by_name: str | None
    answer_kind: str | None
    answer_note: str | None

    @property
    def open(self) -> bool:
        """Whether it still waits for its answer."""
        return self.answered_at is None


class LeftMessageStore:
    """The messages left, over the handoff database (``HandoffStore.messages``)."""

    def __init__(self, db: Database) -> None:
        """Use the database (and its audit log) of the handoff store."""
        self._db = db

    def _query(self, *conditions: Any) -> Any:
        """Messages left with their handoffs; ``conditions`` on ``_BASE`` or ``messages_left``."""
        base = _BASE
        return (
            select(
                base,
                messages_left.c.ticket_id,
                messages_left.c.contact,
                messages_left.c.contact_kind,
                messages_left.c.due_at,
                messages_left.c.answered_at,
                messages_left.c.answer_kind,
                messages_left.c.answer_note,
                _answerer.c.display_name.label("answered_by_name"),
            )
            .select_from(
                base.join(messages_left, messages_left.c.handoff_id == base.c.id).outerjoin(
                    _answerer, messages_left.c.answered_by == _answerer.c.id
                )
            )
            .where(base.c.status == "message_left", *conditions)
        )

    def open_row(self, conn: Connection, handoff_id: int, created_at: datetime, sla_hours: int) -> None:
        """Add the row of a handoff that just became a message (in the caller's transaction)."""
        due = created_at + timedelta(hours=sla_hours)
        conn.execute(insert(messages_left).values(handoff_id=handoff_id, due_at=due))

    def ensure(self, handoff_id: int, sla_hours: int) -> None:
        """Add the row of a message left if it has none (a message recorded by an older version)."""
        with self._db._tx() as conn:
            found = conn.execute(
                select(messages_left.c.handoff_id).where(messages_left.c.handoff_id == handoff_id)
            ).first()
            if found is None:
                handoff = self._handoff(conn, handoff_id)
                with contextlib.suppress(IntegrityError):  # another process added it just now
                    self.open_row(conn, handoff_id, handoff.closed_at or handoff.created_at, sla_hours)

    def attach_ticket(self, handoff_id: int, ticket_id: str, contact: str | None, contact_kind: str) -> None:
        """Record the ticket opened for a message and the contact the user left (masked here).

        Raises:
            InvalidInput: a bad ticket id, contact or kind.
            NotFound: no such message.
        """
        check_text(ticket_id, "ticket_id", 1, MAX_TICKET_ID)
        if contact_kind not in CONTACT_KINDS:
            raise InvalidInput("unknown contact kind")
        masked = None if contact is None else mask_text(check_text(contact, "contact", 0, MAX_CONTACT))
        with self._db._tx() as conn:
            changed = conn.execute(
                update(messages_left)
                .where(messages_left.c.handoff_id == handoff_id)
                .values(ticket_id=ticket_id, contact=masked or None, contact_kind=contact_kind)
            )
            if changed.rowcount != 1:
                raise NotFound("no such message")
            self._db._audit(conn, None, "message_ticket", handoff_id, ticket_id)
            self._db._bump(conn)

    def awaiting_ticket(self, sender_id: str) -> Handoff | None:
        """The sender's latest message left that has no ticket yet, if any."""
        query = self._query(_BASE.c.sender_id == sender_id, messages_left.c.ticket_id.is_(None))
        with self._db._read() as conn:
            row = conn.execute(query.order_by(_BASE.c.id.desc()).limit(1)).first()
        return None if row is None else handoff_of(row)

    def get(self, handoff_id: int) -> LeftMessage:
        """One message left; NotFound if there is none."""
        with self._db._read() as conn:
            row = conn.execute(self._query(_BASE.c.id == handoff_id)).first()
        if row is None:
            raise NotFound("no such message")
        return _message(row)

    def listed(self, answered: bool = False, limit: int = 200) -> list[LeftMessage]:
        """Open messages, the most overdue first; or the latest answered ones, newest first."""
        query = self._query()
        if answered:
            query = query.where(messages_left.c.answered_at.is_not(None)).order_by(
                messages_left.c.answered_at.desc()
            )
        else:
            query = query.where(messages_left.c.answered_at.is_(None)).order_by(messages_left.c.due_at)
        with self._db._read() as conn:
            return [_message(row) for row in conn.execute(query.limit(limit))]

    def answer(self, handoff_id: int, agent_id: int, kind: str, note: str = "") -> LeftMessage:
        """Mark an open message answered (on the channel, or called back with a note).

        Raises:
            InvalidInput: an unknown kind or a note longer than 2000 characters.
            NotFound: no such message.
            Conflict: already answered.
        """
        if kind not in ANSWER_KINDS:
            raise InvalidInput("unknown answer kind")
        check_text(note, "note", 0, MAX_NOTE)
        now = self._db._now()
        with self._db._tx() as conn:
            changed = conn.execute(
                update(messages_left)
                .where(messages_left.c.handoff_id == handoff_id, messages_left.c.answered_at.is_(None))
                .values(answered_at=now, answered_by=agent_id, answer_kind=kind, answer_note=mask_text(note))
            )
            if changed.rowcount != 1:
                found = conn.execute(
                    select(messages_left.c.answered_at).where(messages_left.c.handoff_id == handoff_id)
                ).first()
                if found is None:
                    raise NotFound("no such message")
                raise Conflict("该留言已被处理。")
            action = "message_answered" if kind == "channel" else "message_called_back"
            self._db._audit(conn, agent_id, action, handoff_id, note)
            self._db._bump(conn)
        return self.get(handoff_id)

    def _handoff(self, conn: Connection, handoff_id: int) -> Handoff:
        row = conn.execute(HANDOFF_QUERY.where(handoffs.c.id == handoff_id)).first()
        if row is None:
            raise NotFound("no such handoff")
        return handoff_of(row)


def _message(row: Any) -> LeftMessage:
    return LeftMessage(
        handoff=handoff_of(row),
        ticket_id=row.ticket_id,
        contact=row.contact,
        contact_kind=row.contact_kind,
        due_at=row.due_at,
        answered_at=row.answered_at,
        answered_by_name=row.answered_by_name,
        answer_kind=row.answer_kind,
        answer_note=row.answer_note,
    )
