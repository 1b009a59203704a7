"""What the console's API returns for handoffs, agents and audit entries (plain JSON values).

These functions read the store (a handoff's queue position, an audit entry's reference), so
the console calls them in its worker pool, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from bot.handoff.errors import NotFound
from bot.handoff.models import Agent, Handoff
from bot.handoff.store import HandoffStore
from bot.handoff.window import reply_window


def agent_json(agent: Agent) -> dict[str, Any]:
    """An agent as the console shows it."""
    return {
        "id": agent.id,
        "username": agent.username,
        "display_name": agent.display_name,
        "role": agent.role,
    }


def handoff_json(
    h: Handoff,
    store: HandoffStore,
    max_wait: int,
    last_user_at: float | None = None,
    undelivered: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A handoff as the console shows it.

    ``channel`` is the channel's name (``socketio`` for the widget, ``wechat``, ``telegram``,
    ``rest``); ``window`` the reply window of a channel that has one (WeChat's 48 hours since
    ``last_user_at``, the user's last message), else None; ``undelivered`` how many messages
    of this handoff did not reach the user (read from the store when not given).
    """
    now = now or datetime.now(timezone.utc)
    waiting = max(0, int((now - h.created_at).total_seconds()))
    if undelivered is None:
        undelivered = store.deliveries.undelivered([h.id])[h.id]
    return {
        "id": h.id,
        "reference": h.reference,
        "channel": h.channel,
        "status": h.status,
        "priority": h.priority,
        "topic": h.topic,
        "summary": h.summary,
        "created_at": h.created_at.isoformat(),
        "waiting_seconds": waiting,
        "overdue": h.status == "pending" and waiting > max_wait * 0.7,
        "position": store.position(h.id),
        "assigned_agent": (
            {"id": h.assigned_agent_id, "display_name": h.assigned_agent_name}
            if h.assigned_agent_id
            else None
        ),
        "window": reply_window(h.channel, last_user_at, now),
        "undelivered": undelivered,
    }


def handoffs_json(
    handoffs: Iterable[Handoff],
    store: HandoffStore,
    max_wait: int,
    last_user: Mapping[str, float | None] | None = None,
) -> list[dict[str, Any]]:
    """Several handoffs as the console shows them (``last_user``: when each sender last wrote)."""
    listed = list(handoffs)
    undelivered = store.deliveries.undelivered([h.id for h in listed])
    now = datetime.now(timezone.utc)
    times = last_user or {}
    return [handoff_json(h, store, max_wait, times.get(h.sender_id), undelivered[h.id], now) for h in listed]


def agents_json(store: HandoffStore, supervisor: bool, capacity: int = 3) -> list[dict[str, Any]]:
    """The agents with their duty, presence (在线/忙碌/离开), capacity and load (supervisors
    also see disabled agents)."""
    load = store.agent_load()
    on_duty = {a.id for a in store.agents_on_duty()}
    statuses = store.assignment.statuses()
    listed = [a for a in store.list_agents() if supervisor or a.active]
    return [
        {
            **agent_json(a),
            "active": a.active,
            "on_duty": a.id in on_duty,
            "load": load.get(a.id, 0),
            "status": statuses.get(a.id, ("online", None))[0],
            "capacity": statuses.get(a.id, ("online", None))[1] or capacity,
        }
        for a in listed
    ]


def audit_json(store: HandoffStore) -> list[dict[str, Any]]:
    """The latest audit entries, newest first, with the handoffs' reference numbers."""
    references = {h.id: h.reference for h in store.active()}
    entries = []
    for e in store.audit_log():
        reference = references.get(e.handoff_id) if e.handoff_id else None
        if e.handoff_id and reference is None:
            try:
                reference = store.get(e.handoff_id).reference
            except NotFound:
                reference = None
        entries.append(
            {
                "at": e.at.isoformat(),
                "agent_name": e.agent_name,
                "action": e.action,
                "reference": reference,
                "detail": e.detail,
            }
        )
    return entries
