"""Which verified wallet account each conversation belongs to, for the console's side panel.

The account is what the bot's tracker had verified (``bot.handoff.context.account_of``); the
console records it the first time it reads a conversation's tracker, and links a few not yet
read conversations on every look-up, so a customer's previous conversations on every channel
are found by their account as well as by their sender. Account ids are the wallet's internal
ids (U1001), never a contact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import insert, or_, select
from sqlalchemy.exc import IntegrityError

from bot.handoff.models import Handoff
from bot.handoff.rows import HANDOFF_QUERY, handoff_of
from bot.handoff.schema import account_links, handoffs

if TYPE_CHECKING:
    from bot.handoff.store import HandoffStore

MAX_ACCOUNT_ID = 64
MAX_PREVIOUS = 10


class AccountLinkStore:
    """Conversation → verified account, over the handoff database (``HandoffStore.accounts``)."""

    def __init__(self, db: HandoffStore) -> None:
        """Use the handoff store's database."""
        self._db = db

    def link(self, handoff_id: int, account_id: str | None) -> None:
        """Record the conversation's account (None: read, nobody verified); kept once set."""
        account = (
            account_id if isinstance(account_id, str) and 0 < len(account_id) <= MAX_ACCOUNT_ID else None
        )
        db = self._db
        try:
            with db._tx() as conn:
                row = conn.execute(
                    select(account_links).where(account_links.c.handoff_id == handoff_id)
                ).first()
                if row is None:
                    values = {"handoff_id": handoff_id, "account_id": account, "linked_at": db._now()}
                    conn.execute(insert(account_links).values(**values))
                elif row.account_id is None and account is not None:
                    conn.execute(
                        account_links.update()
                        .where(account_links.c.handoff_id == handoff_id)
                        .values(account_id=account, linked_at=db._now())
                    )
        except IntegrityError:  # linked by another request at the same moment
            pass

    def unlinked(self, limit: int) -> list[Handoff]:
        """The newest conversations whose tracker was never read for an account."""
        linked = select(account_links.c.handoff_id)
        query = HANDOFF_QUERY.where(handoffs.c.id.not_in(linked)).order_by(handoffs.c.id.desc()).limit(limit)
        with self._db._read() as conn:
            return [handoff_of(row) for row in conn.execute(query)]

    def previous(self, handoff: Handoff, account_id: str | None) -> list[Handoff]:
        """The customer's other conversations, newest first: the same sender, or (any channel)
        the same verified account."""
        same = [handoffs.c.sender_id == handoff.sender_id]
        if account_id:
            of_account = select(account_links.c.handoff_id).where(account_links.c.account_id == account_id)
            same.append(handoffs.c.id.in_(of_account))
        query = (
            HANDOFF_QUERY.where(or_(*same), handoffs.c.id != handoff.id)
            .order_by(handoffs.c.id.desc())
            .limit(MAX_PREVIOUS)
        )
        with self._db._read() as conn:
            return [handoff_of(row) for row in conn.execute(query)]
