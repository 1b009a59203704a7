"""What the channel does with one verified webhook body.

The answer is 200 for every update, handled or ignored (Telegram delivers again anything
else, for up to a day), except: 400 for a body that is not an update (``invalid_json``,
``invalid_update``), and 503 when the shared state cannot say whether the update is new (so
Telegram delivers it again later instead of the bot answering it twice). The route answers
403 for a missing or wrong secret and 413 for a body over the limit before this is reached.

Each ``update_id`` is claimed in the shared state (all instances see it) before anything is
done: a re-delivered update is one turn. A turn runs shielded, so Telegram dropping the
connection does not cut it in half. Nothing here logs a text, a payload or a chat id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import UserMessage

from bot.channels.shared_state import SharedState
from bot.channels.telegram.buttons import Keyboards
from bot.channels.telegram.notices import Notices
from bot.channels.telegram.output import SendFailure, WalletTelegramOutput
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.telegram.updates import (
    ButtonPress,
    GroupMessage,
    Ignored,
    OtherMessage,
    TextMessage,
    Update,
    UpdateError,
    parse_body,
    sender_of,
)
from bot.ratelimit import rate_limiter

logger = logging.getLogger(__name__)

# Telegram keeps an undelivered update for 24 hours: remember ids a little longer.
DEDUPE_TTL_SECONDS = 26 * 3600


@dataclass(frozen=True)
class Answer:
    """The webhook's HTTP answer."""

    status: int
    body: dict[str, Any]


OK = Answer(200, {"ok": True})


class UpdateHandler:
    """Dedupe, dispatch by kind, run the turn, then the handoff gate."""

    def __init__(
        self,
        settings: TelegramSettings,
        output: WalletTelegramOutput,
        notices: Notices,
        state: SharedState,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        after_turn: Callable[[str], Awaitable[None]],
    ) -> None:
        """Bind the handler to the server's output channel, shared state and Rasa."""
        self.settings = settings
        self.output = output
        self.notices = notices
        self.state = state
        self.keyboards = Keyboards(state, settings.button_ttl_seconds)
        self.on_new_message = on_new_message
        self.after_turn = after_turn
        self._limiter = rate_limiter(settings.rate_limit_per_minute, 60.0, "telegram")
        self._told_to_slow_down = rate_limiter(1, 60.0, "telegram-notice")

    async def handle(self, body: bytes) -> Answer:
        """Answer one webhook body whose secret was verified."""
        try:
            update = parse_body(body)
        except UpdateError as error:
            logger.info("telegram webhook refused a body: %s", error.code)
            return Answer(400, {"error": error.code})
        key = f"telegram:update:{self.settings.bot_id}:{update.update_id}"
        try:
            first = await self.state.claim(key, DEDUPE_TTL_SECONDS)
        except Exception as error:
            logger.warning(
                "telegram webhook: shared state unavailable (%s); update left for a retry",
                type(error).__name__,
            )
            return Answer(503, {"error": "unavailable"})
        if not first:
            logger.info("telegram webhook: update %s already handled", update.update_id)
            return OK
        try:
            await asyncio.shield(self._dispatch(update))
        except Exception:
            logger.exception("telegram webhook: handling update %s failed", update.update_id)
        return OK

    async def _dispatch(self, update: Update) -> None:
        if isinstance(update, Ignored):
            logger.info("telegram webhook: ignored an update (%s)", update.kind)
        elif isinstance(update, GroupMessage):
            if await self._limiter.admit(sender_of(update.chat_id)):
                await self._notify(update.chat_id, "group_chat")
        elif isinstance(update, OtherMessage):
            if await self._allowed(update.chat_id):
                await self._notify(update.chat_id, "non_text")
        elif isinstance(update, TextMessage):
            if await self._allowed(update.chat_id):
                metadata = {"telegram": {"update_id": update.update_id, "message_id": update.message_id}}
                await self._turn(update.chat_id, self.notices.command(update.text), metadata)
        else:
            await self._pressed(update)

    async def _pressed(self, press: ButtonPress) -> None:
        try:
            pressed = await self.keyboards.press(press.chat_id, press.data)
        except Exception as error:
            logger.warning("telegram webhook: keyboard lookup failed (%s)", type(error).__name__)
            await self.output.answer_button(press.query_id, self.notices.text("busy"))
            return
        if pressed.payload is None:
            problem = "button_used" if pressed.problem == "used" else "button_expired"
            await self.output.answer_button(press.query_id, self.notices.text(problem))
            return
        await self.output.answer_button(press.query_id)
        if await self._allowed(press.chat_id):
            await self._turn(press.chat_id, pressed.payload, {"telegram": {"update_id": press.update_id}})

    async def _allowed(self, chat_id: int) -> bool:
        """Within the chat's rate limit; a flood is told once a minute to slow down."""
        sender = sender_of(chat_id)
        if await self._limiter.admit(sender):
            return True
        logger.info("telegram webhook: a chat is over its rate limit")
        if await self._told_to_slow_down.admit(sender):
            await self._notify(chat_id, "rate_limited")
        return False

    async def _turn(self, chat_id: int, text: str, metadata: dict[str, Any]) -> None:
        sender = sender_of(chat_id)
        message = UserMessage(text, self.output, sender, input_channel="telegram", metadata=metadata)
        try:
            await self.on_new_message(message)
        except Exception:
            logger.exception("telegram webhook: handling a message failed")
            await self._notify(chat_id, "busy")
            return
        await self.after_turn(sender)

    async def _notify(self, chat_id: int, name: str) -> None:
        try:
            await self.output.send_text_message(sender_of(chat_id), self.notices.text(name))
        except SendFailure as failure:
            logger.info("telegram: notice %s not delivered: %s", name, failure.reason)
