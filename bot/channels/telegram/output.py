"""Sending to Telegram: Rasa 3.6's ``TelegramOutput`` made safe to keep and to push through.

One instance serves the whole server (built when the channel is, without any network call;
aiogram opens its HTTP session on the first send, inside the running loop). Every call goes
through :meth:`WalletTelegramOutput.call`: a 429 is retried after its ``retry_after``, within
a bounded number of tries and seconds; every failure becomes a :class:`SendFailure` with a
reason of ``bot.handoff.push.REASONS`` and a redacted detail (the token is in every URL).
Texts are plain (no parse mode: nothing the bot or an agent writes is read as markup), split
at 4096 characters; buttons are an inline keyboard of short ids (``buttons.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import aiohttp
from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from aiogram.utils import exceptions as tg
from rasa.core.channels.telegram import TelegramOutput

from bot.channels.options import numbered_options
from bot.channels.telegram.buttons import Keyboards
from bot.channels.telegram.notices import Notices
from bot.channels.telegram.redaction import redact
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.telegram.splitting import split_text
from bot.channels.telegram.updates import chat_of

logger = logging.getLogger(__name__)

_UNSUBSCRIBED = (
    tg.BotBlocked,
    tg.UserDeactivated,
    tg.CantInitiateConversation,
    tg.BotKicked,
    tg.CantTalkWithBots,
)
_UNKNOWN_CHAT = (tg.ChatNotFound, tg.ChatIdIsEmpty, tg.InvalidUserId, tg.InvalidPeerID)
_SHORT_TITLE = 6  # buttons with titles this short ("1 分" … "5 分") share a row


class SendFailure(Exception):
    """Telegram did not take a message; ``reason`` is a ``bot.handoff.push.REASONS`` code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        """``detail`` is already redacted; it names the error, never the text sent."""
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class WalletTelegramOutput(TelegramOutput):
    """Sends to ``telegram:<chat id>`` conversations only; other senders are refused."""

    renders_buttons: ClassVar[bool] = True

    @classmethod
    def name(cls) -> str:
        """The channel's name, as Rasa records it."""
        return "telegram"

    def __init__(
        self,
        settings: TelegramSettings,
        notices: Notices,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        """Prepare the sender; nothing connects until the first call."""
        Bot.__init__(
            self,
            settings.token,
            server=TelegramAPIServer.from_base(settings.api_base),
            timeout=settings.request_timeout_seconds,
        )
        self.settings = settings
        self.notices = notices
        self.keyboards: Keyboards | None = None  # set when the server starts (shared state)
        self._sleep = sleep

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """One of the bot's replies in a turn. A reply Telegram refuses is logged, not raised:
        Rasa saves the turn only when every reply was sent, and the user's message and the
        bot's answer belong in the transcript even when the user has blocked the bot."""
        try:
            await super().send_response(recipient_id, message)
        except SendFailure as failure:
            logger.warning("telegram: a reply was not delivered: %s", failure)

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """One Bot API call, retried after 429s within the configured bounds.

        Raises:
            SendFailure: ``rate_limited`` (429s exhausted), ``unsubscribed`` (403: blocked,
                deactivated, never started), ``unknown_sender`` (no such chat), ``unavailable``.
        """
        waited = 0.0
        attempts = self.settings.send_attempts
        for attempt in range(1, attempts + 1):
            try:
                return await self.request(method, params)
            except tg.RetryAfter as error:
                wait = float(error.timeout)
                if attempt == attempts or waited + wait > self.settings.max_retry_wait_seconds:
                    raise SendFailure("rate_limited", f"{method}: retry after {error.timeout}s") from None
                waited += wait
                await self._sleep(wait)
            except Exception as error:
                raise self._failure(method, error) from None
        raise SendFailure("rate_limited", method)  # not reached: the loop returns or raises

    def _failure(self, method: str, error: Exception) -> SendFailure:
        detail = redact(f"{method}: {type(error).__name__}: {error}"[:300], self.settings.secrets)
        if isinstance(error, _UNSUBSCRIBED) or (
            isinstance(error, tg.Unauthorized) and "forbidden" in str(error).lower()
        ):
            return SendFailure("unsubscribed", detail)
        if isinstance(error, _UNKNOWN_CHAT):
            return SendFailure("unknown_sender", detail)
        if isinstance(error, (tg.TelegramAPIError, aiohttp.ClientError, asyncio.TimeoutError, OSError)):
            return SendFailure("unavailable", detail)
        return SendFailure("unavailable", redact(f"{method}: {type(error).__name__}", self.settings.secrets))

    @staticmethod
    def chat(recipient_id: str) -> int:
        """The chat of a conversation (SendFailure ``unknown_sender`` for another channel's)."""
        chat = chat_of(str(recipient_id))
        if chat is None:
            raise SendFailure("unknown_sender", "not a telegram conversation")
        return chat

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """A text, in as many messages as it needs."""
        chat = self.chat(recipient_id)
        for piece in split_text(text or ""):
            await self.call("sendMessage", {"chat_id": str(chat), "text": piece})

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        button_type: str | None = "inline",
        **kwargs: Any,
    ) -> None:
        """The text with an inline keyboard under its last piece; numbered text options when
        the keyboard cannot be stored (the user types the answer, which the NLU reads).
        Rasa's ``button_type`` is ignored: the keyboard is always inline."""
        chat = self.chat(recipient_id)
        shown = [b for b in buttons if isinstance(b, dict) and str(b.get("title") or "").strip()]
        try:
            markup = await self._keyboard(chat, shown)
        except Exception as error:
            logger.warning("telegram: keyboard not stored (%s); options sent as text", type(error).__name__)
            await self.send_text_message(recipient_id, numbered_options(text, shown))
            return
        if markup is None:
            await self.send_text_message(recipient_id, text)
            return
        # Telegram refuses a keyboard without a text.
        pieces = split_text(text or "") or [self.notices.text("choose")]
        for piece in pieces[:-1]:
            await self.call("sendMessage", {"chat_id": str(chat), "text": piece})
        keyboard = json.dumps(markup, ensure_ascii=False)
        await self.call("sendMessage", {"chat_id": str(chat), "text": pieces[-1], "reply_markup": keyboard})

    async def _keyboard(self, chat: int, buttons: list[dict[str, Any]]) -> dict[str, Any] | None:
        links = [b for b in buttons if _link(b)]
        choices = [b for b in buttons if not _link(b) and isinstance(b.get("payload"), str) and b["payload"]]
        if not links and not choices:
            return None
        keys: list[dict[str, str]] = [{"text": str(b["title"]), "url": str(b["url"])} for b in links]
        if choices:
            if self.keyboards is None:
                raise RuntimeError("the keyboard store is not open")
            ids = await self.keyboards.register(chat, [str(b["payload"]) for b in choices])
            keys += [{"text": str(b["title"]), "callback_data": i} for b, i in zip(choices, ids, strict=True)]
        if all(len(k["text"]) <= _SHORT_TITLE for k in keys):
            rows = [keys[i : i + 5] for i in range(0, len(keys), 5)]
        else:
            rows = [[k] for k in keys]
        return {"inline_keyboard": rows}

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """A picture by its http(s) URL."""
        chat = self.chat(recipient_id)
        if isinstance(image, str) and image.startswith(("https://", "http://")):
            await self.call("sendPhoto", {"chat_id": str(chat), "photo": image})

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        """An attachment's text, when it has one (nothing else is sent)."""
        if isinstance(attachment, str):
            await self.send_text_message(recipient_id, attachment)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """Only a custom payload's ``text`` (Rasa's version lets a payload's ``chat_id`` send to
        any chat, which would let one conversation address another)."""
        text = json_message.get("text") if isinstance(json_message, dict) else None
        if isinstance(text, str) and text.strip():
            await self.send_text_message(recipient_id, text)

    async def answer_button(self, query_id: str, text: str | None = None) -> None:
        """Stop the pressed button's spinner (with a short notice); failures are only logged."""
        params = {"callback_query_id": query_id}
        if text:
            params["text"] = text[:200]
        try:
            await self.call("answerCallbackQuery", params)
        except SendFailure as failure:
            logger.info("telegram: answerCallbackQuery failed: %s", failure.reason)

    async def close(self) -> None:
        """Close the HTTP session if one was opened."""
        session = self._session
        if session is not None and not session.closed:
            await session.close()


def _link(button: dict[str, Any]) -> bool:
    url = button.get("url")
    return isinstance(url, str) and url.startswith(("https://", "http://"))
