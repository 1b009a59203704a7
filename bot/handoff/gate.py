"""The user's side of a handoff, run by the channels after each user message: a user who is
waiting for a person and explicitly stops waiting ("不等了", "不用了", "取消转人工", the queue
notice's button) goes back to the bot.

The store is read only when the conversation may be waiting: a user who waits for a person
has a paused conversation (``action_handoff`` pauses it when it queues them), so when this
process has just saved the user's turn unpaused, there is nothing to look up (the lookup was a
tenth of the Rasa server's CPU per message).

Nothing else cancels a wait: not the classifier's deny or stop ("不", "不是我操作的"), so an
urgent security handoff is never dropped by a denial. The store is read in the users' pool,
off the event loop, with a time limit; when it is down a user who asked to stop waiting is
told that it did not work (the bot stays paused) and nothing else changes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.handoff import transcript
from bot.handoff.cancel import is_explicit_cancel, load_words
from bot.handoff.errors import Conflict, StoreUnavailable
from bot.handoff.models import Handoff
from bot.handoff.service import HandoffService, service_of
from bot.runtime.turns import paused_after_turn

logger = logging.getLogger(__name__)


async def after_user_message(app: Any, sender_id: str) -> None:
    """Cancel the wait when the user explicitly stops waiting (never raises)."""
    service = service_of(app)
    if service is None:
        return
    if paused_after_turn(sender_id) is False:
        return  # a waiting user's conversation is paused (action_handoff): nobody waits here
    try:
        await _gate(app, service, sender_id)
    except Exception:
        logger.exception("handoff gate failed")


async def _pending(service: HandoffService, sender_id: str) -> Handoff | None:
    read = service.workers.users.run(service.store.active_for, sender_id)
    try:
        handoff = await asyncio.wait_for(read, timeout=service.settings.db_timeout_seconds)
    except asyncio.TimeoutError as error:
        raise StoreUnavailable("the handoff store did not answer in time") from error
    return handoff if handoff is not None and handoff.status == "pending" else None


async def _gate(app: Any, service: HandoffService, sender_id: str) -> None:
    words = load_words()
    pool = service.workers.users
    try:
        handoff = await _pending(service, sender_id)
    except StoreUnavailable:
        logger.warning("handoff gate: the store is unavailable")
        turn = await transcript.latest_turn(app.ctx.agent, sender_id, pool)
        if turn is not None and turn.paused and is_explicit_cancel(turn.text, turn.answer, words):
            await service.lifecycle(app, pool).cancel_failed(sender_id, turn.channel)
        return
    if handoff is None:
        return
    turn = await transcript.latest_turn(app.ctx.agent, sender_id, pool)
    if turn is None or not is_explicit_cancel(turn.text, turn.answer, words):
        return
    steps = service.lifecycle(app, pool)
    try:
        await asyncio.shield(steps.stop_waiting(handoff))  # finished even if the user's request ends
    except Conflict:  # an agent took it (or it expired) a moment ago: nothing to cancel
        return
    except StoreUnavailable:
        logger.warning("handoff gate: the store is unavailable")
        await steps.cancel_failed(sender_id, handoff.channel)
