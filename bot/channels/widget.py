"""The website widget's channel: Rasa's socket.io channel with server-issued sessions, input
limits, de-duplication of resent messages, and the widget's HTTP routes (widget_routes).

Socket events (path /socket.io):
    -> session_request {session_token?}   <- session_confirm {session_id, session_token, resumed}
       A valid proof resumes its session; anything else gets a new server-made session. The
       socket is then bound to that one session (and its room ``widget:<session id>``).
    -> user_uttered {message, session_id, customData: {client_message_id?, identity_token?}}
       <- message_ack {client_message_id}, then bot_uttered to the session's room (every tab)
    <- wallet_error {code, message, client_message_id?} for anything refused (nothing is
       processed): session_required, session_mismatch (not this socket's session),
       identity_changed (a token for another account: start a new session), invalid_event,
       message_too_long, rate_limited, internal_error.
Agent messages and notices arrive through ``push`` (bot/handoff/push.py) in the same room.

Several instances: with ``SOCKETIO_REDIS_URL`` the rooms span every instance (widget_bus), and
with a Redis ``CHANNEL_STATE_URL`` the rate limit, the resent-message ids and the identity
bindings are shared (bot.ratelimit, widget_dedupe, widget_identity); otherwise each lives in
this process, which is right for one server.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic
from socketio import AsyncServer

from bot.channels.socket_events import CLIENT_MESSAGE_ID, EventError, UserEvent, parse_user_event
from bot.channels.widget_bus import client_manager, emit_reached
from bot.channels.widget_cors import socket_origin_check
from bot.channels.widget_dedupe import message_dedupe
from bot.channels.widget_identity import identity_bindings, token_subject
from bot.channels.widget_routes import register_routes
from bot.channels.widget_sessions import resume_or_issue, sender_of, session_of, sign_session
from bot.channels.widget_settings import WidgetSettings
from bot.channels.widget_upload import register_upload
from bot.handoff.gate import after_user_message
from bot.handoff.push import NotDeliverable
from bot.masking import install_log_masking
from bot.ratelimit import rate_limiter

logger = logging.getLogger(__name__)
MAX_SOCKET_PAYLOAD_BYTES = 256 * 1024


class WidgetOutput(SocketIOOutput):
    """Rasa's socket.io output: the widget shows buttons (and reads typed answers too)."""

    renders_buttons = True


class WidgetSocketIOInput(SocketIOInput):
    """Configured in credentials.yml as ``bot.channels.widget.WidgetSocketIOInput``."""

    @classmethod
    def name(cls) -> str:
        """Trackers record the channel as ``socketio``."""
        return "socketio"

    def url_prefix(self) -> str:
        """The widget's routes live under /widget (the socket itself under /socket.io)."""
        return "/widget"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WidgetSocketIOInput:
        """Build the channel from its credentials.yml section and the environment."""
        install_log_masking()
        return cls(WidgetSettings.load(credentials, os.environ))

    def __init__(self, settings: WidgetSettings) -> None:
        """Create the channel; the socket path is /socket.io."""
        super().__init__(session_persistence=True, metadata_key="customData")
        self.settings = settings
        self.max_message_chars = settings.max_message_chars
        self._limiter = rate_limiter(settings.rate_limit_per_minute, 60.0, "widget")
        self._seen = message_dedupe()
        self._identities = identity_bindings()
        self._app: Sanic | None = None

    async def push(self, sender_id: str, message: dict[str, Any]) -> None:
        """Send an agent message or a notice to every tab of the session (its room).

        With several instances the message goes to the room on every instance (widget_bus).

        Raises:
            NotDeliverable: the sender is not a widget conversation, the socket is not running,
                or the other instances could not be reached.
        """
        if session_of(sender_id) is None:
            raise NotDeliverable("unknown_sender", "not a widget conversation")
        if self.sio is None:
            raise NotDeliverable("unavailable", "the widget socket is not running")
        if not await emit_reached(self.sio, self.bot_message_evt, message, sender_id):
            raise NotDeliverable("unavailable", "the instances' message bus did not take it")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The socket.io server and the widget's HTTP routes."""
        sio = AsyncServer(
            async_mode="sanic",
            client_manager=client_manager(self.settings.socketio_redis_url, self.settings.socketio_channel),
            cors_allowed_origins=socket_origin_check(self.settings.cors_allowed_origins),
            cors_credentials=False,  # the widget sends no cookies
            max_http_buffer_size=MAX_SOCKET_PAYLOAD_BYTES,
        )
        bp = SocketBlueprint(sio, self.socketio_path or "/socket.io", "widget_socketio", __name__)
        self.sio = sio

        @bp.listener("after_server_start")
        async def keep_app(app: Sanic, _: Any) -> None:
            self._app = app

        self._register_socket_events(sio, on_new_message)
        register_upload(bp, self.settings)  # before the file route, which takes every other path
        register_routes(bp, self.settings)
        return bp

    async def _checked(self, bound: str | None, event: UserEvent) -> str:
        """The session a parsed message may be handled in: only the socket's own.

        Raises:
            EventError: no session yet, another session's id, another account, or a flood.
        """
        if bound is None:
            raise EventError("session_required", "会话尚未建立，请刷新页面后重试。")
        if event.session_id != bound:
            raise EventError("session_mismatch", "会话无效，消息未发送。请刷新页面后重试。")
        subject = token_subject(event.metadata, self.settings.identity_secret)
        if not await self._identities.admits(bound, subject):
            raise EventError("identity_changed", "登录身份已变化，请开始新的对话。")
        if not await self._limiter.admit(bound):
            raise EventError("rate_limited", "您发送得太快了，请稍等片刻再发。")
        return bound

    def _register_socket_events(
        self, sio: AsyncServer, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        secret = self.settings.session_secret

        @sio.on("connect")
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            return True

        @sio.on("session_request")
        async def session_request(sid: str, data: Any = None) -> None:
            session_id, resumed = resume_or_issue(data, secret)
            state = await sio.get_session(sid)
            previous = state.get("session_id")
            if previous and previous != session_id:
                await sio.leave_room(sid, sender_of(previous))
            await sio.save_session(sid, {"session_id": session_id})
            await sio.enter_room(sid, sender_of(session_id))
            confirm = {
                "session_id": session_id,
                "session_token": sign_session(session_id, secret),
                "resumed": resumed,
            }
            await sio.emit("session_confirm", confirm, room=sid)

        @sio.on("user_uttered")
        async def user_uttered(sid: str, data: Any = None) -> None:
            try:
                bound = (await sio.get_session(sid)).get("session_id")
                event = parse_user_event(data, self.max_message_chars)
                session_id = await self._checked(bound, event)
            except EventError as error:
                logger.info("widget channel refused an event: %s", error.code)
                refused = {"code": error.code, "message": error.message}
                client_message_id = _client_message_id(data)
                if client_message_id:
                    refused["client_message_id"] = client_message_id
                await sio.emit("wallet_error", refused, room=sid)
                return
            sender = sender_of(session_id)
            if event.client_message_id:
                await sio.emit("message_ack", {"client_message_id": event.client_message_id}, room=sid)
                if not await self._seen.first_time(session_id, event.client_message_id):
                    return
            output = WidgetOutput(sio, self.bot_message_evt)
            try:
                await on_new_message(
                    UserMessage(
                        event.text, output, sender, input_channel=self.name(), metadata=event.metadata
                    )
                )
                await after_user_message(self._app, sender)
            except Exception:
                logger.exception("widget channel: handling a message failed")
                await sio.emit(
                    "wallet_error",
                    {"code": "internal_error", "message": "抱歉，系统繁忙，请稍后再试。"},
                    room=sid,
                )

        @sio.on("*")
        async def anything_else(event: str, sid: str, data: Any = None) -> None:
            logger.info("widget channel ignored an unknown socket event")
            await sio.emit(
                "wallet_error", {"code": "invalid_event", "message": "不支持的操作，已忽略。"}, room=sid
            )


def _client_message_id(data: Any) -> str | None:
    """The client's id of a refused message, when it is well-formed (so the widget can mark it)."""
    custom = data.get("customData") if isinstance(data, dict) else None
    value = custom.get("client_message_id") if isinstance(custom, dict) else None
    return value if isinstance(value, str) and CLIENT_MESSAGE_ID.match(value) else None
