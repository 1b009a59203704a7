"""The user's side of a handoff, run by the channels after each user message: a user who is
waiting for a person and says "不用了" goes back to the bot."""

from __future__ import annotations

import logging

from sanic import Sanic

from bot.handoff import transcript
from bot.handoff.lifecycle import Lifecycle

logger = logging.getLogger(__name__)
STOP_WAITING_INTENTS = ("stop", "deny")


async def after_user_message(app: Sanic | None, sender_id: str) -> None:
    """Cancel the wait when the user no longer wants a person (never raises)."""
    store = getattr(getattr(app, "ctx", None), "handoff_store", None)
    if app is None or store is None:
        return
    try:
        handoff = store.active_for(sender_id)
        if handoff is None or handoff.status != "pending":
            return
        if await transcript.latest_intent(app.ctx.agent, sender_id) in STOP_WAITING_INTENTS:
            await Lifecycle(store, app).stop_waiting(handoff)
    except Exception:
        logger.exception("handoff gate failed")
