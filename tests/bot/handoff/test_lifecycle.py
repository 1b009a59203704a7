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
from rasa.shared.core.events import BotUttered, ConversationPaused, UserUttered
from sqlalchemy.exc import OperationalError

from bot.handoff import transcript
from bot.handoff.deliveries import DeliveryRecord
from bot.handoff.errors import InvalidInput
from bot.handoff.ids import new_id
from bot.handoff.lifecycle import Lifecycle
from bot.handoff.push import REASONS, Delivery, NotDeliverable
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


class RefusingChannel(RecordingChannel):
    """A channel whose platform refuses every message (WeChat after the 48-hour window)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason
        self.tries = 0

    async def push(self, sender_id: str, message: dict[str, Any]) -> None:
        self.tries += 1
        raise NotDeliverable(self.reason, "errcode 45015")


def _outcomes(store: HandoffStore) -> list[tuple[bool, str | None]]:
    return [(d.delivered, d.reason) for d in store.deliveries.for_sender(SENDER).values()]


def test_every_step_records_what_its_push_did(setup: Any) -> None:
    steps, store, _, rasa = setup
    agent = store.add_agent("xiaowang", "小王", "password-123")
    handoff = store.request_handoff(SENDER, "socketio", "normal", "交易失败", "")
    taken = asyncio.run(steps.take(handoff.id, agent))
    sent = asyncio.run(steps.reply(taken.handoff, agent, "您好"))
    assert taken.delivery == Delivery(True) and sent.delivery == Delivery(True)
    assert sent.message == {"text": "您好", "role": "agent", "agent_name": "小王"}
    tracker = asyncio.run(rasa.tracker_store.retrieve(SENDER))
    ids = [transcript.message_id(e) for e in tracker.events if isinstance(e, BotUttered)]
    assert all(ids) and set(ids) == set(store.deliveries.for_sender(SENDER))
    assert _outcomes(store) == [(True, None), (True, None)]


def test_a_refused_push_stops_the_rest_and_every_message_is_recorded_undelivered(setup: Any) -> None:
    steps, store, _, rasa = setup
    refusing = RefusingChannel("unsubscribed")
    steps.app.ctx.input_channels = [refusing]
    agent = store.add_agent("xiaowang", "小王", "password-123")
    handoff = store.request_handoff(SENDER, "socketio", "normal", "交易失败", "")
    store.take(handoff.id, agent.id)
    done = asyncio.run(steps.resolve(store.get(handoff.id), agent, "已解答"))
    assert done.delivery == Delivery(False, "unsubscribed") and done.handoff.status == "resolved"
    assert refusing.tries == 1  # the rating question would overtake the refused notice: not tried
    assert _outcomes(store) == [(False, "unsubscribed"), (False, "unsubscribed")]
    assert store.deliveries.undelivered([handoff.id]) == {handoff.id: 2}
    assert [e.detail for e in store.audit_log() if e.action == "undelivered"] == [REASONS["unsubscribed"]] * 2
    assert not asyncio.run(rasa.tracker_store.retrieve(SENDER)).is_paused()  # the step itself stands


def test_a_notice_of_expiry_that_cannot_be_delivered_is_recorded(setup: Any) -> None:
    steps, store, _, _ = setup
    steps.app.ctx.input_channels = [RefusingChannel("window_closed")]
    handoff = store.request_handoff(SENDER, "socketio", "normal", "其他", "")
    asyncio.run(steps.expire(max_wait_seconds=0))
    assert _outcomes(store) == [(False, "window_closed")]
    assert store.deliveries.undelivered([handoff.id]) == {handoff.id: 1}


def test_without_a_push_channel_the_message_is_kept_as_not_delivered(setup: Any) -> None:
    steps, store, _, rasa = setup
    steps.app.ctx.input_channels = []
    agent = store.add_agent("xiaowang", "小王", "password-123")
    handoff = store.request_handoff(SENDER, "rest", "normal", "其他", "")
    taken = asyncio.run(steps.take(handoff.id, agent))
    assert taken.delivery == Delivery(False, "no_push")
    assert (
        "已接入" in asyncio.run(rasa.tracker_store.retrieve(SENDER)).events[-1].text
    )  # still in the transcript


def test_an_outcome_that_cannot_be_recorded_is_logged_and_the_step_stands(
    setup: Any, caplog: pytest.LogCaptureFixture
) -> None:
    steps, store, channel, _ = setup
    agent = store.add_agent("xiaowang", "小王", "password-123")
    handoff = store.request_handoff(SENDER, "socketio", "normal", "其他", "")
    store.take(handoff.id, agent.id)

    def down(records: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    store.deliveries.record = down
    sent = asyncio.run(steps.reply(store.get(handoff.id), agent, "您好"))
    assert sent.delivery == Delivery(True) and channel.sent[-1][1]["text"] == "您好"
    assert "not recorded" in caplog.text


def test_outcomes_are_checked(store: HandoffStore) -> None:
    ok = DeliveryRecord(new_id(), SENDER, None, "wechat", False, "quota")
    store.deliveries.record([ok])
    for bad in (
        DeliveryRecord("not-an-id", SENDER, None, "wechat", True),
        DeliveryRecord(new_id(), SENDER, None, "wechat", False, "because"),
        DeliveryRecord(new_id(), SENDER, None, "wechat", True, "quota"),
        DeliveryRecord(new_id(), SENDER, None, "wechat", False, None),
        DeliveryRecord(new_id(), "", None, "wechat", True),
    ):
        with pytest.raises(InvalidInput):
            store.deliveries.record([bad])
    assert list(store.deliveries.for_sender(SENDER)) == [ok.message_id]
    assert store.deliveries.counts([SENDER, "other"]) == {SENDER: 1, "other": 0}
