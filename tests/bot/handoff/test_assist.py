"""Agent assist: canned replies ranked by the NLU of the latest message and the topic; the
console's suggestions route (rights, no sending)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.shared.core.events import UserUttered

from bot.handoff.assist import CannedReply, latest_reading, load_replies, parse_replies, suggest
from tests.bot.handoff.console_server import Console, running_console

REPLIES = [
    CannedReply("您好，请问有什么可以帮您？"),
    CannedReply("请提供交易单号。", ("transaction_failed",), ("交易失败",)),
    CannedReply("退款 1-3 个工作日到账。", ("transaction_failed",)),
    CannedReply("请勿发送密码。", ("account_security", "forgot_password"), ("账户安全",)),
    CannedReply("感谢您的耐心。", ("thank",)),
]


def test_replies_are_ranked_by_intent_confidence_and_topic() -> None:
    intents = {"transaction_failed": 0.8, "account_security": 0.15, "thank": 0.01}
    shown = [s["text"] for s in suggest(REPLIES, intents, "交易失败")]
    assert shown == ["请提供交易单号。", "退款 1-3 个工作日到账。", "请勿发送密码。"]
    by_topic = [s["text"] for s in suggest(REPLIES, {"account_security": 0.2}, "账户安全")]
    assert by_topic == ["请勿发送密码。"]
    assert suggest(REPLIES, {"greet": 0.9}, "其他") == []  # nothing about the message: no guess
    assert len(suggest(REPLIES, {"transaction_failed": 0.9, "forgot_password": 0.5, "thank": 0.4}, "")) == 3


def test_the_latest_typed_message_is_read() -> None:
    events = [
        {
            "event": "user",
            "text": "转账失败了",
            "parse_data": {
                "intent_ranking": [
                    {"name": "transaction_failed", "confidence": 0.9},
                    {"name": "complaint", "confidence": 0.1},
                ]
            },
        },
        {"event": "bot", "text": "请问是哪一笔？"},
        {"event": "user", "text": "/affirm", "parse_data": {"intent": {"name": "affirm", "confidence": 1}}},
    ]
    assert latest_reading(events) == ("转账失败了", {"transaction_failed": 0.9, "complaint": 0.1})
    assert latest_reading([{"event": "bot", "text": "hi"}]) is None


def test_the_shipped_file_is_valid_and_plain_strings_are_general() -> None:
    replies = load_replies()
    assert len(replies) >= 10 and all(r.text for r in replies)
    assert {"transaction_failed", "forgot_password", "account_security", "complaint"} <= {
        i for r in replies for i in r.intents
    }
    assert parse_replies(["您好"]) == [CannedReply("您好")]
    with pytest.raises(ValueError):
        parse_replies([{"intents": ["greet"]}])
    with pytest.raises(ValueError):
        parse_replies({"text": "x"})


def test_the_console_suggests_for_the_assigned_agent_only(tmp_path: Path) -> None:
    async def test(console: Console) -> None:
        agent, token = await console.agent("xiaowang", "小王")
        _, other = await console.agent("laoli", "老李")
        _, boss = await console.agent("boss", "主管", "supervisor")
        handoff = await console.taken_by(agent, "widget:00000000000000aa", "socketio")
        tracker = await console.rasa.tracker_store.get_or_create_tracker(handoff.sender_id)
        ranking = [
            {"name": "transaction_failed", "confidence": 0.93},
            {"name": "complaint", "confidence": 0.05},
        ]
        tracker.update(
            UserUttered(
                "我转账的钱没到账",
                {"name": "transaction_failed", "confidence": 0.93},
                parse_data={"intent_ranking": ranking},
                input_channel="socketio",
            )
        )
        await console.rasa.tracker_store.save(tracker)
        async with console.client(token) as http:
            reply = await http.get(f"/api/conversations/{handoff.id}/suggestions")
        assert reply.status_code == 200
        body = reply.json()
        assert body["for"] == "我转账的钱没到账" and 1 <= len(body["suggestions"]) <= 3
        assert all("transaction_failed" in s["intents"] for s in body["suggestions"])
        async with console.client(other) as http:
            assert (await http.get(f"/api/conversations/{handoff.id}/suggestions")).status_code == 403
        async with console.client(boss) as http:
            assert (await http.get(f"/api/conversations/{handoff.id}/suggestions")).status_code == 200
        async with console.client(None) as http:
            assert (await http.get(f"/api/conversations/{handoff.id}/suggestions")).status_code == 401
        async with console.client(token) as http:
            assert (await http.get("/api/conversations/999999/suggestions")).status_code == 404
        assert [
            m for _, m in console.channels["socketio"].sent if m.get("role") == "agent"
        ] == []  # never sent

    async def main() -> None:
        async with running_console(tmp_path) as console:
            await test(console)

    asyncio.run(main())
