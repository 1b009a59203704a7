"""Rasa's output channels for WeChat: the collector of one turn's messages (sent as the
passive reply or through 客服消息), and the channel Rasa uses outside a request."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel

from bot.channels.options import TextOnlyCollectingOutputChannel, TextOptionsMixin
from bot.handoff.push import NotDeliverable

logger = logging.getLogger(__name__)

Push = Callable[[str, dict[str, Any]], Awaitable[None]]


class WeChatCollector(TextOnlyCollectingOutputChannel):
    """Collects one turn's messages; WeChat shows no buttons (numbered options instead)."""

    renders_buttons = False

    @classmethod
    def name(cls) -> str:
        """Responses may have ``channel: wechat`` variants."""
        return "wechat"


class WeChatOutput(TextOptionsMixin, OutputChannel):
    """The output channel of a WeChat conversation outside a request (Rasa's
    ``trigger_intent`` with ``output_channel=latest``): sends through 客服消息; what the
    platform refuses is logged with its reason."""

    renders_buttons = False

    def __init__(self, push: Push) -> None:
        """Send through ``push`` (the input channel's)."""
        self._push = push

    @classmethod
    def name(cls) -> str:
        """The channel's name."""
        return "wechat"

    async def _send(self, recipient_id: str, message: dict[str, Any]) -> None:
        try:
            await self._push(recipient_id, message)
        except NotDeliverable as error:
            logger.warning("wechat channel: a message was not delivered: %s", error.reason)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """A text through 客服消息."""
        await self._send(recipient_id, {"text": text})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """An image, as a link."""
        await self._send(recipient_id, {"image": image})
