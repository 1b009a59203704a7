"""The images users sent, in the handoff database (``HandoffStore.attachments``)."""

from __future__ import annotations

from sqlalchemy import exists, insert, select

from bot.handoff.db import Database
from bot.handoff.errors import InvalidInput, NotFound
from bot.handoff.ids import is_id
from bot.handoff.models import Attachment
from bot.handoff.rows import MAX_CHANNEL, MAX_SENDER_ID, check_text
from bot.handoff.schema import attachments, handoffs
from bot.masking import mask_text

MAX_SOURCE = 255
_COLUMNS = (
    attachments.c.id,
    attachments.c.content_type,
    attachments.c.size,
    attachments.c.sender_id,
    attachments.c.channel,
    attachments.c.source,
    attachments.c.created_at,
)


class AttachmentStore:
    """Stores and finds images; the bytes are read only to be served."""

    def __init__(self, db: Database) -> None:
        """Use the handoff store's database."""
        self._db = db

    def add(
        self, attachment_id: str, sender_id: str, channel: str, content_type: str, data: bytes, source: str
    ) -> Attachment:
        """Store an image (its type already checked); ``source`` is kept masked and cut to 255.

        Raises:
            InvalidInput: a bad id, sender or channel.
        """
        if not is_id(attachment_id):
            raise InvalidInput("not an attachment id")
        check_text(sender_id, "sender_id", 1, MAX_SENDER_ID)
        check_text(channel, "channel", 1, MAX_CHANNEL)
        source = mask_text(source.replace("\x00", ""))[:MAX_SOURCE]
        stored = Attachment(
            attachment_id, content_type, len(data), sender_id, channel, source, self._db._now()
        )
        with self._db._tx() as conn:
            conn.execute(
                insert(attachments).values(
                    id=stored.id,
                    sender_id=stored.sender_id,
                    channel=stored.channel,
                    content_type=stored.content_type,
                    size=stored.size,
                    source=stored.source,
                    data=bytes(data),
                    created_at=stored.created_at,
                )
            )
        return stored

    def get(self, attachment_id: str) -> tuple[Attachment, bytes]:
        """The image and its bytes; NotFound for an unknown (or malformed) id."""
        if not is_id(attachment_id):
            raise NotFound("no such attachment")
        with self._db._read() as conn:
            row = conn.execute(
                select(*_COLUMNS, attachments.c.data).where(attachments.c.id == attachment_id)
            ).first()
        if row is None:
            raise NotFound("no such attachment")
        found = Attachment(
            row.id, row.content_type, row.size, row.sender_id, row.channel, row.source, row.created_at
        )
        return found, bytes(row.data)

    def served_by(self, sender_id: str, agent_id: int) -> bool:
        """Whether the agent serves or served a conversation of this sender (may see its images)."""
        query = select(
            exists().where(handoffs.c.sender_id == sender_id, handoffs.c.assigned_agent_id == agent_id)
        )
        with self._db._read() as conn:
            return bool(conn.execute(query).scalar())

    def for_sender(self, sender_id: str, limit: int = 50) -> list[Attachment]:
        """The images a sender sent, oldest first (without their bytes)."""
        query = (
            select(*_COLUMNS)
            .where(attachments.c.sender_id == sender_id)
            .order_by(attachments.c.created_at, attachments.c.id)
            .limit(limit)
        )
        with self._db._read() as conn:
            rows = conn.execute(query).all()
        return [
            Attachment(r.id, r.content_type, r.size, r.sender_id, r.channel, r.source, r.created_at)
            for r in rows
        ]
