"""The insights' routes in this process: a Sanic server on a free port with the handoff
service (its sessions), the insights' blueprint, and a Rasa agent whose tracker store is the
project's masking SQL store over a seeded database (wrapped in Rasa's fail-safe store, as the
Rasa server does). Used inside a test's own event loop."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from rasa.core.agent import Agent as RasaAgent
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import FailSafeTrackerStore
from sanic import Sanic

from bot.handoff.console_auth import COOKIE
from bot.handoff.service import HandoffService
from bot.handoff.settings import HandoffSettings
from bot.handoff.startup import HandoffStartup
from bot.handoff.store import HandoffStore
from bot.insights.http import InsightsInput
from bot.insights.settings import InsightsSettings
from tests.insights.seed import domain, tracker_store

HEADERS = {"X-Console-Request": "1"}


@dataclass
class Running:
    """A running server and its store."""

    url: str
    app: Sanic
    store: HandoffStore

    async def session(self, username: str, role: str) -> str:
        """A new agent of ``role`` and the token of a live session of theirs."""

        def add() -> str:
            agent = self.store.add_agent(username, username, "password-123", role=role)
            return self.store.create_session(agent.id, 3600)

        return await asyncio.to_thread(add)

    def client(self, token: str | None) -> httpx.AsyncClient:
        """An HTTP client of /console/insights, logged in with ``token`` (None: not logged in)."""
        headers = dict(HEADERS)
        if token:
            headers["Cookie"] = f"{COOKIE}={token}"
        return httpx.AsyncClient(base_url=f"{self.url}/console/insights", headers=headers, timeout=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def running_insights(tmp_path: Path, trackers_db: Path) -> AsyncIterator[Running]:
    """Start the server; stop it (and its service) afterwards."""
    db_url = f"sqlite:///{tmp_path / 'handoff.db'}"
    store = HandoffStore(db_url)
    await asyncio.to_thread(store.create_schema)
    service = HandoffService(HandoffSettings(db_url=db_url, cookie_secure=False), store)
    startup, insights = HandoffStartup(service), InsightsInput(service, InsightsSettings())
    dom = domain()
    rasa = RasaAgent(
        domain=dom,
        tracker_store=FailSafeTrackerStore(tracker_store(trackers_db, dom)),
        lock_store=InMemoryLockStore(),
    )
    Sanic.test_mode = True
    app = Sanic(f"insights_test_{uuid.uuid4().hex}")
    app.config.ACCESS_LOG = False
    app.blueprint(startup.blueprint(_no_bot))
    app.blueprint(insights.blueprint(_no_bot), url_prefix=insights.url_prefix())
    app.ctx.agent = rasa
    app.ctx.input_channels = [startup, insights]
    port = _free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield Running(f"http://127.0.0.1:{port}", app, store)
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
        await asyncio.to_thread(store.close)


async def _no_bot(message: object) -> None:
    raise AssertionError("the insights never hand messages to the bot")
