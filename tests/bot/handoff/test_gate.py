"""The gate after each user message: only an explicit stop cancels a wait, a denial never does;
a store that is down is answered politely and changes nothing."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.agent import Agent as RasaAgent
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, ConversationPaused, UserUttered
from sqlalchemy import update

from bot.handoff.expiry import expiry_loop, expiry_round
from bot.handoff.gate import after_user_message
from bot.handoff.schema import handoffs
from bot.handoff.service import HandoffService
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffStore
from bot.runtime import turns
from bot.runtime.turns import paused_after_turn, user_turn
from tests.bot.handoff.conftest import OffLoopOnly
from tests.bot.handoff.test_lifecycle import RecordingChannel

SENDER = "widget:0f1e2d3c4b5a6978"
turns.install()  # the processor records whether a user's turn was saved paused


@functools.lru_cache(maxsize=1)
def _domain() -> Domain:
    return Domain.load("domain.yml")


class Setup:
    """A Rasa agent with an in-memory tracker store, a recording channel, the handoff service
    (whose store refuses calls on the event loop)."""

    def __init__(self, db_dir: Path) -> None:
        self.db_dir = db_dir
        settings = HandoffSettings(db_url=f"sqlite:///{db_dir / 'handoff.db'}", db_timeout_seconds=5)
        self.store = HandoffStore(settings.db_url)
        self.store.create_schema()
        self.service = HandoffService(settings, OffLoopOnly(self.store))  # type: ignore[arg-type]
        domain = _domain()
        self.rasa = RasaAgent(
            domain=domain, tracker_store=InMemoryTrackerStore(domain), lock_store=InMemoryLockStore()
        )
        self.channel = RecordingChannel()
        self.app = SimpleNamespace(
            ctx=SimpleNamespace(agent=self.rasa, input_channels=[self.channel], handoff=self.service)
        )

    def wait_for_a_person(self, priority: str = "normal") -> Any:
        handoff = self.store.request_handoff(SENDER, "socketio", priority, "账户安全", "话题：账户安全")
        tracker = asyncio.run(self.rasa.tracker_store.get_or_create_tracker(SENDER))
        tracker.update(UserUttered("有一笔不明交易，转人工", {"name": "request_human", "confidence": 1.0}))
        queued = {"buttons": [{"title": "不等了", "payload": "/stop"}]}
        tracker.update(BotUttered("正在为您转接人工客服…", queued, {"utter_action": "utter_handoff_queued"}))
        tracker.update(ConversationPaused())
        asyncio.run(self.rasa.tracker_store.save(tracker))
        return handoff

    def says(self, text: str, intent: str = "deny", answer: dict[str, Any] | None = None) -> None:
        """The user's message arrives (stored as the processor stores a user's turn), then the gate
        runs."""
        tracker = asyncio.run(self.rasa.tracker_store.get_or_create_tracker(SENDER))
        parse = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": []}
        if answer:
            parse["answer"] = answer
        tracker.update(UserUttered(text, parse["intent"], [], parse, input_channel="socketio"))
        processor = SimpleNamespace(tracker_store=self.rasa.tracker_store)
        with user_turn():
            asyncio.run(MessageProcessor.save_tracker(processor, tracker))  # type: ignore[arg-type]
        asyncio.run(after_user_message(self.app, SENDER))

    def paused(self) -> bool:
        return asyncio.run(self.rasa.tracker_store.retrieve(SENDER)).is_paused()

    def close(self) -> None:
        self.service.workers.close()
        self.store.close()


@pytest.fixture()
def setup(tmp_path: Path) -> Iterator[Setup]:
    (tmp_path / "db").mkdir()
    opened = Setup(tmp_path / "db")
    yield opened
    opened.close()


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("不是我操作的", "deny"),
        ("不", "deny"),
        ("不是", "deny"),
        ("没有", "deny"),
        ("算了", "stop"),
        ("取消", "stop"),
        ("我的卡不用了", "stop"),
    ],
)
def test_a_denial_does_not_drop_an_urgent_handoff(setup: Setup, text: str, intent: str) -> None:
    handoff = setup.wait_for_a_person("urgent")
    setup.says(text, intent)
    assert setup.store.get(handoff.id).status == "pending" and setup.paused()
    assert setup.channel.sent == []


@pytest.mark.parametrize("text", ["不等了", "不用了", "取消转人工", "不转人工了", "算了，不等了"])
def test_an_explicit_stop_cancels(setup: Setup, text: str) -> None:
    handoff = setup.wait_for_a_person("urgent")
    setup.says("不是我操作的")
    setup.says(text, "stop")
    assert setup.store.get(handoff.id).status == "cancelled" and not setup.paused()
    assert "取消" in setup.channel.sent[-1][1]["text"]


def test_the_cancel_button_cancels_clicked_or_typed_as_its_number(setup: Setup) -> None:
    first = setup.wait_for_a_person()
    setup.says("/stop", "stop")
    assert setup.store.get(first.id).status == "cancelled"
    second = setup.wait_for_a_person()
    setup.says("1", "stop", {"kind": "option", "payload": "/stop", "question": "utter_handoff_queued"})
    assert setup.store.get(second.id).status == "cancelled"


def test_an_assigned_conversation_is_not_cancelled(setup: Setup) -> None:
    handoff = setup.wait_for_a_person()
    agent = setup.store.add_agent("xiaowang", "小王", "password-123")
    setup.store.take(handoff.id, agent.id)
    setup.says("不用了", "stop")
    assert setup.store.get(handoff.id).status == "assigned" and setup.paused()


class CountingStore:
    """The handoff store, counting the gate's lookups."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.lookups = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def active_for(self, sender_id: str) -> Any:
        self.lookups += 1
        return self.store.active_for(sender_id)


def test_the_store_is_read_only_for_a_conversation_that_may_be_waiting(setup: Setup) -> None:
    counting = CountingStore(setup.service.store)
    setup.service.store = counting  # type: ignore[assignment]
    setup.says("我转账失败了", "transaction_failed")  # the bot answers: saved unpaused, nobody waits
    assert paused_after_turn(SENDER) is False and counting.lookups == 0
    handoff = setup.wait_for_a_person()
    setup.says("还要等多久", "out_of_scope")  # paused: looked up, still waiting
    assert paused_after_turn(SENDER) is True and counting.lookups == 1
    setup.says("不等了", "stop")
    assert counting.lookups == 2 and setup.store.get(handoff.id).status == "cancelled"
    # saved outside a user's turn (a notice, the console): not recorded, the store is read
    tracker = asyncio.run(setup.rasa.tracker_store.get_or_create_tracker("widget:other"))
    asyncio.run(
        MessageProcessor.save_tracker(SimpleNamespace(tracker_store=setup.rasa.tracker_store), tracker)
    )  # type: ignore[arg-type]
    assert paused_after_turn("widget:other") is None


def test_without_a_handoff_or_a_service_nothing_happens(setup: Setup) -> None:
    asyncio.run(after_user_message(None, SENDER))
    asyncio.run(after_user_message(SimpleNamespace(ctx=SimpleNamespace()), SENDER))
    setup.says("不用了", "stop")  # nobody waits: a plain message for the bot
    assert setup.store.latest_for(SENDER) is None and setup.channel.sent == []


def test_a_store_that_is_down_is_answered_politely(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    handoff = setup.wait_for_a_person("urgent")
    away = setup.db_dir.with_name("away")
    os.rename(setup.db_dir, away)  # the database is gone
    try:
        setup.says("不是我操作的")  # not a stop: nothing to say
        assert setup.channel.sent == []
        setup.says("不等了", "stop")
        assert setup.paused()  # still waiting: nothing was cancelled
        notice = setup.channel.sent[-1][1]
        assert notice["role"] == "system" and "客服热线" in notice["text"] and "不等了" in notice["text"]
        assert "Traceback" not in caplog.text and "不等了" not in caplog.text
    finally:
        os.rename(away, setup.db_dir)
    assert setup.store.get(handoff.id).status == "pending"  # the request was not lost
    setup.says("不等了", "stop")  # back: the stop works
    assert setup.store.get(handoff.id).status == "cancelled"


def test_the_expiry_round_tells_the_user_and_purges_sessions(setup: Setup) -> None:
    handoff = setup.wait_for_a_person()
    agent = setup.store.add_agent("xiaowang", "小王", "password-123")
    setup.store.create_session(agent.id, ttl_seconds=300)
    setup.service.settings = HandoffSettings(db_url=setup.service.settings.db_url, max_wait_seconds=10)
    with setup.store.engine.begin() as conn:  # waited twenty seconds already
        conn.execute(
            update(handoffs).values(created_at=setup.store.get(handoff.id).created_at - timedelta(seconds=20))
        )
    asyncio.run(expiry_round(setup.service, setup.app))  # type: ignore[arg-type]
    assert setup.store.get(handoff.id).status == "message_left" and not setup.paused()
    assert handoff.reference in setup.channel.sent[-1][1]["text"]


def test_the_expiry_loop_survives_a_store_that_is_down(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    os.rename(setup.db_dir, setup.db_dir.with_name("away"))
    rounds = 0

    async def two_rounds() -> None:
        nonlocal rounds
        task = asyncio.create_task(expiry_loop(setup.service, setup.app, seconds=0.01))  # type: ignore[arg-type]
        # until a second round has run (a busy machine may take its time), at most 20 s
        for _ in range(400):
            await asyncio.sleep(0.05)
            rounds = caplog.text.count("the store is unavailable")
            if rounds >= 2 or task.done():
                break
        task.cancel()

    try:
        asyncio.run(two_rounds())
    finally:
        os.rename(setup.db_dir.with_name("away"), setup.db_dir)
    assert rounds >= 2 and "Traceback" not in caplog.text
