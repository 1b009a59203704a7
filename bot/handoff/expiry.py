"""The handoff's background task in the Rasa server: every round, pending handoffs past the
limit become messages (their users are told), assignments nobody answered go back to the
queue, round robin assigns waiting users (``HANDOFF_ASSIGNMENT=round_robin``), users whose
place in the queue changed are told their new place and wait, and expired agent sessions are
deleted.

The round runs on one server at a time: the leader (``bot.handoff.leader``: a PostgreSQL
advisory lock; on SQLite every server). Whoever sweeps, a request expires in one conditional
UPDATE, so its user is told once, by the server whose UPDATE expired it.

A round that finds the store down logs one line and the next round tries again; the schema
is created in the first round that can reach the database.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from sanic import Sanic

from bot.handoff.errors import StoreUnavailable

if TYPE_CHECKING:
    from bot.handoff.service import HandoffService

logger = logging.getLogger(__name__)
ROUND_SECONDS = 10.0


async def expiry_round(service: HandoffService, app: Sanic) -> bool:
    """One round: schema, leadership, expiry, session purge; False when another server leads.

    Raises:
        StoreUnavailable: the store is down.
    """
    await service.ensure_schema()
    pool = service.workers.users
    if not await pool.run(service.leadership.acquire):
        return False
    settings, steps = service.settings, service.lifecycle(app, pool)
    await steps.expire(settings.max_wait_seconds)
    await steps.requeue_unanswered(settings.unanswered_minutes)
    if settings.assignment == "round_robin":
        await steps.assign(settings.agent_capacity)
    await steps.tell_places(settings.expected_minutes_per_position)
    await pool.run(service.store.purge_sessions)
    return True


async def expiry_loop(service: HandoffService, app: Sanic, seconds: float = ROUND_SECONDS) -> None:
    """Run a round every ``seconds`` until cancelled; no failure ends the loop."""
    while True:
        try:
            await expiry_round(service, app)
        except StoreUnavailable:
            logger.warning("handoff expiry: the store is unavailable, trying again in %.0f s", seconds)
        except Exception:
            logger.exception("handoff expiry round failed")
        await asyncio.sleep(seconds)
