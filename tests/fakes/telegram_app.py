"""The Telegram channel served in-process by a Sanic app, with a fake Rasa behind it.

The fake Rasa records each ``UserMessage`` and answers through the message's output channel,
as Rasa's processor does (``send_response`` for each reply), so a test sees what reaches
the fake Bot API. The server runs in the test's event loop; the channel talks to the fake
Bot API (a thread) over real HTTP.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rasa.core.channels.channel import UserMessage
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.channels.shared_state import SqlState
from bot.channels.telegram import WalletTelegramInput
from bot.channels.telegram.settings import TelegramSettings
from tests.fakes.telegram_api import TOKEN, FakeBotApi
from tests.fakes.telegram_updates import SECRET

Reply = Callable[[UserMessage], list[dict[str, Any]]]
Steps = Callable[[WalletTelegramInput, str, httpx.AsyncClient], Awaitable[Any]]


def settings_for(fake: FakeBotApi, **changes: Any) -> TelegramSettings:
    """Settings pointing at the fake (retries fast)."""
    values: dict[str, Any] = {
        "token": TOKEN,
        "webhook_secret": SECRET,
        "api_base": fake.base_url,
        "max_body_bytes": 64 * 1024,
        "max_retry_wait_seconds": 3,
        **changes,
    }
    return TelegramSettings(**values)


@dataclass
class FakeRasa:
    """Records user messages; answers each with ``reply(message)`` (a list of Rasa replies)."""

    reply: Reply = field(default=lambda message: [{"text": f"收到：{message.text}"}])
    messages: list[UserMessage] = field(default_factory=list)

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        for response in self.reply(message):
            await message.output_channel.send_response(message.sender_id, dict(response))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Served:
    """A running app: its base URL and the Sanic app (``app.ctx.input_channels``)."""

    url: str
    app: Sanic


@asynccontextmanager
async def serving(channel: WalletTelegramInput, rasa: FakeRasa) -> AsyncIterator[Served]:
    """Serve the channel's blueprint as Rasa mounts it, beside a route of the app's own."""
    # Sanic rewrites its request methods for each started app ("touchup"); in test mode it
    # keeps the originals, so that several apps can start in one process (as sanic-testing).
    Sanic.test_mode = True
    app = Sanic(f"telegram_test_{uuid.uuid4().hex[:12]}", configure_logging=False)
    app.config.ACCESS_LOG = False
    app.blueprint(channel.blueprint(rasa), url_prefix="/webhooks/telegram")
    app.ctx.input_channels = [channel]

    @app.get("/")
    async def root(request: Request) -> HTTPResponse:  # Rasa's server has routes of its own
        return json_response({"status": "ok"})

    port = _free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield Served(f"http://127.0.0.1:{port}", app)
    finally:
        await server.before_stop()
        closing = server.close()
        if closing is not None:
            await closing
        await server.after_stop()


def channel_for(fake: FakeBotApi, state_dir: Path, **changes: Any) -> WalletTelegramInput:
    """A channel on the fake Bot API with its own SQLite shared state."""
    state = SqlState(f"sqlite:///{state_dir / 'channel_state.db'}")
    return WalletTelegramInput(settings_for(fake, **changes), state=lambda: state)


def scenario(
    fake: FakeBotApi, tmp_path: Path, steps: Steps, rasa: FakeRasa | None = None, **changes: Any
) -> Any:
    """Serve a channel on the fake Bot API and run ``steps(channel, base_url, client)`` in a
    fresh event loop; its result is returned."""

    async def run() -> Any:
        channel = channel_for(fake, tmp_path, **changes)
        async with serving(channel, rasa or FakeRasa()) as served, httpx.AsyncClient(timeout=30) as client:
            return await steps(channel, served.url, client)

    return asyncio.run(run())
