"""The handoff service starts from its own module, with the server: the gate and the expiry
work without the console, and the console without the service answers 503, not silence."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml
from rasa.core.agent import Agent as RasaAgent
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.events import ConversationPaused, UserUttered
from sanic import Sanic

from bot.handoff import service as service_module
from bot.handoff.console import ConsoleInput
from bot.handoff.gate import after_user_message
from bot.handoff.service import HandoffService, handoff_service, service_of
from bot.handoff.settings import HandoffSettings
from bot.handoff.startup import HandoffStartup
from bot.handoff.store import HandoffStore
from tests.bot.handoff.console_server import domain
from tests.bot.handoff.test_lifecycle import RecordingChannel

ROOT = Path(__file__).resolve().parents[3]
SENDER = "widget:5a4b3c2d1e0f9a8b"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _no_bot(message: Any) -> None:
    raise AssertionError("no message goes to the bot here")


@asynccontextmanager
async def serving(channels: list[Any]) -> AsyncIterator[tuple[Sanic, str]]:
    """A server with these channels registered as Rasa registers them, started and stopped."""
    Sanic.test_mode = True
    app = Sanic(f"startup_test_{uuid.uuid4().hex}")
    app.config.ACCESS_LOG = False
    for channel in channels:
        if hasattr(channel, "blueprint"):
            app.blueprint(channel.blueprint(_no_bot), url_prefix=channel.url_prefix())
    app.ctx.agent = RasaAgent(
        domain=domain(), tracker_store=InMemoryTrackerStore(domain()), lock_store=InMemoryLockStore()
    )
    app.ctx.input_channels = channels
    port = _free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


def _service(tmp_path: Path) -> HandoffService:
    return HandoffService(
        HandoffSettings(db_url=f"sqlite:///{tmp_path / 'handoff.db'}", db_timeout_seconds=5)
    )


def test_the_service_starts_and_stops_with_the_server_without_a_console(tmp_path: Path) -> None:
    service = _service(tmp_path)
    channel = RecordingChannel()

    async def scenario() -> tuple[bool, bool, str, bool]:
        startup = HandoffStartup(service)
        async with serving([channel, startup]) as (app, _):
            started = service_of(app) is service and service.running
            store = service.store
            await asyncio.to_thread(store.request_handoff, SENDER, "socketio", "normal", "投诉", "话题：投诉")
            tracker = await app.ctx.agent.tracker_store.get_or_create_tracker(SENDER)
            tracker.update(UserUttered("转人工", {"name": "request_human", "confidence": 1.0}))
            tracker.update(ConversationPaused())
            tracker.update(UserUttered("不等了", {"name": "stop", "confidence": 1.0}))
            await app.ctx.agent.tracker_store.save(tracker)
            await after_user_message(app, SENDER)  # the gate, with no console anywhere
            status = (await asyncio.to_thread(store.latest_for, SENDER)).status
        return started, service.running, status, service.leadership.acquire()

    started, running_after, status, leads = asyncio.run(scenario())
    assert started and not running_after
    assert status == "cancelled" and "取消" in channel.sent[-1][1]["text"]
    assert leads  # SQLite: every server leads


def test_the_console_without_the_service_answers_503(tmp_path: Path) -> None:
    service = _service(tmp_path)
    HandoffStore(service.settings.db_url).create_schema()

    async def scenario() -> list[tuple[int, str]]:
        async with serving([ConsoleInput(service)]) as (_, url), httpx.AsyncClient(base_url=url) as http:
            headers = {"X-Console-Request": "1"}
            replies = [
                await http.get("/console/api/me"),
                await http.post(
                    "/console/api/login", headers=headers, json={"username": "a", "password": "b"}
                ),
            ]
        return [(r.status_code, r.json()["error"]) for r in replies]

    assert asyncio.run(scenario()) == [(503, "handoff_not_running")] * 2


def test_with_the_service_the_console_answers(tmp_path: Path) -> None:
    service = _service(tmp_path)

    async def scenario() -> int:
        channels = [HandoffStartup(service), ConsoleInput(service)]
        async with serving(channels) as (_, url), httpx.AsyncClient(base_url=url) as http:
            return (await http.get("/console/api/me")).status_code

    assert asyncio.run(scenario()) == 401  # no session: the service runs


def test_one_service_per_process_and_credentials_register_it_before_the_console(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'handoff.db'}")
    service_module.handoff_service.cache_clear()
    try:
        startup, console = HandoffStartup.from_credentials({}), ConsoleInput.from_credentials({})
        assert startup.service is console.service is handoff_service()
    finally:
        service_module.handoff_service.cache_clear()
    entries = list(yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8")))
    assert entries.index("bot.handoff.startup.HandoffStartup") < entries.index(
        "bot.handoff.console.ConsoleInput"
    )
