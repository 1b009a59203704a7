"""The widget channel's settings: its credentials.yml section and the environment, validated
once at start (a bad value stops the server instead of weakening it).

credentials.yml (``bot.channels.widget.WidgetSocketIOInput``):
    max_message_chars, rate_limit_per_minute   input limits
    cors_allowed_origins                      other sites that embed the widget (a list of
                                              ``https://host[:port]``; none = same origin only)
    demo_identity_account, demo_identity_name the demo page's sandbox user
Environment:
    WIDGET_SESSION_SECRET   signs the session proofs (see widget_sessions)
    WIDGET_DEMO_IDENTITY    "1" turns /widget/demo-token on (make run does; never in production)
    IDENTITY_SECRET         the website's identity-token secret (signs the demo token)
    SOCKETIO_REDIS_URL      several instances: python-socketio's Redis manager on this Redis,
                            so a push from any instance reaches the user's socket on any
                            instance (unset: the in-process manager, one server)
    SOCKETIO_REDIS_CHANNEL  the Redis channel of that manager (``united-wallet-widget``)
    CHANNEL_STATE_URL       when Redis: rate limits, resent-message ids and identity bindings
                            are shared by every instance (bot.channels.shared_state)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.channels.widget_bus import DEFAULT_CHANNEL
from bot.channels.widget_sessions import session_secret

logger = logging.getLogger(__name__)

DEMO_FLAG_ENV = "WIDGET_DEMO_IDENTITY"
SOCKETIO_REDIS_ENV = "SOCKETIO_REDIS_URL"
SOCKETIO_CHANNEL_ENV = "SOCKETIO_REDIS_CHANNEL"
_REDIS_URL = re.compile(r"^(?:redis|rediss|redis\+sentinel|unix)://\S+$")
_BUS_CHANNEL = re.compile(r"^[A-Za-z0-9:._-]{1,100}$")
IDENTITY_SECRET_ENV = "IDENTITY_SECRET"
_ORIGIN = re.compile(r"^https?://(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::\d{1,5})?$")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def parse_origins(value: Any) -> tuple[str, ...]:
    """The configured CORS origins, normalized (lower case, no trailing slash).

    Raises:
        ValueError: not a list of ``http(s)://host[:port]`` origins; ``*`` is refused.
    """
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError("cors_allowed_origins must be a list of origins")
    origins: list[str] = []
    for item in value:
        origin = item.strip().rstrip("/").lower() if isinstance(item, str) else ""
        if not _ORIGIN.match(origin):
            raise ValueError("cors_allowed_origins: each entry must be http(s)://host[:port], not '*'")
        if origin not in origins:
            origins.append(origin)
    return tuple(origins)


def parse_flag(name: str, value: str | None) -> bool:
    """An on/off environment flag.

    Raises:
        ValueError: a value that is neither on (1/true/yes/on) nor off (0/false/no/off/empty).
    """
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{name} must be 1 or 0")


def parse_socketio_redis(url: str | None, channel: str | None) -> tuple[str | None, str]:
    """The socket.io Redis URL (None: in-process) and its channel name.

    Raises:
        ValueError: a URL that is not redis://, rediss://, redis+sentinel:// or unix://, or a
            channel name with other than letters, digits and ``:._-``.
    """
    url = (url or "").strip() or None
    if url is not None and not _REDIS_URL.match(url):
        raise ValueError(f"{SOCKETIO_REDIS_ENV} must be a redis:// (or rediss://, unix://) URL")
    name = (channel or "").strip() or DEFAULT_CHANNEL
    if not _BUS_CHANNEL.match(name):
        raise ValueError(f"{SOCKETIO_CHANNEL_ENV} may hold letters, digits and :._- only")
    return url, name


@dataclass(frozen=True)
class WidgetSettings:
    """Everything the widget channel is configured with."""

    session_secret: bytes
    max_message_chars: int = 1000
    rate_limit_per_minute: int = 20
    history_per_minute: int = 30
    uploads_per_minute: int = 6
    cors_allowed_origins: tuple[str, ...] = ()
    identity_secret: str = ""
    demo_account: str | None = None
    demo_name: str = ""
    demo_enabled: bool = False
    socketio_redis_url: str | None = None
    socketio_channel: str = DEFAULT_CHANNEL

    def __post_init__(self) -> None:
        """Fail fast on limits that would switch a guard off."""
        limits = (
            self.max_message_chars,
            self.rate_limit_per_minute,
            self.history_per_minute,
            self.uploads_per_minute,
        )
        if min(limits) < 1:
            raise ValueError("max_message_chars and rate_limit_per_minute must be positive")
        if not self.session_secret:
            raise ValueError("a widget session secret is required")

    @property
    def demo_token_available(self) -> bool:
        """/widget/demo-token answers only when asked for on purpose and fully configured."""
        return self.demo_enabled and bool(self.demo_account) and bool(self.identity_secret)

    @classmethod
    def load(cls, credentials: Mapping[str, Any] | None, environ: Mapping[str, str]) -> WidgetSettings:
        """Read and validate the credentials.yml section and the environment.

        Raises:
            ValueError: a setting has a bad value.
        """
        credentials = credentials or {}
        account = credentials.get("demo_identity_account")
        redis_url, bus_channel = parse_socketio_redis(
            environ.get(SOCKETIO_REDIS_ENV), environ.get(SOCKETIO_CHANNEL_ENV)
        )
        settings = cls(
            session_secret=session_secret(environ),
            max_message_chars=int(credentials.get("max_message_chars", 1000)),
            rate_limit_per_minute=int(credentials.get("rate_limit_per_minute", 20)),
            history_per_minute=int(credentials.get("history_per_minute", 30)),
            uploads_per_minute=int(credentials.get("uploads_per_minute", 6)),
            cors_allowed_origins=parse_origins(credentials.get("cors_allowed_origins")),
            identity_secret=environ.get(IDENTITY_SECRET_ENV, ""),
            demo_account=str(account) if account else None,
            demo_name=str(credentials.get("demo_identity_name", "")),
            demo_enabled=parse_flag(DEMO_FLAG_ENV, environ.get(DEMO_FLAG_ENV)),
            socketio_redis_url=redis_url,
            socketio_channel=bus_channel,
        )
        if settings.demo_token_available:
            logger.warning(
                "widget channel: %s is on, /widget/demo-token signs anyone in as the demo account "
                "(demo only: never in production)",
                DEMO_FLAG_ENV,
            )
        elif settings.demo_enabled:
            logger.warning(
                "widget channel: %s is on but demo_identity_account or %s is missing: "
                "/widget/demo-token stays off",
                DEMO_FLAG_ENV,
                IDENTITY_SECRET_ENV,
            )
        return settings
