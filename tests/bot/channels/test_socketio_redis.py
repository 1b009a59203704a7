"""The widget channel on two instances: with python-socketio's Redis manager, a push made on
one instance reaches the user's socket held by the other; without it (the embedded default)
it cannot; a push the bus does not take is reported as not delivered.

Two real widget channels run as two Sanic servers in this process, the user's socket is a
real socket.io client (long-polling) connected to the second one, and Redis is this machine's.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis
import socketio
from sanic import Sanic

from bot.channels.widget import WidgetSocketIOInput
from bot.channels.widget_sessions import sender_of
from bot.channels.widget_settings import WidgetSettings
from bot.handoff.push import NotDeliverable
from tests.bot.channels.conftest import REDIS_URL, _unreachable

SECRET = b"socketio-redis-test-secret-0123456789abcdef"
DEADLINE_SECONDS = 15.0


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        _unreachable("Redis", type(error).__name__)
    return REDIS_URL


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _no_bot(message: Any) -> None:
    raise AssertionError("no user message is sent in these tests")


@asynccontextmanager
async def widget_instance(redis_url: str | None, bus: str) -> AsyncIterator[tuple[WidgetSocketIOInput, str]]:
    """One Rasa server's widget channel, serving on a free port."""
    channel = WidgetSocketIOInput(
        WidgetSettings(session_secret=SECRET, socketio_redis_url=redis_url, socketio_channel=bus)
    )
    Sanic.test_mode = True
    app = Sanic(f"widget_bus_{uuid.uuid4().hex}")
    app.config.ACCESS_LOG = False
    app.blueprint(channel.blueprint(_no_bot), url_prefix=channel.url_prefix())
    app.ctx.input_channels = [channel]
    port = _free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield channel, f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


class User:
    """The widget in a browser: a socket.io client bound to its session (blocking calls)."""

    def __init__(self) -> None:
        self.client = socketio.Client(reconnection=False)
        self.received: list[tuple[str, Any]] = []
        self.session_id: str | None = None
        for event in ("session_confirm", "bot_uttered"):
            self.client.on(event, self._recorder(event))

    def _recorder(self, event: str) -> Callable[[Any], None]:
        def record(data: Any = None) -> None:
            self.received.append((event, data))
            if event == "session_confirm":
                self.session_id = data["session_id"]

        return record

    def join(self, url: str) -> str:
        self.client.connect(url, socketio_path="/socket.io", transports=["polling"])
        self.client.emit("session_request", {})
        deadline = time.monotonic() + DEADLINE_SECONDS
        while self.session_id is None:
            assert time.monotonic() < deadline, "no session_confirm"
            time.sleep(0.02)
        return self.session_id

    def leave(self) -> None:
        """Close the socket without waiting for the long-poll in flight (it ends with the server)."""
        self.client.eio.disconnect(abort=True)

    def pushed(self) -> list[Any]:
        return [data for event, data in self.received if event == "bot_uttered"]


def _subscribers(redis_url: str, bus: str) -> int:
    with redis.Redis.from_url(redis_url) as client:
        return int(dict(client.pubsub_numsub(bus)).get(bus.encode(), 0))


async def eventually(check: Callable[[], Awaitable[bool] | bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        found = check()
        if isinstance(found, Awaitable):
            found = await found
        if found:
            return
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def test_a_push_on_one_instance_reaches_a_socket_on_the_other(redis_url: str) -> None:
    bus = f"test-widget-{uuid.uuid4().hex}"
    user = User()

    async def scenario() -> None:
        async with widget_instance(redis_url, bus) as (a, _), widget_instance(redis_url, bus) as (_, b_url):
            session_id = await asyncio.to_thread(user.join, b_url)
            await eventually(lambda: _subscribers(redis_url, bus) == 1, "B to listen on the bus")
            message = {"text": "人工客服 小王 已接入", "role": "system"}
            await a.push(sender_of(session_id), message)  # A holds no socket of this user
            await eventually(lambda: user.pushed() == [message], "the push to reach the socket on B")
            await asyncio.to_thread(user.leave)

    asyncio.run(scenario())


def test_without_the_redis_manager_instances_do_not_share_sockets() -> None:
    user, local = User(), User()

    async def scenario() -> None:
        async with (
            widget_instance(None, "unused") as (a, a_url),
            widget_instance(None, "unused") as (_, b_url),
        ):
            session_id = await asyncio.to_thread(user.join, b_url)
            await asyncio.to_thread(local.join, a_url)  # A has sockets of its own, not this user's
            await a.push(sender_of(session_id), {"text": "只有本机", "role": "system"})
            await a.push(sender_of(local.session_id or ""), {"text": "本机用户", "role": "system"})
            await eventually(lambda: len(local.pushed()) == 1, "the local push")
            await asyncio.to_thread(user.leave)
            await asyncio.to_thread(local.leave)

    asyncio.run(scenario())
    assert user.pushed() == []  # the in-process manager reaches only its own sockets


def test_a_push_the_bus_cannot_take_is_not_delivered() -> None:
    port = _free_port()  # nothing listens there

    async def scenario() -> None:
        async with widget_instance(f"redis://127.0.0.1:{port}/0", "down") as (a, _):
            with pytest.raises(NotDeliverable) as refused:
                await a.push(sender_of("0123456789abcdef0123456789abcdef"), {"text": "你好", "role": "agent"})
            assert refused.value.reason == "unavailable"

    asyncio.run(scenario())
