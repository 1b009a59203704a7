"""The console across channels, over HTTP: the channel and WeChat's 48-hour window in the
queue and the conversation, what a push did (delivered, or not and why) in every step's
answer and, persisted, in the transcript after a reload."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from bot.handoff.push import REASONS
from tests.bot.handoff.console_server import Console, running_console

WECHAT = "wechat:oUser0000000000000000000001"
TELEGRAM = "telegram:2000000001"
WIDGET = "widget:0f1e2d3c4b5a6978"
REST = "rest:0a0b0c0d0e0f"


def run(test: Any, tmp_path: Path) -> None:
    async def main() -> None:
        async with running_console(tmp_path) as console:
            await test(console)

    asyncio.run(main())


async def _user_wrote_at(console: Console, sender_id: str, seconds_ago: float) -> None:
    """Move the user's messages back in time, as if they last wrote ``seconds_ago``."""
    tracker = await console.rasa.tracker_store.retrieve(sender_id)
    assert tracker is not None
    for event in tracker.events:
        if event.type_name == "user":
            event.timestamp = time.time() - seconds_ago
    await console.rasa.tracker_store.save(tracker)


def test_the_queue_shows_each_channel_and_the_wechat_window(tmp_path: Path) -> None:
    async def test(console: Console) -> None:
        _, token = await console.agent("xiaowang", "小王")
        for sender, channel in (
            (WECHAT, "wechat"),
            (TELEGRAM, "telegram"),
            (WIDGET, "socketio"),
            (REST, "rest"),
        ):
            await console.waiting_user(sender, channel)
        await _user_wrote_at(console, WECHAT, 47 * 3600)
        async with console.client(token) as http:
            reply = await http.get("/api/queue")
        assert reply.status_code == 200
        shown = {h["channel"]: h for h in reply.json()["handoffs"]}
        assert set(shown) == {"wechat", "telegram", "socketio", "rest"}
        window = shown["wechat"]["window"]
        assert window["hours"] == 48 and window["open"] is True
        assert 3590 <= window["seconds_left"] <= 3600  # 48 h since the user's last message, 47 h ago
        assert all(shown[c]["window"] is None for c in ("telegram", "socketio", "rest"))
        assert all(h["undelivered"] == 0 for h in shown.values())

    run(test, tmp_path)


def test_a_closed_window_is_shown_and_a_reply_is_not_delivered_with_its_reason(tmp_path: Path) -> None:
    async def test(console: Console) -> None:
        agent, token = await console.agent("xiaowang", "小王")
        handoff = await console.taken_by(agent, WECHAT, "wechat")
        await _user_wrote_at(console, WECHAT, 49 * 3600)
        console.channels["wechat"].refuse = "window_closed"
        async with console.client(token) as http:
            sent = await http.post(
                f"/api/conversations/{handoff.id}/messages", json={"text": "您好，还在吗？"}
            )
            assert sent.status_code == 201
            assert sent.json()["delivery"] == {
                "delivered": False,
                "reason": "window_closed",
                "explanation": REASONS["window_closed"],
            }
            # a reload: the outcome was kept, with the message, and counted on the conversation
            shown = (await http.get(f"/api/conversations/{handoff.id}/transcript")).json()
            mine = (await http.get("/api/conversations")).json()["handoffs"]
        by_text = {m["text"]: m for m in shown["messages"]}
        assert by_text["您好，还在吗？"]["delivery"]["delivered"] is False
        assert by_text["您好，还在吗？"]["delivery"]["explanation"] == REASONS["window_closed"]
        taken = next(m for m in shown["messages"] if m["role"] == "system")
        assert taken["delivery"]["delivered"] is True  # the take's notice went out before
        assert shown["handoff"]["window"]["open"] is False and shown["handoff"]["window"]["seconds_left"] == 0
        assert shown["handoff"]["undelivered"] == 1 and mine[0]["undelivered"] == 1
        assert console.channels["wechat"].sent[-1][1]["role"] == "system"  # the reply never went out

    run(test, tmp_path)


@pytest.mark.parametrize("reason", ["quota", "unsubscribed", "unavailable"])
def test_every_step_answers_with_its_delivery(tmp_path: Path, reason: str) -> None:
    async def test(console: Console) -> None:
        _, token = await console.agent("xiaowang", "小王")
        other, _ = await console.agent("laoli", "老李")
        pending = await console.waiting_user(TELEGRAM, "telegram")
        console.channels["telegram"].refuse = reason
        async with console.client(token) as http:
            taken = await http.post(f"/api/conversations/{pending.id}/take")
            moved = await http.post(f"/api/conversations/{pending.id}/transfer", json={"agent_id": other.id})
        for reply in (taken, moved):
            assert reply.status_code == 200
            assert reply.json()["delivery"] == {
                "delivered": False,
                "reason": reason,
                "explanation": REASONS[reason],
            }
        assert reply.json()["handoff"]["undelivered"] == 2
        entries = await console.db(console.store.audit_log)
        assert [e.detail for e in entries if e.action == "undelivered"] == [REASONS[reason]] * 2

    run(test, tmp_path)


def test_a_delivered_step_and_a_channel_without_push(tmp_path: Path) -> None:
    async def test(console: Console) -> None:
        agent, token = await console.agent("xiaowang", "小王")
        widget = await console.taken_by(agent, WIDGET, "socketio")
        rest = await console.taken_by(agent, REST, "rest")
        async with console.client(token) as http:
            to_widget = await http.post(f"/api/conversations/{widget.id}/messages", json={"text": "好的"})
            to_rest = await http.post(f"/api/conversations/{rest.id}/resolve", json={"note": ""})
        assert to_widget.json()["delivery"] == {"delivered": True, "reason": None, "explanation": None}
        assert to_widget.json()["message"] == {"text": "好的", "role": "agent", "agent_name": "小王"}
        assert console.channels["socketio"].sent[-1] == (WIDGET, to_widget.json()["message"])
        assert to_rest.json()["delivery"]["reason"] == "no_push"
        outcomes = await console.db(console.store.deliveries.for_sender, REST)
        assert len(outcomes) == 3 and not any(d.delivered for d in outcomes.values())  # taken, resolved, rate

    run(test, tmp_path)
