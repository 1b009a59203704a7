"""The Telegram channel's settings, read once from the environment and validated at start.

Environment (credentials.yml only names the channel: Rasa's ``${VAR}`` substitution fails on
unset variables, and the channel must stay off, not break, on a server without Telegram):
    TELEGRAM_TOKEN               the bot's token from @BotFather (``123456:ABC…``); unset: off
    TELEGRAM_WEBHOOK_SECRET      the webhook's secret token: 24-256 of ``A-Z a-z 0-9 _ -``
                                 (``openssl rand -hex 32``); required with the token: without
                                 it the server refuses to start
    TELEGRAM_API_BASE            the Bot API (default https://api.telegram.org; plain http only
                                 to a loopback address, as the tests' fake API)
    TELEGRAM_MAX_BODY_BYTES      the largest webhook body accepted (262144)
    TELEGRAM_RATE_LIMIT_PER_MINUTE   messages a chat may send a minute (20)
    TELEGRAM_BUTTON_TTL_SECONDS  how long an inline keyboard's buttons work (172800: two days)
    TELEGRAM_SEND_ATTEMPTS       tries of one send when Telegram answers 429 (3)
    TELEGRAM_MAX_RETRY_WAIT_SECONDS  the most one send waits for 429s in all (10)
    TELEGRAM_REQUEST_TIMEOUT_SECONDS one Bot API call's time limit (10)
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_API_BASE = "https://api.telegram.org"
TOKEN_ENV = "TELEGRAM_TOKEN"
SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"
API_BASE_ENV = "TELEGRAM_API_BASE"
# Telegram accepts 1-256 of these characters (https://core.telegram.org/bots/api#setwebhook);
# a guessable secret is no secret, so at least 24.
_SECRET = re.compile(r"^[A-Za-z0-9_-]{24,256}$")
_TOKEN = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$")


class TelegramSettingsError(ValueError):
    """A TELEGRAM_* variable is missing or has a bad value (the message never shows it)."""


@dataclass(frozen=True)
class TelegramSettings:
    """Everything the Telegram channel is configured with."""

    token: str
    webhook_secret: str
    api_base: str = DEFAULT_API_BASE
    max_body_bytes: int = 256 * 1024
    rate_limit_per_minute: int = 20
    button_ttl_seconds: int = 2 * 24 * 3600
    send_attempts: int = 3
    max_retry_wait_seconds: float = 10.0
    request_timeout_seconds: float = 10.0

    @property
    def bot_id(self) -> str:
        """The numeric part of the token: the bot's own user id (not secret)."""
        return self.token.split(":", 1)[0]

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never appear in a log: the token, its secret half, the webhook secret."""
        return (self.token, self.token.split(":", 1)[1], self.webhook_secret)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TelegramSettings | None:
        """The settings, or None when TELEGRAM_TOKEN is unset (the channel is off).

        Raises:
            TelegramSettingsError: a token without a webhook secret, or any bad value.
        """
        token = (env.get(TOKEN_ENV) or "").strip()
        if not token:
            return None
        if not _TOKEN.match(token):
            raise TelegramSettingsError(f"{TOKEN_ENV} does not look like a bot token (123456:ABC…)")
        secret = (env.get(SECRET_ENV) or "").strip()
        if not secret:
            raise TelegramSettingsError(
                f"{SECRET_ENV} is required with {TOKEN_ENV}: without it anyone who knows the webhook "
                "URL could post messages as any Telegram user"
            )
        if not _SECRET.match(secret):
            raise TelegramSettingsError(
                f"{SECRET_ENV} must be 24-256 characters of A-Z, a-z, 0-9, _ and - (openssl rand -hex 32)"
            )
        return cls(
            token=token,
            webhook_secret=secret,
            api_base=api_base(env.get(API_BASE_ENV)),
            max_body_bytes=_number(env, "TELEGRAM_MAX_BODY_BYTES", 256 * 1024, 1024, 16 * 1024 * 1024),
            rate_limit_per_minute=_number(env, "TELEGRAM_RATE_LIMIT_PER_MINUTE", 20, 1, 1000),
            button_ttl_seconds=_number(env, "TELEGRAM_BUTTON_TTL_SECONDS", 2 * 24 * 3600, 60, 30 * 24 * 3600),
            send_attempts=_number(env, "TELEGRAM_SEND_ATTEMPTS", 3, 1, 10),
            max_retry_wait_seconds=_number(env, "TELEGRAM_MAX_RETRY_WAIT_SECONDS", 10, 0, 120),
            request_timeout_seconds=_number(env, "TELEGRAM_REQUEST_TIMEOUT_SECONDS", 10, 1, 120),
        )


def api_base(value: str | None) -> str:
    """The Bot API's base URL, without a trailing slash.

    Raises:
        TelegramSettingsError: not http(s), or plain http to anything but a loopback address
            (the token travels in every request's path).
    """
    base = (value or "").strip().rstrip("/") or DEFAULT_API_BASE
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise TelegramSettingsError(f"{API_BASE_ENV} must be an http(s) URL such as {DEFAULT_API_BASE}")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise TelegramSettingsError(f"{API_BASE_ENV} must use https unless it is a loopback address")
    return base


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise TelegramSettingsError(f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise TelegramSettingsError(f"{name} must be between {low} and {high}")
    return value
