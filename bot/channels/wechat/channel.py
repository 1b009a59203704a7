"""The WeChat Official Account (公众号) channel: ``/webhooks/wechat/webhook``.

GET is the server-configuration handshake (``echostr`` when the signature is valid). POST
carries a message or an event: verified (webhook.py), claimed once (turns.py), then

- text, and voice with ``Recognition``: a bot turn with the text;
- image: fetched by MediaId, checked and kept for the console and the ticket (media.py);
- ``subscribe``: a bot turn with ``/greet`` (the welcome and the topics);
- ``unsubscribe``: the user is marked unreachable (a push then says so), no turn;
- ``CLICK``: the menu key's payload (menu.yml) as a bot turn;
- other events (VIEW, SCAN, LOCATION, …): ``success``, no turn; other message types (video,
  location, link, …) and voice without recognition: a polite notice.

Senders are ``wechat:<openid>``. Buttons become numbered options; texts are split at 2048
bytes. The channel is off (no routes) when ``WECHAT_TOKEN`` is unset.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.shared_state import SharedState, shared_state
from bot.channels.wechat import notices
from bot.channels.wechat.api import WeChatApi
from bot.channels.wechat.crypto import MessageCipher
from bot.channels.wechat.errors import NotDelivered, RequestRefused
from bot.channels.wechat.inbound import Inbound
from bot.channels.wechat.logs import redact_webhook_urls
from bot.channels.wechat.media import receive_image
from bot.channels.wechat.menu import Menu, load_menu
from bot.channels.wechat.notices import notice
from bot.channels.wechat.outbound import compose
from bot.channels.wechat.output import WeChatCollector, WeChatOutput
from bot.channels.wechat.reach import Reachability
from bot.channels.wechat.settings import WeChatSettings
from bot.channels.wechat.turns import Produce, TurnLedger, TurnRunner, user_ref
from bot.channels.wechat.webhook import check_query, read_body, read_inbound
from bot.handoff.gate import after_user_message
from bot.handoff.push import NotDeliverable
from bot.masking import install_log_masking
from bot.ratelimit import rate_limiter

logger = logging.getLogger(__name__)

SENDER_PREFIX = "wechat:"
GREETING = "/greet"
_OPENID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_XML = "application/xml; charset=utf-8"


def openid_of(sender_id: str) -> str | None:
    """The openid of a ``wechat:<openid>`` conversation, else None."""
    if not sender_id.startswith(SENDER_PREFIX):
        return None
    openid = sender_id[len(SENDER_PREFIX) :]
    return openid if _OPENID.fullmatch(openid) else None


class WeChatInput(InputChannel):
    """Configured in credentials.yml as ``bot.channels.wechat.WeChatInput`` (settings from
    the environment: settings.py)."""

    @classmethod
    def name(cls) -> str:
        """URL /webhooks/wechat/webhook; trackers record the channel as ``wechat``."""
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeChatInput:
        """Build the channel from its credentials.yml section and the environment.

        Raises:
            WeChatSettingsError: a setting is missing or has a bad value.
        """
        install_log_masking()
        redact_webhook_urls()
        settings = WeChatSettings.load(credentials, os.environ)
        if settings is None:
            logger.info("wechat channel is off: WECHAT_TOKEN is not set")
        return cls(settings)

    def __init__(
        self,
        settings: WeChatSettings | None,
        state: SharedState | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        menu: Menu | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Create the channel (None settings: off). ``state`` is the shared channel state
        (default: ``shared_state()``, opened on first use); ``transport`` and ``clock`` are for
        tests. The menu and the notices are read here, at start."""
        self.settings = settings
        self._state = state
        self._clock = clock
        self.api: WeChatApi | None = None
        self._cipher: MessageCipher | None = None
        if settings is None:
            return
        notices.preload()
        self.menu = menu or load_menu()
        self.api = WeChatApi(settings, state, transport)
        if settings.aes_key:
            self._cipher = MessageCipher(
                settings.token, settings.aes_key, settings.app_id, settings.previous_aes_key
            )
        self._limiter = rate_limiter(settings.rate_limit_per_minute, 60.0, "wechat")
        self.turns = TurnRunner(TurnLedger(self.state, settings.app_id), self._deliver)
        self._reach = Reachability(self.state, settings.app_id)

    def state(self) -> SharedState:
        """The shared channel state."""
        if self._state is None:
            self._state = shared_state()
        return self._state

    def get_output_channel(self) -> OutputChannel | None:
        """Sends through 客服消息 (None when the channel is off)."""
        return WeChatOutput(self.push) if self.settings is not None else None

    # --- the routes -------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """GET and POST /webhook (no routes when the channel is off)."""
        bp = Blueprint("wechat_webhook", __name__)
        settings = self.settings
        if settings is None:
            return bp
        redact_webhook_urls()

        @bp.listener("before_server_stop")
        async def finish(app: Sanic, _: Any) -> None:
            await self.turns.drain(timeout=10.0)
            if self.api is not None:
                await self.api.aclose()

        async def handshake(request: Request) -> HTTPResponse:
            try:
                query = check_query(_args(request), settings, self._clock(), handshake=True)
            except RequestRefused as error:
                logger.info("wechat webhook refused a handshake: %s", error.code)
                return error.to_response()
            logger.info("wechat webhook: server configuration handshake verified")
            return response.text(query.echostr or "", headers={"X-Content-Type-Options": "nosniff"})

        async def receive(request: Request) -> HTTPResponse:
            deadline = asyncio.get_running_loop().time() + settings.reply_budget_seconds
            try:
                query = check_query(_args(request), settings, self._clock())
                length = request.headers.get("content-length")
                body = await read_body(request.stream or _no_body(), length, settings.max_body_bytes)
                inbound, key = read_inbound(query, body, settings, self._cipher)
            except RequestRefused as error:
                logger.info("wechat webhook refused a request: %s", error.code)
                return error.to_response()
            try:
                reply = await self._answer(request.app, inbound, on_new_message, deadline)
            except Exception:
                logger.exception("wechat webhook: handling a message failed")
                reply = None
            if reply is None:
                return response.text("success")
            if self._cipher is not None:
                reply = self._cipher.reply(reply, query.nonce, str(int(self._clock())), key=key)
            return response.text(reply, content_type=_XML)

        bp.add_route(handshake, "/webhook", methods=["GET"], name="wechat_handshake")
        bp.add_route(receive, "/webhook", methods=["POST"], name="wechat_receive", stream=True)
        return bp

    # --- what each message does --------------------------------------------
    async def _answer(
        self,
        app: Any,
        inbound: Inbound,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        deadline: float,
    ) -> str | None:
        """The passive reply's XML, or None for ``success``."""
        produce = await self._plan(app, inbound, on_new_message)
        if produce is None:
            return None
        return await self.turns.respond(inbound, produce, deadline)

    async def _plan(
        self, app: Any, inbound: Inbound, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Produce | None:
        """What the message causes (None: nothing to say, answer ``success``)."""
        assert self.settings is not None
        if inbound.kind == "event":
            return await self._plan_event(app, inbound, on_new_message)
        if inbound.kind == "text" or (inbound.kind == "voice" and inbound.text.strip()):
            if len(inbound.text) > self.settings.max_message_chars:
                return self._say("too_long", max_chars=self.settings.max_message_chars)
            return self._turn(app, inbound, inbound.text, on_new_message)
        if inbound.kind == "voice":
            return self._say("please_type")
        if inbound.kind == "image" and inbound.media_id:
            return self._limited(inbound, self._image(app, inbound, inbound.media_id))
        return self._say("unsupported")

    async def _plan_event(
        self, app: Any, inbound: Inbound, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Produce | None:
        if inbound.event == "subscribe":
            await self._reach.returned(inbound.openid)
            return self._turn(app, inbound, GREETING, on_new_message)
        if inbound.event == "unsubscribe":
            await self._reach.left(inbound.openid)
            logger.info("wechat channel: user %s unsubscribed", user_ref(inbound.openid))
            return None
        if inbound.event == "click":
            payload = self.menu.payload_for(inbound.event_key)
            if payload is None:
                return self._say("unknown_menu")
            return self._turn(app, inbound, payload, on_new_message)
        return None

    def _say(self, name: str, **values: object) -> Produce:
        text = notice(name, **values)

        async def say() -> list[dict[str, Any]]:
            return [{"text": text}]

        return say

    def _limited(self, inbound: Inbound, produce: Produce) -> Produce:
        """The turn, unless the user sends too fast (counted once per message, not per copy)."""

        async def limited() -> list[dict[str, Any]]:
            if not await self._limiter.admit(inbound.sender_id):
                logger.info("wechat channel: user %s is rate limited", user_ref(inbound.openid))
                return [{"text": notice("rate_limited")}]
            return await produce()

        return limited

    def _turn(
        self,
        app: Any,
        inbound: Inbound,
        text: str,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> Produce:
        async def turn() -> list[dict[str, Any]]:
            collector = WeChatCollector()
            metadata = {"wechat": {"msg_type": inbound.kind, "event": inbound.event}}
            message_id = f"wechat-{inbound.msg_id}" if inbound.msg_id else None
            await on_new_message(
                UserMessage(
                    text.replace("\x00", ""),
                    collector,
                    inbound.sender_id,
                    input_channel=self.name(),
                    message_id=message_id,
                    metadata=metadata,
                )
            )
            await after_user_message(app, inbound.sender_id)
            return list(collector.messages)

        return self._limited(inbound, turn)

    def _image(self, app: Any, inbound: Inbound, media_id: str) -> Produce:
        async def image() -> list[dict[str, Any]]:
            assert self.api is not None and self.settings is not None
            limit = self.settings.max_image_bytes
            text = await receive_image(app, self.api, inbound.sender_id, media_id, limit)
            return [{"text": text}]

        return image

    # --- sending outside a request -------------------------------------------
    async def _deliver(self, inbound: Inbound, texts: list[str]) -> None:
        """A turn's texts through 客服消息; what the platform refuses is logged with why."""
        assert self.api is not None
        for sent, text in enumerate(texts):
            try:
                await self.api.send_text(inbound.openid, text)
            except NotDelivered as error:
                logger.warning(
                    "wechat channel: %d of %d messages to user %s not delivered: %s (errcode %s)",
                    len(texts) - sent,
                    len(texts),
                    user_ref(inbound.openid),
                    error.reason,
                    error.errcode,
                )
                if error.reason == "unsubscribed":
                    await self._reach.left(inbound.openid)
                return

    async def push(self, sender_id: str, message: dict[str, Any]) -> None:
        """Send an agent message or a notice through 客服消息 (the handoff's push).

        Raises:
            NotDeliverable: ``unknown_sender`` (not a WeChat conversation), ``unsubscribed``,
            ``window_closed`` (45015), ``quota`` (45047), ``rate_limited`` (45009) or
            ``unavailable`` (the channel is off, or the platform cannot be reached).
        """
        if self.api is None:
            raise NotDeliverable("unavailable", "the WeChat channel is off")
        openid = openid_of(sender_id)
        if openid is None:
            raise NotDeliverable("unknown_sender", "not a WeChat conversation")
        if await self._reach.unreachable(openid):
            raise NotDeliverable("unsubscribed", f"user {user_ref(openid)}")
        for text in compose([message]):
            try:
                await self.api.send_text(openid, text)
            except NotDelivered as error:
                if error.reason == "unsubscribed":
                    await self._reach.left(openid)
                raise NotDeliverable(error.reason, f"errcode {error.errcode}") from error


def _args(request: Request) -> dict[str, list[str]]:
    """The query's values by name (every value of a repeated name)."""
    return {name: list(values) for name, values in request.args.items()}


async def _no_body() -> AsyncIterator[bytes]:
    """An empty body stream."""
    return
    yield b""
