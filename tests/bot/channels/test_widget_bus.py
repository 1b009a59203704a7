"""The widget's cross-instance settings: the socket.io Redis manager only when configured, and
validated at start (a bad value stops the server instead of silently splitting the sockets)."""

from __future__ import annotations

import pytest
import socketio

from bot.channels.widget_bus import DEFAULT_CHANNEL, RedisBus, client_manager
from bot.channels.widget_settings import WidgetSettings, parse_socketio_redis

SECRET = "widget-bus-test-secret-0123456789abcdef"


def test_the_embedded_default_is_the_in_process_manager() -> None:
    settings = WidgetSettings.load({}, {"WIDGET_SESSION_SECRET": SECRET})
    assert settings.socketio_redis_url is None and settings.socketio_channel == DEFAULT_CHANNEL
    assert client_manager(settings.socketio_redis_url) is None


def test_a_redis_url_gives_the_redis_manager() -> None:
    environ = {
        "WIDGET_SESSION_SECRET": SECRET,
        "SOCKETIO_REDIS_URL": " redis://cache.internal:6379/2 ",
        "SOCKETIO_REDIS_CHANNEL": "wallet-prod:widget",
    }
    settings = WidgetSettings.load({}, environ)
    assert (settings.socketio_redis_url, settings.socketio_channel) == (
        "redis://cache.internal:6379/2",
        "wallet-prod:widget",
    )
    manager = client_manager(settings.socketio_redis_url, settings.socketio_channel)
    assert isinstance(manager, RedisBus) and isinstance(manager, socketio.AsyncRedisManager)
    assert manager.channel == "wallet-prod:widget"


@pytest.mark.parametrize(
    ("url", "channel"),
    [
        ("http://cache:6379", None),
        ("cache:6379", None),
        ("redis://", None),
        ("redis://cache:6379/0", "has space"),
        ("redis://cache:6379/0", "x" * 101),
        ("redis://cache:6379/0", "通道"),
    ],
)
def test_bad_values_stop_the_server(url: str, channel: str | None) -> None:
    with pytest.raises(ValueError) as refused:
        parse_socketio_redis(url, channel)
    assert "cache" not in str(refused.value)  # the message names the setting, not its value


@pytest.mark.parametrize(
    "url", ["rediss://user:pw@cache:6380/1", "unix:///run/redis.sock", "redis+sentinel://s1:26379/0/m"]
)
def test_other_redis_forms_are_accepted(url: str) -> None:
    assert parse_socketio_redis(url, None) == (url, DEFAULT_CHANNEL)
