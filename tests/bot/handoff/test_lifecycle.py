"""The handoff steps against a real (in-memory) Rasa tracker store and a recording channel."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.agent import Agent as RasaAgent
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ConversationPaused, UserUttered

from bot.handoff.lifecycle import Lifecycle
from bot.handoff.store import HandoffStore

SENDER = "a1b2c3d4e5f60718"


class RecordingChannel:
    """A channel that can push; records what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    @staticmethod
    def name() -> str:
        return "socketio"

    async def push(self, sender_id: str, message: dict[str, Any]) -> None:
        self.sent.append((sender_id, message))


@pytest.fixture()
def setup(tmp_path: Path) -> tuple[Lifecycle, HandoffStore, RecordingChannel, RasaAgent]:
    domain = Domain.load("domain.yml")
    rasa = RasaAgent(
        domain=domain, tracker_store=InMemoryTrackerStore(domain), lock_store=InMemoryLockStore()
    )
    channel = RecordingChannel()
    app = SimpleNamespace(ctx=SimpleNamespace(agent=rasa, input_channels=[channel]))
    store = HandoffStore(f"sqlite:///{tmp_path / 'handoff.db'}")
    store.create_schema()
    tracker = asyncio.run(rasa.tracker_store.get_or_create_tracker(SENDER))
    tracker.update(UserUttered("转人工", {"name": "request_human", "confidence": 1.0}))
    tracker.update(ConversationPaused())
    asyncio.run(rasa.tracker_store.save(tracker))
    return Lifecycle(store, app), store, channel, rasa  # type: ignore[arg-type]


def _paused(rasa: RasaAgent) -> bool:
    return asyncio.run(rasa.tracker_store.retrieve(SENDER)).is_paused()


def test_take_reply_and_hand_back(setup: Any) -> None:
    steps, store, channel, rasa = setup
    agent = store.add_agent("xiaowang", "小王", "password-123")
    handoff = store.request_handoff(SENDER, "socketio", "normal", "交易失败", "")
    asyncio.run(steps.take(handoff.id, agent))
    asyncio.run(steps.reply(store.get(handoff.id), agent, "您好"))
    assert [m["role"] for _, m in channel.sent] == ["system", "agent"]
    assert channel.sent[1] == (SENDER, {"text": "您好", "role": "agent", "agent_name": "小王"})
    assert _paused(rasa)
    asyncio.run(steps.hand_back(store.get(handoff.id), agent))
    assert not _paused(rasa)
    tracker = asyncio.run(rasa.tracker_store.retrieve(SENDER))
    assert tracker.latest_action_name == "action_listen"  # the next message starts a fresh turn


def test_resolve_asks_for_a_rating(setup: Any) -> None:
    steps, store, channel, rasa = setup
    agent = store.add_agent("xiaowang", "小王", "password-123")
    handoff = store.request_handoff(SENDER, "socketio", "normal", "其他", "")
    asyncio.run(steps.take(handoff.id, agent))
    asyncio.run(steps.resolve(store.get(handoff.id), agent, "已解答"))
    assert store.get(handoff.id).status == "resolved" and not _paused(rasa)
    # in score order, so that a typed "1" (option 1) and "1分" (its title) mean the same
    assert [b["title"] for b in channel.sent[-1][1]["buttons"]] == ["1 分", "2 分", "3 分", "4 分", "5 分"]


def test_waiting_too_long_leaves_a_message(setup: Any) -> None:
    steps, store, channel, rasa = setup
    handoff = store.request_handoff(SENDER, "socketio", "normal", "其他", "")
    expired = asyncio.run(steps.expire(max_wait_seconds=0))
    assert [h.id for h in expired] == [handoff.id]
    assert store.get(handoff.id).status == "message_left"
    assert handoff.reference in channel.sent[-1][1]["text"] and not _paused(rasa)


def test_stop_waiting(setup: Any) -> None:
    steps, store, channel, rasa = setup
    handoff = store.request_handoff(SENDER, "socketio", "normal", "其他", "")
    asyncio.run(steps.stop_waiting(handoff))
    assert store.get(handoff.id).status == "cancelled" and not _paused(rasa)
    assert "取消" in channel.sent[-1][1]["text"]
