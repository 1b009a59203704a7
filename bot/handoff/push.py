"""Live delivery of agent messages and notices on the user's own channel.

A channel that can push implements ``async push(sender_id, message)`` with the conversation's
Rasa sender id (the widget's socket.io channel does: ``widget:<session id>`` is the session's
room). A channel raises ``NotDeliverable(reason)`` when the platform refuses or cannot take
the message, with one of the ``REASONS`` codes (the console shows it: a message is never lost
silently). Channels without push (REST) get nothing live; the message is in the transcript
either way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # the action server imports the reasons (via deliveries), not the server
    from sanic import Sanic

logger = logging.getLogger(__name__)


# Why a message did not reach the user (the console explains each in Chinese).
REASONS = {
    "window_closed": "用户超过 48 小时未互动，平台不允许再主动发送",
    "quota": "本次互动窗口内可发送的消息已用完",
    "unsubscribed": "用户已取消关注或停用了机器人",
    "rate_limited": "平台限流，稍后重试",
    "unknown_sender": "该渠道找不到这位用户",
    "unavailable": "渠道暂时不可用",
    "no_push": "该渠道不支持主动发送（消息已写入对话记录）",
}


class NotDeliverable(Exception):
    """The channel cannot deliver this message; ``reason`` is one of ``REASONS``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        """``detail`` is for the log (masked there); the reason code is for people."""
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason if reason in REASONS else "unavailable"
        self.detail = detail


@dataclass(frozen=True)
class Delivery:
    """What became of a push: delivered, or not and why (a ``REASONS`` code)."""

    delivered: bool
    reason: str | None = None

    @property
    def explanation(self) -> str | None:
        """The reason in the console's words."""
        return REASONS.get(self.reason) if self.reason else None

    def as_json(self) -> dict[str, Any]:
        """As the console's API returns it."""
        return {"delivered": self.delivered, "reason": self.reason, "explanation": self.explanation}


@runtime_checkable
class PushChannel(Protocol):
    """An input channel that can send to a user outside a request."""

    async def push(self, sender_id: str, message: dict[str, Any]) -> None:
        """Deliver one message to the user (``NotDeliverable`` when the platform refuses it)."""


def _channel(app: Sanic, channel_name: str | None) -> PushChannel | None:
    for channel in getattr(app.ctx, "input_channels", []) or []:
        if channel.name() == channel_name and isinstance(channel, PushChannel):
            return channel
    return None


async def push_each(
    app: Sanic, channel_name: str | None, sender_id: str, messages: list[dict[str, Any]]
) -> list[Delivery]:
    """Push messages to the user through the named channel, in order; one outcome each.

    After the first message the channel refuses, the rest are not tried (they would overtake
    it) and share its reason.
    """
    channel = _channel(app, channel_name)
    if channel is None:
        return [Delivery(False, "no_push") for _ in messages]
    outcomes: list[Delivery] = []
    for message in messages:
        if outcomes and not outcomes[-1].delivered:
            outcomes.append(outcomes[-1])
            continue
        try:
            await channel.push(sender_id, message)
        except NotDeliverable as error:
            logger.warning("push to channel %s not delivered: %s", channel_name, error)
            outcomes.append(Delivery(False, error.reason))
        except Exception:
            logger.exception("push to channel %s failed", channel_name)
            outcomes.append(Delivery(False, "unavailable"))
        else:
            outcomes.append(Delivery(True))
    return outcomes


async def push(
    app: Sanic, channel_name: str | None, sender_id: str, messages: list[dict[str, Any]]
) -> Delivery:
    """Push messages to the user through the named channel, stopping at the first refused."""
    if _channel(app, channel_name) is None:
        return Delivery(False, "no_push")
    outcomes = await push_each(app, channel_name, sender_id, messages)
    return next((d for d in outcomes if not d.delivered), Delivery(True))
