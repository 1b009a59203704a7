"""The website widget's channel: Rasa's socket.io channel with session persistence, input
limits, de-duplication of resent messages, plus the widget's HTTP routes:

    /widget/<file>          the widget's static files (bot/widget/), socket.io client included
    /widget/history         a session's conversation, to restore it after a reload
    /widget/demo-token      a signed identity token for the demo user (demo only, off by default)

Socket events: ``session_request`` → ``session_confirm``; ``user_uttered`` → ``message_ack``
then ``bot_uttered``; refusals → ``wallet_error`` {code, message}. Bot (and, later, agent)
messages go to the session's room, so every tab of a session sees them.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.channels.history import history_from_events
from bot.channels.socket_events import (
    CLIENT_MESSAGE_ID,
    EventError,
    SeenMessages,
    parse_user_event,
    session_id_of,
)
from bot.handoff.gate import after_user_message
from bot.identity import sign_identity
from bot.masking import install_log_masking
from bot.ratelimit import RateLimiter
from bot.static_files import serve

logger = logging.getLogger(__name__)
WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"


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
        """Build the channel from its credentials.yml section."""
        credentials = credentials or {}
        install_log_masking()
        return cls(
            max_message_chars=int(credentials.get("max_message_chars", 1000)),
            rate_limit=int(credentials.get("rate_limit_per_minute", 20)),
            demo_identity_account=credentials.get("demo_identity_account"),
            demo_identity_name=str(credentials.get("demo_identity_name", "")),
            cors_origins=credentials.get("cors_allowed_origins", "*"),
        )

    def __init__(
        self,
        max_message_chars: int = 1000,
        rate_limit: int = 20,
        demo_identity_account: str | None = None,
        demo_identity_name: str = "",
        cors_origins: str | list[str] = "*",
    ) -> None:
        """Create the channel with its limits; the socket path is /socket.io."""
        if max_message_chars < 1 or rate_limit < 1:
            raise ValueError("max_message_chars and rate_limit_per_minute must be positive")
        super().__init__(session_persistence=True, metadata_key="customData")
        self.max_message_chars = max_message_chars
        self._limiter = RateLimiter(rate_limit, 60.0)
        self._seen = SeenMessages()
        self._demo_account = demo_identity_account
        self._demo_name = demo_identity_name
        self._cors_origins = cors_origins
        self._app: Sanic | None = None

    async def push(self, sender_id: str, message: dict[str, Any]) -> None:
        """Send an agent message or a notice to every tab of the session (its room)."""
        if self.sio is not None:
            await self.sio.emit(self.bot_message_evt, message, room=sender_id)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The socket.io server and the widget's HTTP routes."""
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self._cors_origins)
        bp = SocketBlueprint(sio, self.socketio_path or "/socket.io", "widget_socketio", __name__)
        self.sio = sio

        @bp.listener("after_server_start")
        async def keep_app(app: Sanic, _: Any) -> None:
            self._app = app

        self._register_socket_events(sio, on_new_message)
        self._register_routes(bp)
        return bp

    # --- socket events --------------------------------------------------------
    def _register_socket_events(
        self, sio: AsyncServer, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        @sio.on("connect")
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            return True

        @sio.on("session_request")
        async def session_request(sid: str, data: Any = None) -> None:
            session_id = session_id_of(data) or uuid.uuid4().hex
            await sio.enter_room(
                sid, session_id
            )  # a coroutine in python-socketio 5.18 (Rasa forgets the await)
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on("user_uttered")
        async def user_uttered(sid: str, data: Any = None) -> None:
            try:
                event = parse_user_event(data, self.max_message_chars)
                if not self._limiter.allow(event.session_id):
                    raise EventError("rate_limited", "您发送得太快了，请稍等片刻再发。")
            except EventError as error:
                logger.info("widget channel refused an event: %s", error.code)
                refused = {"code": error.code, "message": error.message}
                client_message_id = _client_message_id(data)
                if client_message_id:
                    refused["client_message_id"] = client_message_id
                await sio.emit("wallet_error", refused, room=sid)
                return
            if event.session_id not in sio.rooms(sid):
                await sio.enter_room(sid, event.session_id)
            if event.client_message_id:
                await sio.emit("message_ack", {"client_message_id": event.client_message_id}, room=sid)
                if not self._seen.first_time(event.session_id, event.client_message_id):
                    return
            output = WidgetOutput(sio, self.bot_message_evt)
            try:
                await on_new_message(
                    UserMessage(
                        event.text,
                        output,
                        event.session_id,
                        input_channel=self.name(),
                        metadata=event.metadata,
                    )
                )
                await after_user_message(self._app, event.session_id)
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

    # --- HTTP routes ------------------------------------------------------------
    def _register_routes(self, bp: Blueprint) -> None:
        @bp.route("/history", methods=["GET"])
        async def history(request: Request) -> HTTPResponse:
            session_id = session_id_of({"session_id": request.args.get("session_id")})
            if session_id is None:
                return response.json(
                    {"error": "invalid_session", "message": "A valid session_id is required."}, 400
                )
            tracker = await request.app.ctx.agent.tracker_store.retrieve(session_id)
            events = [e.as_dict() for e in tracker.events] if tracker else []
            # Readable from any page that embeds the widget; the session id is the credential.
            return response.json(
                {"messages": history_from_events(events)}, headers={"Access-Control-Allow-Origin": "*"}
            )

        @bp.route("/demo-token", methods=["GET"])
        async def demo_token(request: Request) -> HTTPResponse:
            secret = os.environ.get("IDENTITY_SECRET", "")
            if not self._demo_account or not secret:
                return response.json({"error": "not_found", "message": "Not found."}, 404)
            token = sign_identity(self._demo_account, secret, ttl_seconds=3600)
            return response.json({"token": token, "name": self._demo_name})

        @bp.route("/<name:path>", methods=["GET"])
        async def widget_file(request: Request, name: str) -> HTTPResponse:
            return await serve(WIDGET_DIR, name)


def _client_message_id(data: Any) -> str | None:
    """The client's id of a refused message, when it is well-formed (so the widget can mark it)."""
    custom = data.get("customData") if isinstance(data, dict) else None
    value = custom.get("client_message_id") if isinstance(custom, dict) else None
    return value if isinstance(value, str) and CLIENT_MESSAGE_ID.match(value) else None
