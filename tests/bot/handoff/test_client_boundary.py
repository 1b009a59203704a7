"""The action server reaches the handoff through its narrow client only, loads none of the Rasa
server's code for it, and each server keeps working while the other restarts (they share
nothing but the handoff database)."""

from __future__ import annotations

import ast
import asyncio
import functools
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from rasa.core.agent import Agent as RasaAgent
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain

from bot.handoff.client import HandoffClient
from bot.handoff.service import HandoffService
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffStore
from tests.bot.handoff.conftest import FakeClock
from tests.bot.handoff.test_lifecycle import RecordingChannel

ROOT = Path(__file__).resolve().parents[3]
# What the action server may import of the handoff: the client, and pure helpers.
ALLOWED = {"bot.handoff.client", "bot.handoff.attachment_refs", "bot.handoff.ids"}


def _handoff_modules(path: Path) -> set[str]:
    """The handoff modules a file imports (``from bot.handoff import x`` counts as ``x``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "bot.handoff":
            found |= {f"bot.handoff.{a.name}" for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot.handoff."):
            found.add(str(node.module))
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("bot.handoff")}
    return found


def test_actions_import_only_the_client_and_pure_helpers() -> None:
    imported = {
        str(p.relative_to(ROOT)): _handoff_modules(p) for p in sorted((ROOT / "actions").rglob("*.py"))
    }
    offending = {path: sorted(found - ALLOWED) for path, found in imported.items() if found - ALLOWED}
    assert offending == {}
    assert "bot.handoff.client" in imported["actions/flows/handoff.py"]


def test_the_client_loads_no_rasa_server_code() -> None:
    probe = (
        "import sys, bot.handoff.client, bot.handoff.attachment_refs\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sanic', 'socketio', 'tensorflow')"
        " or m.startswith(('rasa.core', 'bot.channels', 'bot.handoff.service', 'bot.handoff.console'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@functools.lru_cache(maxsize=1)
def _domain() -> Domain:
    return Domain.load("domain.yml")


def _rasa_server(db_url: str, clock: FakeClock) -> tuple[HandoffService, RecordingChannel, SimpleNamespace]:
    settings = HandoffSettings(db_url=db_url, max_wait_seconds=60, expiry_round_seconds=0.05)
    service = HandoffService(settings, HandoffStore(db_url, clock=clock))
    channel = RecordingChannel()
    rasa = RasaAgent(
        domain=_domain(), tracker_store=InMemoryTrackerStore(_domain()), lock_store=InMemoryLockStore()
    )
    return service, channel, SimpleNamespace(ctx=SimpleNamespace(agent=rasa, input_channels=[channel]))


async def _told(channel: RecordingChannel, sender: str) -> None:
    for _ in range(400):
        if any(s == sender for s, _ in channel.sent):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{sender} was never told")


def test_each_server_keeps_working_while_the_other_restarts(db_url: str, tmp_path: Path) -> None:
    clock = FakeClock()
    settings = HandoffSettings(db_url=db_url, agent_hours="00:00-24:00", retry_dir=str(tmp_path / "retry"))
    console = HandoffStore(db_url, clock=clock)  # an agent on duty, so that requests are queued
    console.create_schema()
    token = console.create_session(console.add_agent("xiaowang", "小王", "password-123").id, 86400)

    def ask(client: HandoffClient, sender: str) -> bool:
        console.session_agent(token)  # the agent is seen: still on duty
        return client.request_person(sender, "socketio", "normal", "投诉", "话题：投诉").queued

    def action_server() -> HandoffClient:
        return HandoffClient(settings, HandoffStore(db_url, clock=clock), clock=clock)

    async def scenario() -> None:
        actions = action_server()
        assert await asyncio.to_thread(ask, actions, "widget:a1")
        # the Rasa server starts after the action server, then restarts
        service, channel, app = _rasa_server(db_url, clock)
        await service.start(app)
        clock.advance(120)
        await _told(channel, "widget:a1")
        await service.stop()  # Rasa server down: the action server still takes requests
        assert await asyncio.to_thread(ask, actions, "widget:b2")
        service, channel, app = _rasa_server(db_url, clock)  # back: it finds the request
        await service.start(app)
        clock.advance(120)
        await _told(channel, "widget:b2")
        # the action server restarts while the Rasa server runs
        await asyncio.to_thread(actions.close)
        actions = action_server()
        assert await asyncio.to_thread(ask, actions, "widget:c3")
        clock.advance(120)
        await _told(channel, "widget:c3")
        assert not any(s == "widget:a1" for s, _ in channel.sent)  # told once, by the first server
        await service.stop()
        await asyncio.to_thread(actions.close)

    asyncio.run(scenario())
    console.close()
