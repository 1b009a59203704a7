"""The WeChat channel's settings: the environment (and its credentials.yml section), read and
validated once at start; a bad value stops the server instead of weakening the channel.

Environment:
    WECHAT_TOKEN                  the Token of the server configuration (unset: channel off)
    WECHAT_APP_ID, WECHAT_APP_SECRET   the AppID and AppSecret (required with the token)
    WECHAT_ENCODING_AES_KEY       the EncodingAESKey (43 characters); unset: plaintext mode.
                                  Set: only safe or compatible mode requests are accepted
    WECHAT_PREVIOUS_AES_KEY       the key before the last rotation, tried when decryption fails
    WECHAT_API_BASE               https://api.weixin.qq.com (``/cgi-bin/...`` is appended)
    WECHAT_REPLY_BUDGET_SECONDS   how long a request waits for the bot's turn (4; WeChat gives 5)
    WECHAT_API_TIMEOUT_SECONDS    the time limit of every platform API call (5)
credentials.yml (``bot.channels.wechat.WeChatInput``), all optional:
    max_message_chars, rate_limit_per_minute, max_image_bytes
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.weixin.qq.com"
_PRINTABLE_ID = re.compile(r"[\x21-\x7e]{1,128}")
_AES_KEY = re.compile(r"[A-Za-z0-9+/]{43}")
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class WeChatSettingsError(ValueError):
    """A WeChat setting is missing or has a bad value (the message names it, never its value)."""


def aes_key_bytes(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key of an EncodingAESKey (base64 of 43 characters without the ``=``).

    Raises:
        WeChatSettingsError: not a valid EncodingAESKey.
    """
    if not _AES_KEY.fullmatch(encoding_aes_key):
        raise WeChatSettingsError("an EncodingAESKey is 43 characters of A-Z, a-z, 0-9, + and /")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as error:
        raise WeChatSettingsError("an EncodingAESKey must be base64") from error
    if len(key) != 32:
        raise WeChatSettingsError("an EncodingAESKey must decode to 32 bytes")
    return key


def _number(name: str, raw: Any, default: float, low: float, high: float) -> float:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError) as error:
        raise WeChatSettingsError(f"{name} must be a number") from error
    if not low <= value <= high:
        raise WeChatSettingsError(f"{name} must be between {low:g} and {high:g}")
    return value


def _identifier(environ: Mapping[str, str], name: str) -> str:
    value = (environ.get(name) or "").strip()
    if not value:
        raise WeChatSettingsError(f"{name} is required when WECHAT_TOKEN is set")
    if not _PRINTABLE_ID.fullmatch(value):
        raise WeChatSettingsError(f"{name} must be printable ASCII without spaces (at most 128)")
    return value


def _optional_key(environ: Mapping[str, str], name: str) -> str | None:
    value = (environ.get(name) or "").strip()
    if not value:
        return None
    try:
        aes_key_bytes(value)
    except WeChatSettingsError as error:
        raise WeChatSettingsError(f"{name}: {error}") from error
    return value


def _api_base(raw: str | None) -> str:
    value = (raw or "").strip().rstrip("/") or DEFAULT_API_BASE
    try:
        parts = urlsplit(value)
        _ = parts.port  # a bad port raises here
    except ValueError as error:
        raise WeChatSettingsError("WECHAT_API_BASE must be an http(s) URL") from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WeChatSettingsError("WECHAT_API_BASE must be an http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise WeChatSettingsError("WECHAT_API_BASE must have no credentials, query or fragment")
    if parts.scheme == "http" and parts.hostname not in _LOCAL_HOSTS:
        logger.warning("wechat channel: WECHAT_API_BASE is plain http on a non-local host")
    return value


@dataclass(frozen=True)
class WeChatSettings:
    """Everything the WeChat channel is configured with.

    Attributes:
        token: the server configuration's Token (signs every request).
        app_id: the AppID (checked inside every encrypted message; fetches the access_token).
        app_secret: the AppSecret (fetches the access_token).
        aes_key: the EncodingAESKey, or None in plaintext mode.
        previous_aes_key: the key before the last rotation, or None.
        api_base: the platform API's origin (``/cgi-bin/...`` is appended).
        reply_budget_seconds: how long a request waits for the bot's turn before ``success``.
        api_timeout_seconds: the time limit of each platform API call.
        timestamp_window_seconds: how far a request's timestamp may be from this server's clock.
        max_body_bytes: the largest request body read.
        max_message_chars: the longest text (or recognized speech) handed to the bot.
        rate_limit_per_minute: messages of one user handled per minute (more get a notice).
        max_image_bytes: the largest image fetched from the platform (2 MB, the handoff's
            ``HANDOFF_ATTACHMENT_MAX_BYTES`` default).
    """

    token: str
    app_id: str
    app_secret: str
    aes_key: str | None = None
    previous_aes_key: str | None = None
    api_base: str = DEFAULT_API_BASE
    reply_budget_seconds: float = 4.0
    api_timeout_seconds: float = 5.0
    timestamp_window_seconds: int = 300
    max_body_bytes: int = 64 * 1024
    max_message_chars: int = 2000
    rate_limit_per_minute: int = 20
    max_image_bytes: int = 2 * 1024 * 1024

    def __post_init__(self) -> None:
        """Fail fast on values that would switch a guard off."""
        if not self.token or not self.app_id or not self.app_secret:
            raise WeChatSettingsError("the token, app id and app secret are required")
        if not 0 < self.reply_budget_seconds < 5:
            raise WeChatSettingsError("the reply budget must be under WeChat's 5 seconds")
        if min(self.max_body_bytes, self.max_message_chars, self.rate_limit_per_minute) < 1:
            raise WeChatSettingsError("the WeChat channel's limits must be positive")
        if self.previous_aes_key and not self.aes_key:
            raise WeChatSettingsError("WECHAT_PREVIOUS_AES_KEY needs WECHAT_ENCODING_AES_KEY")

    @property
    def safe_mode(self) -> bool:
        """Messages arrive encrypted (safe or compatible mode) and replies go out encrypted."""
        return self.aes_key is not None

    @classmethod
    def load(cls, credentials: Mapping[str, Any] | None, environ: Mapping[str, str]) -> WeChatSettings | None:
        """Read and validate the settings; None when WECHAT_TOKEN is unset (the channel is off).

        Raises:
            WeChatSettingsError: a setting is missing or has a bad value.
        """
        token = (environ.get("WECHAT_TOKEN") or "").strip()
        if not token:
            return None
        if not _PRINTABLE_ID.fullmatch(token):
            raise WeChatSettingsError("WECHAT_TOKEN must be printable ASCII without spaces (at most 128)")
        credentials = credentials or {}
        return cls(
            token=token,
            app_id=_identifier(environ, "WECHAT_APP_ID"),
            app_secret=_identifier(environ, "WECHAT_APP_SECRET"),
            aes_key=_optional_key(environ, "WECHAT_ENCODING_AES_KEY"),
            previous_aes_key=_optional_key(environ, "WECHAT_PREVIOUS_AES_KEY"),
            api_base=_api_base(environ.get("WECHAT_API_BASE")),
            reply_budget_seconds=_number(
                "WECHAT_REPLY_BUDGET_SECONDS", environ.get("WECHAT_REPLY_BUDGET_SECONDS"), 4.0, 0.1, 4.8
            ),
            api_timeout_seconds=_number(
                "WECHAT_API_TIMEOUT_SECONDS", environ.get("WECHAT_API_TIMEOUT_SECONDS"), 5.0, 0.5, 60
            ),
            max_message_chars=int(
                _number("max_message_chars", credentials.get("max_message_chars"), 2000, 1, 100000)
            ),
            rate_limit_per_minute=int(
                _number("rate_limit_per_minute", credentials.get("rate_limit_per_minute"), 20, 1, 10000)
            ),
            max_image_bytes=int(
                _number("max_image_bytes", credentials.get("max_image_bytes"), 2 * 1024 * 1024, 1, 2**31)
            ),
        )
