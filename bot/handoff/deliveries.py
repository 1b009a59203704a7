"""What became of the messages pushed to users: one row per agent message or system notice.

A message is in the transcript first (with its id in the event's metadata), then pushed to
the user's channel; the outcome is recorded here, so the console shows a message that did not
reach the user as not delivered, with the reason, after any reload. A failure on a handoff is
also written to the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select

from bot.handoff.db import Database
from bot.handoff.errors import InvalidInput
from bot.handoff.ids import is_id
from bot.handoff.push import REASONS
from bot.handoff.rows import MAX_CHANNEL, check_text
from bot.handoff.schema import deliveries


@dataclass(frozen=True)
class DeliveryRecord:
    """One pushed message: its transcript id, whose conversation, and what became of it."""

    message_id: str
    sender_id: str
    handoff_id: int | None
    channel: str
    delivered: bool
    reason: str | None = None


@dataclass(frozen=True)
class RecordedDelivery:
    """A stored outcome, as the console shows it."""

    delivered: bool
    reason: str | None
    at: datetime


def _check(record: DeliveryRecord) -> None:
    if not is_id(record.message_id):
        raise InvalidInput("message_id is not a message id")
    check_text(record.sender_id, "sender_id", 1, 255)
    check_text(record.channel, "channel", 1, MAX_CHANNEL)
    if record.delivered != (record.reason is None) or (record.reason and record.reason not in REASONS):
        raise InvalidInput("a delivery is delivered, or not with a known reason")


class DeliveryStore:
    """The outcomes of pushes, over the handoff database (``HandoffStore.deliveries``)."""

    def __init__(self, db: Database) -> None:
        """Use the database (and its audit log) of the handoff store."""
        self._db = db

    def record(self, records: Sequence[DeliveryRecord]) -> None:
        """Store outcomes in one transaction; failures on a handoff go to the audit log too.

        Raises:
            InvalidInput: a bad message id, sender, channel or reason.
        """
        for record in records:
            _check(record)
        if not records:
            return
        now = self._db._now()
        with self._db._tx() as conn:
            for record in records:
                conn.execute(
                    insert(deliveries).values(
                        message_id=record.message_id,
                        sender_id=record.sender_id,
                        handoff_id=record.handoff_id,
                        channel=record.channel,
                        delivered=record.delivered,
                        reason=record.reason,
                        at=now,
                    )
                )
                if not record.delivered and record.handoff_id is not None:
                    reason = REASONS[str(record.reason)]
                    self._db._audit(conn, None, "undelivered", record.handoff_id, reason)

    def for_sender(self, sender_id: str) -> dict[str, RecordedDelivery]:
        """Every recorded outcome in the sender's conversation, by message id."""
        query = select(deliveries.c.message_id, deliveries.c.delivered, deliveries.c.reason, deliveries.c.at)
        with self._db._read() as conn:
            rows = conn.execute(query.where(deliveries.c.sender_id == sender_id)).all()
        return {row.message_id: RecordedDelivery(bool(row.delivered), row.reason, row.at) for row in rows}

    def counts(self, sender_ids: Sequence[str]) -> dict[str, int]:
        """How many outcomes each conversation has (the console's change detection)."""
        if not sender_ids:
            return {}
        query = (
            select(deliveries.c.sender_id, func.count())
            .where(deliveries.c.sender_id.in_(list(sender_ids)))
            .group_by(deliveries.c.sender_id)
        )
        with self._db._read() as conn:
            found = {row[0]: int(row[1]) for row in conn.execute(query)}
        return {s: found.get(s, 0) for s in sender_ids}

    def undelivered(self, handoff_ids: Sequence[int]) -> dict[int, int]:
        """How many messages of each handoff did not reach the user (0 for none)."""
        if not handoff_ids:
            return {}
        query = (
            select(deliveries.c.handoff_id, func.count())
            .where(deliveries.c.handoff_id.in_(list(handoff_ids)), deliveries.c.delivered.is_(False))
            .group_by(deliveries.c.handoff_id)
        )
        with self._db._read() as conn:
            found = {int(row[0]): int(row[1]) for row in conn.execute(query)}
        return {h: found.get(h, 0) for h in handoff_ids}
