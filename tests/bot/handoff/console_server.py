"""The agent console in this process: a Sanic server with the console's blueprint on a free
port, a Rasa agent with in-memory trackers, and fake push channels (widget, WeChat, Telegram)
that deliver or refuse as a test tells them. The handoff store refuses calls on the event loop.

Used inside a test's own event loop::

    async with running_console(tmp_path) as console:
        async with console.client(agent) as http:
            ...
"""

from __future__ import annotations

import asyncio
import functools
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from rasa.core.agent import Agent as RasaAgent
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ConversationPaused, UserUttered
from sanic import Sanic

from actions.backend.sandbox import SandboxBackend
from bot.handoff.console import ConsoleInput
from bot.handoff.console_auth import COOKIE
from bot.handoff.models import Agent, Handoff
from bot.handoff.push import NotDeliverable
from bot.handoff.service import HandoffService
from bot.handoff.settings import HandoffSettings
from bot.handoff.startup import HandoffStartup
from bot.handoff.store import HandoffStore
from tests.bot.handoff.conftest import OffLoopOnly

T = TypeVar("T")
HEADERS = {"X-Console-Request": "1"}
DEADLINE_SECONDS = 10.0


@functools.lru_cache(maxsize=1)
def domain() -> Domain:
    return Domain.load("domain.yml")


class FakePushChannel:
    """A channel that can push: records what it delivered, or refuses with ``refuse`` (a reason)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self.refuse: str | None = None
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def name(self) -> str:
        return self._name

    async def push(self, sender_id: str, message: dict[str, Any]) -> None:
        if self.refuse:
            raise NotDeliverable(self.refuse, "errcode 45015")
        self.sent.append((sender_id, message))


@dataclass
class Console:
    """A running console and what is around it."""

    url: str
    app: Sanic
    store: HandoffStore  # the real store, for the test's own (off-loop) checks
    rasa: RasaAgent
    channels: dict[str, FakePushChannel] = field(default_factory=dict)
    sandbox: SandboxBackend | None = None  # the wallet backend the side panel reads

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a store call in a thread (never on the loop)."""
        return await asyncio.to_thread(fn, *args)

    async def agent(self, username: str, name: str, role: str = "agent") -> tuple[Agent, str]:
        """A new agent and the token of a live session of theirs."""

        def add() -> tuple[Agent, str]:
            agent = self.store.add_agent(username, name, "password-123", role=role)
            return agent, self.store.create_session(agent.id, 3600)

        return await self.db(add)

    def client(self, token: str | None) -> httpx.AsyncClient:
        """An HTTP client of the console API, logged in with ``token`` (None: not logged in)."""
        headers = dict(HEADERS)
        if token:
            headers["Cookie"] = f"{COOKIE}={token}"
        return httpx.AsyncClient(base_url=f"{self.url}/console", headers=headers, timeout=DEADLINE_SECONDS)

    async def waiting_user(self, sender_id: str, channel: str, text: str = "转人工") -> Handoff:
        """A user of ``channel`` who wrote ``text`` and now waits for a person."""
        tracker = await self.rasa.tracker_store.get_or_create_tracker(sender_id)
        tracker.update(UserUttered(text, {"name": "request_human", "confidence": 1.0}, input_channel=channel))
        tracker.update(ConversationPaused())
        await self.rasa.tracker_store.save(tracker)
        return await self.db(
            self.store.request_handoff, sender_id, channel, "normal", "交易失败", "话题：交易失败"
        )

    async def taken_by(self, agent: Agent, sender_id: str, channel: str) -> Handoff:
        """A conversation of ``channel`` the agent has taken (through the console's lifecycle)."""
        handoff = await self.waiting_user(sender_id, channel)
        service = self.app.ctx.handoff
        step = await service.lifecycle(self.app).take(handoff.id, agent)
        return step.handoff


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def running_console(tmp_path: Path, **settings: Any) -> AsyncIterator[Console]:
    """Start the console on a free port; stop it (and its service) afterwards."""
    db_url = f"sqlite:///{tmp_path / 'handoff.db'}"
    store = HandoffStore(db_url)
    await asyncio.to_thread(store.create_schema)
    service = HandoffService(
        HandoffSettings(db_url=db_url, cookie_secure=False, **settings),
        OffLoopOnly(store),  # type: ignore[arg-type]
    )
    startup, console = HandoffStartup(service), ConsoleInput(service)
    sandbox = SandboxBackend(tmp_path / "sandbox.db")
    await asyncio.to_thread(sandbox.reseed)
    console.customer_backend = lambda: sandbox
    rasa = RasaAgent(
        domain=domain(), tracker_store=InMemoryTrackerStore(domain()), lock_store=InMemoryLockStore()
    )
    channels = {name: FakePushChannel(name) for name in ("socketio", "wechat", "telegram")}
    Sanic.test_mode = True  # several apps in one process: Sanic's start-up rewrites run once each
    app = Sanic(f"console_test_{uuid.uuid4().hex}")
    app.config.ACCESS_LOG = False
    app.blueprint(startup.blueprint(_no_bot))
    app.blueprint(console.blueprint(_no_bot), url_prefix=console.url_prefix())
    app.ctx.agent = rasa
    app.ctx.input_channels = [*channels.values(), startup, console]
    port = _free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield Console(f"http://127.0.0.1:{port}", app, store, rasa, channels, sandbox)
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
        await asyncio.to_thread(store.close)


async def _no_bot(message: Any) -> None:
    raise AssertionError("the console never hands messages to the bot")


async def eventually(check: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Poll ``check`` until it returns something (not None, not False), with a deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
