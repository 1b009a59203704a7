"""Telegram at /webhooks/telegram/webhook: Rasa 3.6's channel made correct.

Configured in credentials.yml as ``bot.channels.telegram.WalletTelegramInput: {}``; settings
from TELEGRAM_* environment variables (``settings.py``). Without TELEGRAM_TOKEN the channel
is off: no routes (404). With a token but no TELEGRAM_WEBHOOK_SECRET the server refuses to
start. What it mends in Rasa's ``TelegramInput``:

- every POST must carry ``X-Telegram-Bot-Api-Secret-Token`` (constant-time compare; 403);
  the webhook is registered with the secret by ``python -m bot.channels.telegram
  set-webhook`` at deploy time, never at start-up;
- one output channel, built once without any network call and usable outside a request
  (Rasa's ``get_output_channel`` runs ``asyncio.run`` inside the server's loop), so the
  handoff can push agent messages (:meth:`WalletTelegramInput.push`);
- ``update_id`` dedupe in the shared state; edited messages and other updates ignored; a
  text-only answer to stickers and photos; button presses answered (answerCallbackQuery)
  and carried by short server-side ids; texts split at 4096; 429s retried, bounded;
- senders ``telegram:<chat id>``, private chats only (in a private chat the chat id is the
  user's id, and one conversation is one person: a group would share one verified identity);
- the token and the secret never logged (``redaction.py``), texts masked (``bot.masking``).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput
from sanic import Blueprint, Sanic, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.shared_state import SharedState, shared_state
from bot.channels.telegram.notices import Notices, load_notices
from bot.channels.telegram.output import SendFailure, WalletTelegramOutput
from bot.channels.telegram.redaction import install_redaction
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.telegram.updates import SECRET_HEADER, chat_of, secret_matches
from bot.channels.telegram.webhook import UpdateHandler
from bot.handoff.gate import after_user_message
from bot.handoff.push import NotDeliverable
from bot.masking import install_log_masking

__all__ = ["WalletTelegramInput", "WalletTelegramOutput"]

logger = logging.getLogger(__name__)
DRAIN_MIN_BYTES = 2 * 1024 * 1024


class WalletTelegramInput(TelegramInput):
    """The Telegram channel (off when ``settings`` is None)."""

    @classmethod
    def name(cls) -> str:
        """Trackers record the channel as ``telegram``; routes live under /webhooks/telegram."""
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WalletTelegramInput:
        """Build the channel from the environment (TelegramSettingsError stops the server)."""
        install_log_masking()
        settings = TelegramSettings.from_env(os.environ)
        if settings is None:
            logger.info("Telegram channel off: TELEGRAM_TOKEN is not set")
        return cls(settings)

    def __init__(
        self,
        settings: TelegramSettings | None,
        state: Callable[[], SharedState] = shared_state,
        notices: Notices | None = None,
    ) -> None:
        """Create the channel and its one output channel; nothing connects yet."""
        super().__init__(settings.token if settings else None, None, None, debug_mode=False)
        self.settings = settings
        self._open_state = state
        self._output: WalletTelegramOutput | None = None
        self._handler: UpdateHandler | None = None
        self._opening: asyncio.Lock | None = None
        if settings is not None:  # off, the channel reads nothing (a server without Telegram)
            install_redaction(settings.secrets)
            self.notices = notices or load_notices()
            self._output = WalletTelegramOutput(settings, self.notices)

    def get_output_channel(self) -> WalletTelegramOutput | None:  # type: ignore[override]
        """The channel's one output channel (None when off); never a network call."""
        return self._output

    async def push(self, sender_id: str, message: dict[str, Any]) -> None:
        """Send an agent message or a handoff notice to the user's chat.

        Raises:
            NotDeliverable: ``unknown_sender`` (not a Telegram conversation), ``unsubscribed``
                (the user blocked the bot), ``rate_limited`` (429s exhausted), ``unavailable``.
        """
        if chat_of(sender_id) is None:
            raise NotDeliverable("unknown_sender", "not a telegram conversation")
        if self._output is None:
            raise NotDeliverable("unavailable", "the telegram channel is off")
        text = str(message.get("text") or "")
        if message.get("role") == "agent" and message.get("agent_name") and text:
            text = self.notices.text("agent_message", agent=message["agent_name"], text=text)
        buttons = message.get("buttons")
        try:
            if isinstance(buttons, list) and buttons:
                await self._output.send_text_with_buttons(sender_id, text, buttons)
            elif text.strip():
                await self._output.send_text_message(sender_id, text)
        except SendFailure as failure:
            raise NotDeliverable(failure.reason, failure.detail) from None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The webhook (none when the channel is off)."""
        bp = Blueprint("telegram_webhook", __name__)
        settings, output = self.settings, self._output
        if settings is None or output is None:
            return bp

        @bp.listener("after_server_start")
        async def start(app: Sanic, _: Any) -> None:
            await self._updates(app, on_new_message)

        @bp.listener("before_server_stop")
        async def stop(app: Sanic, _: Any) -> None:
            await output.close()

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"], stream=True)
        async def webhook(request: Request) -> HTTPResponse:
            if not secret_matches(request.headers.get(SECRET_HEADER), settings.webhook_secret):
                logger.info("telegram webhook refused a request: forbidden")
                _limit_drain(request, settings.max_body_bytes)
                return response.json({"error": "forbidden"}, status=403)
            body = await _read_body(request, settings.max_body_bytes)
            if body is None:
                logger.info("telegram webhook refused a request: too_large")
                return response.json({"error": "too_large"}, status=413)
            handler = await self._updates(request.app, on_new_message)
            if handler is None:  # the shared state cannot be opened: Telegram delivers it again
                return response.json({"error": "unavailable"}, status=503)
            answer = await handler.handle(body)
            return response.json(answer.body, status=answer.status)

        return bp

    async def _updates(
        self, app: Sanic, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> UpdateHandler | None:
        """The update handler, made when the server starts, or on a later request if the
        shared state could not be opened then (None while it still cannot)."""
        if self._handler is not None or self.settings is None or self._output is None:
            return self._handler
        self._opening = self._opening or asyncio.Lock()
        async with self._opening:
            if self._handler is None:
                try:
                    state = await asyncio.to_thread(self._open_state)  # opens a database: off the loop
                except Exception as error:
                    logger.warning(
                        "telegram: shared state unavailable (%s); retried on the next update",
                        type(error).__name__,
                    )
                    return None

                async def gate(sender_id: str) -> None:
                    await after_user_message(app, sender_id)

                handler = UpdateHandler(
                    self.settings, self._output, self.notices, state, on_new_message, gate
                )
                self._output.keyboards = handler.keyboards
                self._handler = handler
        return self._handler


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is longer than ``limit`` bytes (nothing more is read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        _limit_drain(request, limit)
        return None
    chunks: list[bytes] = []
    size = 0
    if request.stream is None:
        return b""
    try:
        async for chunk in request.stream:
            size += len(chunk)
            if size > limit:
                _limit_drain(request, limit)
                return None
            chunks.append(chunk)
    except PayloadTooLarge:
        return None
    return b"".join(chunks)


def _limit_drain(request: Request, limit: int) -> None:
    """After an early answer Sanic reads the rest of the body (so the client sees the answer)
    up to the server's own limit (100 MB); a body longer than a few times ours has the
    connection closed instead."""
    if request.stream is not None:
        request.stream.request_max_size = max(8 * limit, DRAIN_MIN_BYTES)
