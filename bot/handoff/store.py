"""The handoff store: the queue of users waiting for a person, who serves whom, and the audit log.

Summaries, resolve notes and audit details are stored with personal data masked
(``bot.masking``), whoever the caller is.

Every method is one short transaction, so the Rasa server and the action server can share
the database; nothing that matters is kept in memory. State changes that can race (two
agents taking the same conversation) are single conditional UPDATEs whose row count says
who won.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.handoff.account_links import AccountLinkStore
from bot.handoff.agents import AgentStore
from bot.handoff.annotations import AnnotationStore
from bot.handoff.assignment import AssignmentStore
from bot.handoff.attachment_store import AttachmentStore
from bot.handoff.deliveries import DeliveryStore
from bot.handoff.errors import Conflict, InvalidInput, NotFound
from bot.handoff.left_messages import LeftMessageStore
from bot.handoff.models import ACTIVE_STATUSES, AuditEntry, Handoff, make_reference
from bot.handoff.rows import (
    HANDOFF_QUERY,
    MAX_ACTION,
    MAX_AUDIT_LIMIT,
    MAX_NOTE,
    PENDING,
    QUEUE_ORDER,
    check_request,
    check_text,
    handoff_of,
)
from bot.handoff.schema import agents, audit_log, handoffs, version
from bot.masking import mask_text


class HandoffStore(AgentStore):
    """Handoffs, agents, sessions and the audit log in one SQL database.

    ``HandoffStore("sqlite:///var/handoff.db")`` or ``HandoffStore("postgresql://...")``;
    call ``create_schema()`` once at start. Agent-side methods take ``supervisor=True``
    to act as a supervisor, which counts only if the acting agent has that role. The images
    users sent and the outcomes of pushes are its parts ``attachments`` and ``deliveries``.
    """

    message_sla_hours = 24  # when a message left is due; set from the settings by the servers

    @cached_property
    def messages(self) -> LeftMessageStore:
        """The messages left (the 留言 queue)."""
        return LeftMessageStore(self)

    @cached_property
    def assignment(self) -> AssignmentStore:
        """Presence, round robin, the unanswered timer and the waiting users' told places."""
        return AssignmentStore(self)

    @cached_property
    def attachments(self) -> AttachmentStore:
        """The images users sent."""
        return AttachmentStore(self)

    @cached_property
    def accounts(self) -> AccountLinkStore:
        """Which verified account each conversation belongs to."""
        return AccountLinkStore(self)

    @cached_property
    def annotations(self) -> AnnotationStore:
        """The agents' private notes and tags on conversations."""
        return AnnotationStore(self)

    @cached_property
    def deliveries(self) -> DeliveryStore:
        """What became of the messages pushed to users."""
        return DeliveryStore(self)

    # --- the user's side ----------------------------------------------------
    def request_handoff(
        self, sender_id: str, channel: str, priority: str, topic: str, summary: str
    ) -> Handoff:
        """Queue the sender for a person; an already pending or assigned handoff is returned unchanged.

        Raises:
            InvalidInput: an empty or too long sender, channel, topic or summary, or an unknown priority.
        """
        check_request(sender_id, channel, priority, topic, summary)
        now = self._now()
        try:
            with self._tx() as conn:
                existing = self._active_row(conn, sender_id)
                if existing is not None:
                    return handoff_of(existing)
                handoff_id = self._insert(
                    conn, (sender_id, channel, priority, topic, summary), "pending", now
                )
                self._bump(conn)
                return self._fetch(conn, handoff_id)
        except IntegrityError:  # the same sender's request, committed by another process just now
            with self._read() as conn:
                existing = self._active_row(conn, sender_id)
            if existing is None:
                raise
            return handoff_of(existing)

    def record_message(
        self, sender_id: str, channel: str, priority: str, topic: str, summary: str, detail: str = ""
    ) -> Handoff:
        """A request that cannot be queued now, stored straight as a message left (the 留言
        queue: an agent calls the user back), e.g. one kept while the store was down.

        Raises:
            InvalidInput: as for ``request_handoff``.
        """
        check_request(sender_id, channel, priority, topic, summary)
        now = self._now()
        with self._tx() as conn:
            handoff_id = self._insert(
                conn, (sender_id, channel, priority, topic, summary), "message_left", now
            )
            self.messages.open_row(conn, handoff_id, now, self.message_sla_hours)
            self._audit(conn, None, "leave_message", handoff_id, detail)
            self._bump(conn)
            return self._fetch(conn, handoff_id)

    def cancel(self, handoff_id: int) -> Handoff:
        """The user stopped waiting: pending → cancelled (Conflict from any other status)."""
        return self._close_pending(handoff_id, "cancelled", "cancel")

    def leave_message(self, handoff_id: int) -> Handoff:
        """No agent now: pending → message_left (Conflict from any other status)."""
        return self._close_pending(handoff_id, "message_left", "leave_message")

    def expire_pending(self, older_than_seconds: float) -> list[Handoff]:
        """Pending handoffs older than that become ``message_left``; returned so users can be told."""
        if isinstance(older_than_seconds, bool) or not isinstance(older_than_seconds, int | float):
            raise InvalidInput("older_than_seconds must be a number")
        now = self._now()
        cutoff = now - timedelta(seconds=max(0, older_than_seconds))
        expired = []
        with self._tx() as conn:
            ids = conn.execute(
                select(handoffs.c.id).where(PENDING, handoffs.c.created_at < cutoff).order_by(handoffs.c.id)
            ).scalars()
            for handoff_id in list(ids):
                changed = conn.execute(
                    update(handoffs)
                    .where(handoffs.c.id == handoff_id, PENDING)
                    .values(status="message_left", closed_at=now, updated_at=now)
                )
                if changed.rowcount == 1:
                    self.messages.open_row(conn, handoff_id, now, self.message_sla_hours)
                    self._audit(conn, None, "expire", handoff_id, "")
                    expired.append(self._fetch(conn, handoff_id))
            if expired:
                self._bump(conn)
        return expired

    def record_satisfaction(self, sender_id: str, score: int) -> bool:
        """Rate the sender's latest resolved handoff (1-5) if it has no rating yet; False otherwise."""
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise InvalidInput("score must be an integer from 1 to 5")
        with self._tx() as conn:
            latest = conn.execute(
                select(handoffs.c.id)
                .where(handoffs.c.sender_id == sender_id, handoffs.c.status == "resolved")
                .order_by(handoffs.c.closed_at.desc(), handoffs.c.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            if latest is None:
                return False
            changed = conn.execute(
                update(handoffs)
                .where(handoffs.c.id == latest, handoffs.c.satisfaction.is_(None))
                .values(satisfaction=score, updated_at=self._now())
            )
            if changed.rowcount != 1:
                return False
            self._bump(conn)
        return True

    # --- reading ------------------------------------------------------------
    def get(self, handoff_id: int) -> Handoff:
        """The handoff with that id; NotFound if there is none."""
        with self._read() as conn:
            return self._fetch(conn, handoff_id)

    def active_for(self, sender_id: str) -> Handoff | None:
        """The sender's pending or assigned handoff, if any."""
        with self._read() as conn:
            row = self._active_row(conn, sender_id)
        return None if row is None else handoff_of(row)

    def latest_for(self, sender_id: str) -> Handoff | None:
        """The sender's most recent handoff, whatever its status."""
        query = HANDOFF_QUERY.where(handoffs.c.sender_id == sender_id).order_by(handoffs.c.id.desc()).limit(1)
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else handoff_of(row)

    def queue(self) -> list[Handoff]:
        """Pending handoffs: urgent, then high, then normal; oldest first within a priority."""
        with self._read() as conn:
            return [
                handoff_of(row) for row in conn.execute(HANDOFF_QUERY.where(PENDING).order_by(*QUEUE_ORDER))
            ]

    def position(self, handoff_id: int) -> int:
        """1-based place of a pending handoff in the queue; 0 if it is not pending (NotFound)."""
        with self._read() as conn:
            status = conn.execute(
                select(handoffs.c.status).where(handoffs.c.id == handoff_id)
            ).scalar_one_or_none()
            if status is None:
                raise NotFound("no such handoff")
            if status != "pending":
                return 0
            ids = list(conn.execute(select(handoffs.c.id).where(PENDING).order_by(*QUEUE_ORDER)).scalars())
        # on PostgreSQL another agent may have taken it between the two statements
        return ids.index(handoff_id) + 1 if handoff_id in ids else 0

    def active(self) -> list[Handoff]:
        """Pending and assigned handoffs, oldest first."""
        query = HANDOFF_QUERY.where(handoffs.c.status.in_(ACTIVE_STATUSES)).order_by(handoffs.c.id)
        with self._read() as conn:
            return [handoff_of(row) for row in conn.execute(query)]

    def assigned_to(self, agent_id: int) -> list[Handoff]:
        """The conversations the agent serves now, in the order they were taken."""
        query = HANDOFF_QUERY.where(
            handoffs.c.status == "assigned", handoffs.c.assigned_agent_id == agent_id
        ).order_by(handoffs.c.assigned_at, handoffs.c.id)
        with self._read() as conn:
            return [handoff_of(row) for row in conn.execute(query)]

    def version(self) -> int:
        """A number that grows with every change to any handoff (cheap to poll)."""
        with self._read() as conn:
            return int(
                conn.execute(select(version.c.value).where(version.c.id == 1)).scalar_one_or_none() or 0
            )

    # --- the agent's side ---------------------------------------------------
    def take(self, handoff_id: int, agent_id: int) -> Handoff:
        """The agent takes a pending handoff; when several try at once exactly one wins.

        Raises:
            NotFound: no such handoff or agent.
            Conflict: the agent is disabled, or the handoff is no longer pending.
        """
        now = self._now()
        with self._tx() as conn:
            self._enabled_agent(conn, agent_id)
            result = conn.execute(
                update(handoffs)
                .where(handoffs.c.id == handoff_id, PENDING)
                .values(status="assigned", assigned_agent_id=agent_id, assigned_at=now, updated_at=now)
            )
            if result.rowcount != 1:
                self._refuse(conn, handoff_id, "pending")
            self.assignment.record(conn, handoff_id, agent_id, False, now)
            self._audit(conn, agent_id, "take", handoff_id, "")
            self._bump(conn)
            return self._fetch(conn, handoff_id)

    def transfer(
        self, handoff_id: int, from_agent_id: int, to_agent_id: int, supervisor: bool = False
    ) -> Handoff:
        """Pass an assigned handoff to another enabled agent (by its agent, or a supervisor).

        Raises:
            NotFound: no such handoff or agent.
            Conflict: not assigned, assigned to someone else, already with that agent,
                or the acting or target agent is disabled.
        """
        now = self._now()
        with self._tx() as conn:
            actor = self._enabled_agent(conn, from_agent_id)
            target = self._enabled_agent(conn, to_agent_id)
            conditions = [handoffs.c.assigned_agent_id != to_agent_id]
            if not (supervisor and actor.is_supervisor):
                conditions.append(handoffs.c.assigned_agent_id == from_agent_id)
            result = conn.execute(
                update(handoffs)
                .where(handoffs.c.id == handoff_id, handoffs.c.status == "assigned", *conditions)
                .values(assigned_agent_id=to_agent_id, assigned_at=now, updated_at=now)
            )
            if result.rowcount != 1:
                self._refuse(conn, handoff_id, "assigned", to_agent_id)
            self.assignment.record(conn, handoff_id, to_agent_id, False, now)
            self._audit(conn, from_agent_id, "transfer", handoff_id, f"to {target.username}")
            self._bump(conn)
            return self._fetch(conn, handoff_id)

    def hand_back(self, handoff_id: int, agent_id: int, supervisor: bool = False) -> Handoff:
        """Give an assigned conversation back to the bot: assigned → returned."""
        return self._close_assigned(handoff_id, agent_id, supervisor, "returned", "hand_back", None)

    def resolve(self, handoff_id: int, agent_id: int, note: str, supervisor: bool = False) -> Handoff:
        """Close an assigned conversation as solved, with a note of at most 2000 characters."""
        check_text(note, "note", 0, MAX_NOTE)
        note = mask_text(note)
        return self._close_assigned(handoff_id, agent_id, supervisor, "resolved", "resolve", note)

    # --- audit --------------------------------------------------------------
    def audit(self, agent_id: int | None, action: str, handoff_id: int | None, detail: str = "") -> None:
        """Record an action (login, logout, reply...); ``detail`` is cut to 2000 characters.

        Raises:
            InvalidInput: an empty or too long action, or a detail that is not text.
            NotFound: no such agent or handoff.
        """
        check_text(action, "action", 1, MAX_ACTION)
        if not isinstance(detail, str):
            raise InvalidInput("detail must be text")
        with self._tx() as conn:
            if agent_id is not None:
                self._agent_by_id(conn, agent_id)
            if handoff_id is not None:
                self._fetch(conn, handoff_id)
            self._audit(conn, agent_id, action, handoff_id, detail)

    def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        """The latest ``limit`` (1-1000) audit entries, newest first."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_AUDIT_LIMIT:
            raise InvalidInput(f"limit must be an integer from 1 to {MAX_AUDIT_LIMIT}")
        query = (
            select(audit_log, agents.c.display_name)
            .select_from(audit_log.outerjoin(agents, audit_log.c.agent_id == agents.c.id))
            .order_by(audit_log.c.id.desc())
            .limit(limit)
        )
        with self._read() as conn:
            return [
                AuditEntry(
                    id=row.id,
                    at=row.at,
                    agent_id=row.agent_id,
                    agent_name=row.display_name,
                    action=row.action,
                    handoff_id=row.handoff_id,
                    detail=row.detail,
                )
                for row in conn.execute(query)
            ]

    # --- helpers ------------------------------------------------------------
    def _insert(
        self, conn: Connection, request: tuple[str, str, str, str, str], status: str, now: Any
    ) -> int:
        """Insert a handoff (sender, channel, priority, topic, summary) and give it its reference."""
        sender_id, channel, priority, topic, summary = request
        closed = None if status == "pending" else now
        summary = mask_text(summary)  # whoever calls: no personal data in the store
        result = conn.execute(
            insert(handoffs).values(
                sender_id=sender_id,
                channel=channel,
                priority=priority,
                topic=topic,
                summary=summary,
                status=status,
                created_at=now,
                updated_at=now,
                closed_at=closed,
            )
        )
        handoff_id = int(result.inserted_primary_key[0])
        reference = make_reference(handoff_id, now)
        conn.execute(update(handoffs).where(handoffs.c.id == handoff_id).values(reference=reference))
        return handoff_id

    def _fetch(self, conn: Connection, handoff_id: int) -> Handoff:
        row = conn.execute(HANDOFF_QUERY.where(handoffs.c.id == handoff_id)).first()
        if row is None:
            raise NotFound("no such handoff")
        return handoff_of(row)

    def _active_row(self, conn: Connection, sender_id: str) -> Any:
        query = HANDOFF_QUERY.where(handoffs.c.sender_id == sender_id, handoffs.c.status.in_(ACTIVE_STATUSES))
        return conn.execute(query).first()

    def _refuse(self, conn: Connection, handoff_id: int, expected: str, target_id: int | None = None) -> None:
        """Raise the error that explains why a conditional UPDATE changed nothing."""
        current = self._fetch(conn, handoff_id)
        if current.status != expected:
            raise Conflict(f"the handoff is {current.status}, not {expected}")
        if target_id is not None and current.assigned_agent_id == target_id:
            raise Conflict("the handoff is already with that agent")
        raise Conflict("the handoff is assigned to another agent")

    def _close_pending(self, handoff_id: int, status: str, action: str) -> Handoff:
        now = self._now()
        with self._tx() as conn:
            result = conn.execute(
                update(handoffs)
                .where(handoffs.c.id == handoff_id, PENDING)
                .values(status=status, closed_at=now, updated_at=now)
            )
            if result.rowcount != 1:
                self._refuse(conn, handoff_id, "pending")
            if status == "message_left":
                self.messages.open_row(conn, handoff_id, now, self.message_sla_hours)
            self._audit(conn, None, action, handoff_id, "")
            self._bump(conn)
            return self._fetch(conn, handoff_id)

    def _close_assigned(
        self, handoff_id: int, agent_id: int, supervisor: bool, status: str, action: str, note: str | None
    ) -> Handoff:
        now = self._now()
        with self._tx() as conn:
            actor = self._enabled_agent(conn, agent_id)
            conditions: list[Any] = [handoffs.c.id == handoff_id, handoffs.c.status == "assigned"]
            if not (supervisor and actor.is_supervisor):
                conditions.append(handoffs.c.assigned_agent_id == agent_id)
            result = conn.execute(
                update(handoffs)
                .where(*conditions)
                .values(status=status, note=note, closed_at=now, updated_at=now)
            )
            if result.rowcount != 1:
                self._refuse(conn, handoff_id, "assigned")
            self._audit(conn, agent_id, action, handoff_id, "")
            self._bump(conn)
            return self._fetch(conn, handoff_id)
