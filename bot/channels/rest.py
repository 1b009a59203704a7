"""Rasa's REST channel with input validation, size limits and rate limits.

Bad requests get a JSON error with a stable code and never echo the input;
the conversation text is never written to the log.
"""

from __future__ import annotations

import hmac
import logging
import os
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.options import TextOnlyCollectingOutputChannel
from bot.handoff.gate import after_user_message
from bot.masking import install_log_masking
from bot.ratelimit import rate_limiter

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
# REST senders live in their own namespace: no REST call can address a widget, WeChat or
# Telegram conversation.
SENDER_PREFIX = "rest:"
TOKEN_ENV = "REST_CHANNEL_TOKEN"


class PayloadError(Exception):
    """A request the channel refuses; carries its HTTP status and error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        """Create the error with what the client is told."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def to_response(self) -> HTTPResponse:
        """The JSON error response."""
        return response.json({"error": self.code, "message": self.message}, status=self.status)


def parse_payload(body: Any, max_message_chars: int) -> tuple[str, str, dict[str, Any] | None]:
    """Validate a webhook body; return (sender, message, metadata).

    Raises:
        PayloadError: when the body is not acceptable.
    """
    if not isinstance(body, dict):
        raise PayloadError(400, "invalid_payload", "The body must be a JSON object.")
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        raise PayloadError(400, "invalid_sender", "'sender' must be a non-empty string.")
    if len(sender) > MAX_SENDER_CHARS or not sender.isprintable():
        raise PayloadError(
            400, "invalid_sender", f"'sender' must be printable and at most {MAX_SENDER_CHARS} characters."
        )
    message = body.get("message")
    if not isinstance(message, str):
        raise PayloadError(400, "invalid_message", "'message' must be a string.")
    if len(message) > max_message_chars:
        raise PayloadError(
            413, "message_too_long", f"'message' is longer than {max_message_chars} characters."
        )
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise PayloadError(400, "invalid_metadata", "'metadata' must be a JSON object.")
    return sender, message.replace("\x00", ""), metadata


def check_bearer(header: str | None, token: str | None) -> None:
    """The caller's ``Authorization: Bearer <token>`` against the configured token.

    Raises:
        PayloadError: 403 when no token is configured (the channel is off), 401 when the
        header is missing or wrong (compared in constant time).
    """
    if not token:
        raise PayloadError(403, "rest_channel_disabled", "The REST channel is not enabled on this server.")
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise PayloadError(401, "unauthorized", "A valid bearer token is required.")


class GuardedRestInput(RestInput):
    """POST /webhooks/rest/webhook with {"sender", "message", "metadata"?}, for trusted callers
    with ``Authorization: Bearer $REST_CHANNEL_TOKEN``; senders become ``rest:<sender>``."""

    @classmethod
    def name(cls) -> str:
        """Keep Rasa's REST URL: /webhooks/rest/webhook."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> GuardedRestInput:
        """Build the channel from its credentials.yml section."""
        credentials = credentials or {}
        install_log_masking()
        return cls(
            max_message_chars=int(credentials.get("max_message_chars", 5000)),
            rate_limit=int(credentials.get("rate_limit_per_minute", 30)),
            renders_buttons=bool(credentials.get("renders_buttons", True)),
            token=os.environ.get(str(credentials.get("token_env", TOKEN_ENV)), "").strip() or None,
        )

    def __init__(
        self,
        max_message_chars: int = 5000,
        rate_limit: int = 30,
        renders_buttons: bool = True,
        token: str | None = None,
    ) -> None:
        """Create the channel with its limits; a caller that shows no buttons gets numbered text.
        Without a token every call is refused."""
        if max_message_chars < 1 or rate_limit < 1:
            raise ValueError("max_message_chars and rate_limit_per_minute must be positive")
        self.max_message_chars = max_message_chars
        self.renders_buttons = renders_buttons
        self._token = token
        if not token:
            logger.warning("REST channel: %s is not set, every call will be refused", TOKEN_ENV)
        self._limiter = rate_limiter(rate_limit, 60.0, "rest")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The health and webhook routes."""
        webhook = Blueprint("guarded_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                check_bearer(request.headers.get("Authorization"), self._token)
                try:
                    body = request.json
                except SanicException as error:
                    raise PayloadError(400, "invalid_json", "The body is not valid JSON.") from error
                caller_sender, text, metadata = parse_payload(body, self.max_message_chars)
                sender = SENDER_PREFIX + caller_sender
                if not await self._limiter.admit(sender):
                    raise PayloadError(429, "rate_limited", "Too many messages; please slow down.")
            except PayloadError as error:
                logger.info("rest webhook refused a request: %s", error.code)
                return error.to_response()

            collector = (
                CollectingOutputChannel() if self.renders_buttons else TextOnlyCollectingOutputChannel()
            )
            try:
                await on_new_message(
                    UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
                )
                await after_user_message(request.app, sender)
            except CancelledError:
                logger.error("rest webhook: handling a message timed out")
            except Exception:
                logger.exception("rest webhook: handling a message failed")
                return response.json(
                    {"error": "internal_error", "message": "The message could not be handled."}, status=500
                )
            return response.json(collector.messages)

        return webhook
