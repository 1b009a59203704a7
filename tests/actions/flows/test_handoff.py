"""action_handoff and the rating: queue and pause, or take a message; masked summaries; a
store that is down gets a polite answer and the request is kept until it is back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.backend.sandbox import SandboxBackend
from actions.flows import handoff
from actions.flows.handoff import ActionHandoff, ActionRecordSatisfaction, summary_of
from bot.handoff import client as client_module
from tests.actions.conftest import responses
from tests.actions.trackers import tracker, user_event

pytestmark = pytest.mark.anyio


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'db' / 'handoff.db'}")
    monkeypatch.setenv("HANDOFF_AGENT_HOURS", "00:00-24:00")
    monkeypatch.setenv("HANDOFF_RETRY_DIR", str(tmp_path / "retry"))
    handoff.handoff_client.cache_clear()
    client = handoff.handoff_client()
    client.store.create_schema()
    yield client.store
    client.close()
    handoff.handoff_client.cache_clear()


def _on_duty(store: Any) -> None:
    agent = store.add_agent("xiaowang", "小王", "password-123")
    store.create_session(agent.id)  # a live session: on duty


def _history() -> list[dict[str, Any]]:
    return [
        user_event("我手机号13800138000，转账失败了", "transaction_failed"),
        {"event": "action", "name": "action_explain_transaction"},
    ]


async def test_queued_and_paused_when_an_agent_is_on_duty(
    sandbox: SandboxBackend, store: Any, dispatcher: CollectingDispatcher
) -> None:
    _on_duty(store)
    events = await ActionHandoff().run(dispatcher, tracker("fallback_once", events=_history()), {})
    assert {"event": "pause"} in [{"event": e["event"]} for e in events]
    assert responses(dispatcher) == ["utter_handoff_queued"] and dispatcher.messages[0]["position"] == 1
    assert dispatcher.messages[0]["buttons"] == [{"title": "不等了", "payload": "/stop"}]  # cancel.yml
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
    _on_duty(store)
    monkeypatch.setattr(client_module, "within_hours", lambda hours, now: False)
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


async def test_an_agent_seen_without_a_live_session_is_not_on_duty(
    sandbox: SandboxBackend, store: Any, dispatcher: CollectingDispatcher
) -> None:
    agent = store.add_agent("xiaowang", "小王", "password-123")
    store.end_session(store.create_session(agent.id))  # logged out a moment ago
    store.touch_agent(agent.id)
    await ActionHandoff().run(dispatcher, tracker("fallback_once"), {})
    assert responses(dispatcher) == ["utter_handoff_message_left"]


async def test_a_store_that_is_down_gets_a_polite_answer_and_the_request_is_kept(
    sandbox: SandboxBackend, store: Any, dispatcher: CollectingDispatcher, tmp_path: Path
) -> None:
    os.rename(tmp_path / "db", tmp_path / "db-away")  # the handoff database is gone
    snapshot = tracker("fallback_once", events=_history())
    try:
        events = await ActionHandoff().run(dispatcher, snapshot, {})
    finally:
        os.rename(tmp_path / "db-away", tmp_path / "db")
    assert responses(dispatcher) == ["utter_handoff_unavailable"]
    assert all(e["event"] != "pause" for e in events)  # the bot keeps answering
    client = handoff.handoff_client()
    client.retries.stop()
    assert len(client.spool.waiting()) == 1 and client.spool.flush(store) == 1
    kept = store.latest_for(snapshot.sender_id)
    assert kept.status == "message_left" and kept.priority == "high" and "138****8000" in kept.summary


async def test_a_store_that_never_answers_gets_the_same_answer(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HANDOFF_DB_URL", "postgresql://postgres@127.0.0.1:1/handoff")  # nothing listens
    monkeypatch.setenv("HANDOFF_RETRY_DIR", str(tmp_path / "retry"))
    handoff.handoff_client.cache_clear()
    try:
        await ActionHandoff().run(dispatcher, tracker("fallback_once"), {})
        assert responses(dispatcher) == ["utter_handoff_unavailable"]
        rating = tracker("fallback_once")
        rating.latest_message["entities"] = [{"entity": "satisfaction", "value": "4"}]
        await ActionRecordSatisfaction().run(dispatcher, rating, {})
        assert responses(dispatcher)[-1] == "utter_rating_thanks"  # no error for the user
    finally:
        handoff.handoff_client().close()
        handoff.handoff_client.cache_clear()
    assert len(list((tmp_path / "retry").glob("*.json"))) == 1


async def test_user_text_with_control_characters_still_queues(
    sandbox: SandboxBackend, store: Any, dispatcher: CollectingDispatcher
) -> None:
    _on_duty(store)
    history = [user_event("转人工\x00\x07 我的钱没到", "request_human")]
    await ActionHandoff().run(dispatcher, tracker("fallback_once", events=history), {})
    assert responses(dispatcher) == ["utter_handoff_queued"]
    assert "\x00" not in store.queue()[0].summary
