"""Leaving a message: an anonymous user is asked for a contact (or declines), a verified one is
not; the ticket in the sandbox carries the kind, reference, channel, masked summary and
contact, and the handoff store links it; the user hears when they will be answered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.backend.sandbox import SandboxBackend
from actions.flows import handoff
from actions.flows.handoff import ActionHandoff
from actions.flows.messages_left import ActionLeaveMessage, ActionMessageLeft, ValidateMessageForm
from tests.actions.conftest import responses
from tests.actions.trackers import user_event

pytestmark = pytest.mark.anyio


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'db' / 'handoff.db'}")
    monkeypatch.setenv("HANDOFF_AGENT_HOURS", "00:00-24:00")
    monkeypatch.setenv("HANDOFF_RETRY_DIR", str(tmp_path / "retry"))
    monkeypatch.setenv("HANDOFF_MESSAGE_SLA_HOURS", "12")
    handoff.handoff_client.cache_clear()
    client = handoff.handoff_client()
    client.store.create_schema()
    yield client.store
    client.close()
    handoff.handoff_client.cache_clear()


def _tracker(text: str, intent: str, channel: str = "socketio", **slots: Any) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []}
    history = [
        user_event("我昨天转账给李娜失败了，手机号13800138000", "transaction_failed"),
        {"event": "action", "name": "action_explain_transaction"},
    ]
    events = [*history, {"event": "user", "text": text, "parse_data": message, "input_channel": channel}]
    return Tracker(
        sender_id="widget:0123456789abcdef",
        slots=slots,
        latest_message=message,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": "message_form"} if slots.get("requested_slot") else {},
        latest_action_name="action_listen",
    )


def _slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def _leave(store: Any, dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    """Nobody on duty: action_handoff leaves the message."""
    return await ActionHandoff().run(dispatcher, _tracker("转人工", "request_human"), {})


async def test_an_anonymous_user_is_asked_for_a_contact_then_gets_a_ticket(
    sandbox: SandboxBackend, store: Any
) -> None:
    dispatcher = CollectingDispatcher()
    events = await _leave(store, dispatcher)
    assert responses(dispatcher) == ["utter_handoff_message_left"]
    assert {"event": "followup", "name": "message_form", "timestamp": None} in events
    (left,) = store.messages.listed()
    assert left.ticket_id is None  # no ticket before the contact is asked

    asked = CollectingDispatcher()
    reply = _tracker("我的手机是 139 1234 5678", "inform", requested_slot="callback_contact")
    found = await ValidateMessageForm().extract_callback_contact(asked, reply, {})
    assert found["callback_contact"] == "sms:13912345678" and asked.messages == []

    done = CollectingDispatcher()
    submitted = _tracker("我的手机是 139 1234 5678", "inform", callback_contact=found["callback_contact"])
    await ActionLeaveMessage().run(done, submitted, {})
    (said,) = done.messages
    assert said["response"] == "utter_message_left_done"
    assert (
        said["contact"] == "139****5678"
        and said["sla_hours"] == 12
        and said["reference"] == left.handoff.reference
    )
    message = store.messages.get(left.handoff.id)
    assert message.ticket_id == said["ticket_id"] and message.contact == "139****5678"
    ticket = sandbox.get_ticket(said["ticket_id"])
    assert ticket.kind == "message_left" and ticket.account_id is None
    assert f"留言编号：{left.handoff.reference}" in ticket.summary and "渠道：网页" in ticket.summary
    assert "联系方式：139****5678" in ticket.summary and "13912345678" not in ticket.summary
    assert "13800138000" not in ticket.summary  # the bot's summary, masked


@pytest.mark.parametrize(("text", "intent"), [("不留了", "inform"), ("算了", "stop"), ("不要", "deny")])
async def test_a_user_may_decline_and_is_answered_on_the_channel(
    sandbox: SandboxBackend, store: Any, text: str, intent: str
) -> None:
    await _leave(store, CollectingDispatcher())
    reply = _tracker(text, intent, requested_slot="callback_contact")
    found = await ValidateMessageForm().extract_callback_contact(CollectingDispatcher(), reply, {})
    assert found["callback_contact"] == "none:"
    done = CollectingDispatcher()
    await ActionLeaveMessage().run(done, _tracker(text, intent, callback_contact="none:"), {})
    assert responses(done) == ["utter_message_left_done_no_contact"]
    (left,) = store.messages.listed()
    assert left.ticket_id and left.contact is None and left.contact_kind == "none"


async def test_a_reply_that_is_no_contact_is_asked_again_then_left_without(
    sandbox: SandboxBackend, store: Any
) -> None:
    await _leave(store, CollectingDispatcher())
    first = CollectingDispatcher()
    reply = _tracker("你们怎么这么慢", "complaint", requested_slot="callback_contact")
    assert await ValidateMessageForm().extract_callback_contact(first, reply, {}) == {"form_failures": 1.0}
    assert responses(first) == ["utter_callback_contact_invalid"]
    again = _tracker("还是很慢", "complaint", requested_slot="callback_contact", form_failures=1.0)
    found = await ValidateMessageForm().extract_callback_contact(CollectingDispatcher(), again, {})
    assert found["callback_contact"] == "none:"


async def test_a_verified_user_is_not_asked_and_gets_a_ticket_at_once(
    sandbox: SandboxBackend, store: Any
) -> None:
    dispatcher = CollectingDispatcher()
    verified = _tracker("转人工", "request_human", account_id="U1001")
    events = await ActionHandoff().run(dispatcher, verified, {})
    assert responses(dispatcher) == ["utter_handoff_message_left", "utter_message_left_done_account"]
    assert all(e.get("event") != "followup" for e in events)
    (left,) = store.messages.listed()
    assert left.contact_kind == "account"
    assert sandbox.get_ticket(str(left.ticket_id)).account_id == "U1001"


async def test_an_expired_wait_asks_for_the_contact(sandbox: SandboxBackend, store: Any) -> None:
    waited = store.request_handoff(
        "widget:0123456789abcdef", "socketio", "normal", "交易失败", "话题：交易失败"
    )
    store.leave_message(waited.id)
    dispatcher = CollectingDispatcher()
    events = await ActionMessageLeft().run(dispatcher, _tracker("", "EXTERNAL_message_left"), {})
    assert {"event": "followup", "name": "message_form", "timestamp": None} in events
    none_left = CollectingDispatcher()
    store.messages.attach_ticket(waited.id, "T1", None, "none")
    assert await ActionMessageLeft().run(none_left, _tracker("", "EXTERNAL_message_left"), {}) == []
