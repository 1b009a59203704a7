"""Live delivery of agent messages and notices on the user's own channel.

A channel that can push implements ``async push(sender_id, message)`` with the conversation's
Rasa sender id (the widget's socket.io channel does: ``widget:<session id>`` is the session's
room). A channel raises ``NotDeliverable`` for a sender it cannot address. Channels without
push (REST) get nothing live; the message is in the transcript either way.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol, runtime_checkable

from sanic import Sanic

logger = logging.getLogger(__name__)


class NotDeliverable(Exception):
    """The channel cannot reach this sender (not one of its conversations, or not running)."""


@runtime_checkable
class PushChannel(Protocol):
    """An input channel that can send to a user outside a request."""

    async def push(self, sender_id: str, message: dict[str, Any]) -> None:
        """Deliver one message to the user."""


async def push(app: Sanic, channel_name: str | None, sender_id: str, messages: list[dict[str, Any]]) -> bool:
    """Push messages to the user through the named channel; False when it cannot push."""
    for channel in getattr(app.ctx, "input_channels", []) or []:
        if channel.name() == channel_name and isinstance(channel, PushChannel):
            for message in messages:
                try:
                    await channel.push(sender_id, message)
                except NotDeliverable as error:
                    logger.warning("push to channel %s not delivered: %s", channel_name, error)
                    return False
                except Exception:
                    logger.exception("push to channel %s failed", channel_name)
                    return False
            return True
    return False
