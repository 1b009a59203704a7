"""action_handoff and the rating: queue and pause, or take a message; masked summaries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.backend.sandbox import SandboxBackend
from actions.flows import handoff
from actions.flows.handoff import ActionHandoff, ActionRecordSatisfaction, summary_of
from tests.actions.conftest import responses
from tests.actions.trackers import tracker, user_event

pytestmark = pytest.mark.anyio


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'handoff.db'}")
    monkeypatch.setenv("HANDOFF_AGENT_HOURS", "00:00-24:00")
    handoff.handoff_store.cache_clear()
    _, handoffs = handoff.handoff_store()
    yield handoffs
    handoff.handoff_store.cache_clear()


def _history() -> list[dict[str, Any]]:
    return [
        user_event("我手机号13800138000，转账失败了", "transaction_failed"),
        {"event": "action", "name": "action_explain_transaction"},
    ]


async def test_queued_and_paused_when_an_agent_is_on_duty(
    sandbox: SandboxBackend, store: Any, dispatcher: CollectingDispatcher
) -> None:
    agent = store.add_agent("xiaowang", "小王", "password-123")
    store.touch_agent(agent.id)
    events = await ActionHandoff().run(dispatcher, tracker("fallback_once", events=_history()), {})
    assert {"event": "pause"} in [{"event": e["event"]} for e in events]
    assert responses(dispatcher) == ["utter_handoff_queued"] and dispatcher.messages[0]["position"] == 1
    queued = store.queue()[0]
    assert (
        queued.topic == "交易失败" and "138****8000" in queued.summary and "13800138000" not in queued.summary
    )
    assert "action_explain_transaction" in queued.summary


async def test_nobody_on_duty_takes_a_message(
    sandbox: SandboxBackend, store: Any, dispatcher: CollectingDispatcher
) -> None:
    events = await ActionHandoff().run(dispatcher, tracker("fallback_once", events=_history()), {})
    assert all(e["event"] != "pause" for e in events)
    assert responses(dispatcher) == ["utter_handoff_message_left"]
    assert dispatcher.messages[0]["reference"].startswith("H")
    assert store.queue() == []


async def test_outside_agent_hours_takes_a_message(
    sandbox: SandboxBackend, store: Any, dispatcher: CollectingDispatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = store.add_agent("xiaowang", "小王", "password-123")
    store.touch_agent(agent.id)
    monkeypatch.setattr(handoff, "within_hours", lambda hours, now: False)
    await ActionHandoff().run(dispatcher, tracker("fallback_once"), {})
    assert responses(dispatcher) == ["utter_handoff_message_left"]


async def test_rating_after_a_resolved_conversation(
    sandbox: SandboxBackend, store: Any, dispatcher: CollectingDispatcher
) -> None:
    agent = store.add_agent("xiaowang", "小王", "password-123")
    snapshot = tracker("fallback_once")
    request = store.request_handoff(snapshot.sender_id, "socketio", "normal", "其他", "")
    store.take(request.id, agent.id)
    store.resolve(request.id, agent.id, "done")
    snapshot.latest_message["entities"] = [{"entity": "satisfaction", "value": "4"}]
    await ActionRecordSatisfaction().run(dispatcher, snapshot, {})
    assert responses(dispatcher) == ["utter_rating_thanks"]
    assert store.latest_for(snapshot.sender_id).satisfaction == 4
    await ActionRecordSatisfaction().run(dispatcher, tracker("fallback_once"), {})
    assert responses(dispatcher)[-1] == "utter_rating_unclear"


def test_summary_lists_what_the_bot_tried() -> None:
    text = summary_of(tracker("fallback_once", events=_history()))
    assert "话题：交易失败" in text and "action_session_start" not in text
