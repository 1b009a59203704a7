"""Who serves whom: the agents' presence (在线/忙碌/离开), round robin under capacity, the
timer of assignments nobody answered, and the queue place each waiting user was told.

Over the handoff database (``HandoffStore.assignment``). Every change is a conditional UPDATE
inside one transaction, so the rounds are safe to race (they run on the leader anyway,
``bot.handoff.leader``), and an agent taking a conversation by hand at the same moment as round
robin gives it to someone else leaves exactly one of them with it.

- Presence: an agent without a row counts as 在线 for being on duty (as before presence
  existed) but round robin gives conversations only to agents who said 在线 (the console says
  so at login). 离开 takes an agent off duty; 忙碌 keeps them on duty without new conversations.
- Round robin: each pending handoff, in queue order, goes to the online, on-duty agent with
  room (fewer assigned conversations than their capacity) who was given one longest ago; an
  agent who let this conversation go unanswered is skipped for it.
- Unanswered: an assignment whose agent has not replied within the limit goes back to the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.handoff.db import Database
from bot.handoff.errors import InvalidInput, NotFound
from bot.handoff.models import Handoff
from bot.handoff.rows import HANDOFF_QUERY, PENDING, QUEUE_ORDER, handoff_of
from bot.handoff.schema import agents, assignments, handoffs, presence, sessions, waits

STATUSES = ("online", "busy", "away")
DUTY_SECONDS = 120  # an agent seen within this, with a live session, is on duty


@dataclass(frozen=True)
class Assigned:
    """A handoff round robin gave to an agent."""

    handoff: Handoff
    agent_id: int
    agent_name: str


@dataclass
class _Candidate:
    id: int
    name: str
    room: int


@dataclass(frozen=True)
class PlaceChange:
    """A waiting user's new place in the queue."""

    handoff: Handoff
    position: int


class AssignmentStore:
    """Presence, assignments and told queue places, over the handoff database."""

    def __init__(self, db: Database) -> None:
        """Use the database (and its audit log) of the handoff store."""
        self._db = db

    # --- presence -----------------------------------------------------------
    def set_status(self, agent_id: int, status: str, capacity: int | None = None) -> None:
        """Set an agent's presence (``online``, ``busy``, ``away``) and optionally capacity.

        Raises:
            InvalidInput: an unknown status or a capacity outside 1-50.
            NotFound: no such agent.
        """
        if status not in STATUSES:
            raise InvalidInput("status must be online, busy or away")
        if capacity is not None and (isinstance(capacity, bool) or not 1 <= int(capacity) <= 50):
            raise InvalidInput("capacity must be 1-50")
        now = self._db._now()
        with self._db._tx() as conn:
            if conn.execute(select(agents.c.id).where(agents.c.id == agent_id)).first() is None:
                raise NotFound("no such agent")
            values: dict[str, Any] = {"status": status, "updated_at": now}
            if capacity is not None:
                values["capacity"] = int(capacity)
            changed = conn.execute(update(presence).where(presence.c.agent_id == agent_id).values(**values))
            if changed.rowcount != 1:
                conn.execute(insert(presence).values(agent_id=agent_id, **values))
            self._db._audit(conn, agent_id, "status", None, status)
            self._db._bump(conn)

    def statuses(self) -> dict[int, tuple[str, int | None]]:
        """Each agent's presence and capacity (agents without a row are absent)."""
        with self._db._read() as conn:
            rows = conn.execute(select(presence.c.agent_id, presence.c.status, presence.c.capacity))
            return {int(r.agent_id): (str(r.status), r.capacity) for r in rows}

    # --- assignments ----------------------------------------------------------
    def record(self, conn: Connection, handoff_id: int, agent_id: int, auto: bool, now: datetime) -> None:
        """A new assignment (take, transfer, round robin), in the caller's transaction."""
        conn.execute(
            update(assignments)
            .where(assignments.c.handoff_id == handoff_id, assignments.c.released_at.is_(None))
            .values(released_at=now)
        )
        conn.execute(
            insert(assignments).values(handoff_id=handoff_id, agent_id=agent_id, auto=auto, assigned_at=now)
        )

    def answered(self, handoff_id: int, agent_id: int) -> None:
        """The agent replied: their assignment's timer stops."""
        with self._db._tx() as conn:
            conn.execute(
                update(assignments)
                .where(
                    assignments.c.handoff_id == handoff_id,
                    assignments.c.agent_id == agent_id,
                    assignments.c.released_at.is_(None),
                    assignments.c.answered_at.is_(None),
                )
                .values(answered_at=self._db._now())
            )

    def assign_round_robin(self, default_capacity: int) -> list[Assigned]:
        """Give waiting users to online agents with room, in turn; returns what was given."""
        now = self._db._now()
        given: list[Assigned] = []
        with self._db._tx() as conn:
            candidates = self._candidates(conn, now, default_capacity)
            if not candidates:
                return []
            pending = [
                handoff_of(r) for r in conn.execute(HANDOFF_QUERY.where(PENDING).order_by(*QUEUE_ORDER))
            ]
            for handoff in pending:
                skipped = self._unanswered_by(conn, handoff.id)
                agent = next((c for c in candidates if c.room > 0 and c.id not in skipped), None)
                if agent is None:
                    continue
                changed = conn.execute(
                    update(handoffs)
                    .where(handoffs.c.id == handoff.id, PENDING)
                    .values(status="assigned", assigned_agent_id=agent.id, assigned_at=now, updated_at=now)
                )
                if changed.rowcount != 1:
                    continue
                self.record(conn, handoff.id, agent.id, True, now)
                conn.execute(
                    update(presence).where(presence.c.agent_id == agent.id).values(last_assigned_at=now)
                )
                self._db._audit(conn, agent.id, "assign", handoff.id, "round_robin")
                agent.room -= 1
                candidates.remove(agent)
                candidates.append(agent)  # to the back of the turn
                row = conn.execute(HANDOFF_QUERY.where(handoffs.c.id == handoff.id)).first()
                given.append(Assigned(handoff_of(row), agent.id, agent.name))
            if given:
                self._db._bump(conn)
        return given

    def requeue_unanswered(self, minutes: int) -> list[Handoff]:
        """Assignments not answered within ``minutes`` go back to the queue; returns those handoffs."""
        now = self._db._now()
        cutoff = now - timedelta(minutes=minutes)
        requeued: list[Handoff] = []
        with self._db._tx() as conn:
            late = conn.execute(
                select(assignments.c.id, assignments.c.handoff_id, assignments.c.agent_id).where(
                    assignments.c.released_at.is_(None),
                    assignments.c.answered_at.is_(None),
                    assignments.c.assigned_at < cutoff,
                )
            ).all()
            for row in late:
                changed = conn.execute(
                    update(handoffs)
                    .where(
                        handoffs.c.id == row.handoff_id,
                        handoffs.c.status == "assigned",
                        handoffs.c.assigned_agent_id == row.agent_id,
                    )
                    .values(status="pending", assigned_agent_id=None, assigned_at=None, updated_at=now)
                )
                conn.execute(update(assignments).where(assignments.c.id == row.id).values(released_at=now))
                if changed.rowcount == 1:
                    self._db._audit(conn, row.agent_id, "unanswered", row.handoff_id, f"{minutes} min")
                    found = conn.execute(HANDOFF_QUERY.where(handoffs.c.id == row.handoff_id)).first()
                    requeued.append(handoff_of(found))
            if requeued:
                self._db._bump(conn)
        return requeued

    # --- the waiting users' places ----------------------------------------------
    def told(self, handoff_id: int, position: int) -> None:
        """Record the place a waiting user was just told."""
        now = self._db._now()
        with self._db._tx() as conn:
            self._tell(conn, handoff_id, position, now)

    def place_changes(self) -> list[PlaceChange]:
        """Waiting users whose place differs from the one they were last told (now recorded)."""
        now = self._db._now()
        changes: list[PlaceChange] = []
        with self._db._tx() as conn:
            pending = [
                handoff_of(r) for r in conn.execute(HANDOFF_QUERY.where(PENDING).order_by(*QUEUE_ORDER))
            ]
            told = {
                int(r.handoff_id): int(r.position)
                for r in conn.execute(
                    select(waits.c.handoff_id, waits.c.position).where(
                        waits.c.handoff_id.in_([h.id for h in pending] or [-1])
                    )
                )
            }
            for place, handoff in enumerate(pending, start=1):
                if told.get(handoff.id) != place:
                    self._tell(conn, handoff.id, place, now)
                    if handoff.id in told:  # the first place is told by the request itself
                        changes.append(PlaceChange(handoff, place))
        return changes

    # --- helpers ------------------------------------------------------------
    def _tell(self, conn: Connection, handoff_id: int, position: int, now: datetime) -> None:
        changed = conn.execute(
            update(waits).where(waits.c.handoff_id == handoff_id).values(position=position, told_at=now)
        )
        if changed.rowcount == 1:
            return
        try:
            with conn.begin_nested():  # a savepoint: a failed insert leaves the transaction usable
                conn.execute(insert(waits).values(handoff_id=handoff_id, position=position, told_at=now))
        except IntegrityError:  # another server told the same user at the same moment
            conn.execute(
                update(waits).where(waits.c.handoff_id == handoff_id).values(position=position, told_at=now)
            )

    def _unanswered_by(self, conn: Connection, handoff_id: int) -> set[int]:
        query = select(assignments.c.agent_id).where(
            assignments.c.handoff_id == handoff_id,
            assignments.c.answered_at.is_(None),
            assignments.c.released_at.is_not(None),
        )
        return {int(a) for a in conn.execute(query).scalars()}

    def _candidates(self, conn: Connection, now: datetime, default_capacity: int) -> list[_Candidate]:
        live = exists().where(sessions.c.agent_id == agents.c.id, sessions.c.expires_at > now)
        load = (
            select(func.count(handoffs.c.id))
            .where(handoffs.c.assigned_agent_id == agents.c.id, handoffs.c.status == "assigned")
            .scalar_subquery()
        )
        query = (
            select(
                agents.c.id,
                agents.c.display_name,
                presence.c.capacity,
                presence.c.last_assigned_at,
                load.label("load"),
            )
            .select_from(agents.join(presence, and_(presence.c.agent_id == agents.c.id)))
            .where(
                agents.c.active.is_(True),
                agents.c.last_seen >= now - timedelta(seconds=DUTY_SECONDS),
                presence.c.status == "online",
                live,
            )
        )
        rows = sorted(
            conn.execute(query),
            key=lambda r: (r.last_assigned_at is not None, r.last_assigned_at or now, r.id),
        )
        found = [
            _Candidate(int(r.id), str(r.display_name), (r.capacity or default_capacity) - int(r.load))
            for r in rows
        ]
        return [c for c in found if c.room > 0]
