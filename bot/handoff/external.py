"""Events the handoff starts in a conversation from outside a user's message: the bot's turn
after a waiting user's request expired into a message (``EXTERNAL_message_left``: the bot asks
an anonymous user for a contact, or opens the ticket of a verified one).

The turn runs under the conversation's lock, as Rasa's own ``trigger_intent`` route does; what
the bot says is in the transcript (Rasa saves it) and is pushed to the user's channel, each
outcome recorded like an agent's message, so nothing is lost when the user is not connected.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel
from sanic import Sanic

from bot.handoff.push import Delivery, push_each

logger = logging.getLogger(__name__)
MESSAGE_LEFT_INTENT = "EXTERNAL_message_left"


def _as_push(message: dict[str, Any]) -> dict[str, Any]:
    pushed: dict[str, Any] = {"text": str(message.get("text") or ""), "role": "bot"}
    if message.get("buttons"):
        pushed["buttons"] = message["buttons"]
    return pushed


async def trigger(app: Sanic, sender_id: str, channel: str | None, intent: str) -> list[Delivery]:
    """Run the bot's turn for ``intent`` in the conversation and push what it says."""
    agent: Agent = app.ctx.agent
    collector = CollectingOutputChannel()
    async with agent.lock_store.lock(sender_id):
        tracker = await agent.tracker_store.get_or_create_tracker(sender_id)
        await agent.trigger_intent(intent, [], collector, tracker)
    said = [_as_push(m) for m in collector.messages if m.get("text")]
    if not said:
        return []
    return await push_each(app, channel, sender_id, said)


async def message_left(app: Sanic, sender_id: str, channel: str | None) -> None:
    """The bot's turn after a request became a message (never raises: the sweep goes on)."""
    try:
        outcomes = await trigger(app, sender_id, channel, MESSAGE_LEFT_INTENT)
    except Exception:
        logger.exception("handoff: the bot's turn after a message was left failed")
        return
    failed = [d.reason for d in outcomes if not d.delivered]
    if failed:
        logger.info("handoff: %d of the bot's messages after a message left not delivered", len(failed))
