"""The console's 留言 queue over HTTP: SLA timers, an answer delivered on the user's channel, a
call back when the channel cannot reach the user, one answer per message, rights, bad input."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.bad_inputs import bad_payloads
from tests.bot.handoff.console_server import Console, running_console

WIDGET = "widget:0f1e2d3c4b5a6978"
WECHAT = "wechat:oUser0000000000000000000001"
REST = "rest:0a0b0c0d0e0f"


def run(test: Any, tmp_path: Path, **settings: Any) -> None:
    async def main() -> None:
        async with running_console(tmp_path, **settings) as console:
            await test(console)

    asyncio.run(main())


async def _left(console: Console, sender_id: str, channel: str) -> int:
    handoff = await console.waiting_user(sender_id, channel)
    await console.db(console.store.leave_message, handoff.id)
    await console.db(
        console.store.messages.attach_ticket, handoff.id, "T202611250001", "13800138000", "phone"
    )
    return handoff.id


def test_the_queue_shows_due_times_and_masked_contacts(tmp_path: Path) -> None:
    async def test(console: Console) -> None:
        _, token = await console.agent("xiaowang", "小王")
        left = await _left(console, WIDGET, "socketio")
        async with console.client(token) as http:
            reply = await http.get("/api/messages")
        assert reply.status_code == 200
        body = reply.json()
        assert body["sla_hours"] == 4
        (shown,) = body["messages"]
        assert shown["id"] == left and shown["ticket_id"] == "T202611250001"
        assert shown["contact"] == "138****8000" and "13800138000" not in reply.text
        assert 4 * 3600 - 60 <= shown["seconds_left"] <= 4 * 3600 and not shown["overdue"]
        assert shown["reachable"] is True and shown["answered"] is False

    run(test, tmp_path, message_sla_hours=4)


def test_an_answer_reaches_the_widget_and_closes_the_message(tmp_path: Path) -> None:
    async def test(console: Console) -> None:
        _, token = await console.agent("xiaowang", "小王")
        left = await _left(console, WIDGET, "socketio")
        async with console.client(token) as http:
            reply = await http.post(f"/api/messages/{left}/reply", json={"text": "您好，您的问题已处理。"})
            assert reply.status_code == 201, reply.text
            assert reply.json()["delivery"]["delivered"] is True
            assert reply.json()["message"]["answered"] is True
            assert reply.json()["message"]["answer_kind"] == "channel"
            again = await http.post(f"/api/messages/{left}/reply", json={"text": "再说一次"})
            assert again.status_code == 409
            assert (await http.get("/api/messages")).json()["messages"] == []
            shown = (await http.get(f"/api/messages/{left}")).json()
        (sent,) = console.channels["socketio"].sent
        assert sent == (WIDGET, {"text": "您好，您的问题已处理。", "role": "agent", "agent_name": "小王"})
        assert shown["messages"][-1]["role"] == "agent" and shown["messages"][-1]["delivery"]["delivered"]
        actions = [e.action for e in await console.db(console.store.audit_log, 5)]
        assert "message_answered" in actions

    run(test, tmp_path)


def test_an_unreachable_user_is_called_back_with_a_note(tmp_path: Path) -> None:
    async def test(console: Console) -> None:
        _, token = await console.agent("xiaowang", "小王")
        left = await _left(console, REST, "rest")
        async with console.client(token) as http:
            listed = (await http.get("/api/messages")).json()["messages"]
            assert listed[0]["reachable"] is False
            reply = await http.post(f"/api/messages/{left}/reply", json={"text": "您好"})
            assert reply.status_code == 201 and reply.json()["delivery"]["delivered"] is False
            assert reply.json()["message"]["answered"] is False  # still open: call back
            done = await http.post(f"/api/messages/{left}/callback", json={"note": "已致电 13800138000"})
            assert done.status_code == 200
            assert done.json()["message"]["answer_kind"] == "callback"
            assert "13800138000" not in done.text
            answered = (await http.get("/api/messages?state=answered")).json()["messages"]
        assert [m["id"] for m in answered] == [left]
        actions = [e.action for e in await console.db(console.store.audit_log, 5)]
        assert "message_called_back" in actions and "message_unreachable" in actions

    run(test, tmp_path)


def test_a_wechat_user_is_reachable_only_within_the_window(tmp_path: Path) -> None:
    async def test(console: Console) -> None:
        _, token = await console.agent("xiaowang", "小王")
        await _left(console, WECHAT, "wechat")
        async with console.client(token) as http:
            (shown,) = (await http.get("/api/messages")).json()["messages"]
        assert shown["reachable"] is True and shown["window"]["open"] is True

    run(test, tmp_path)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/messages"),
        ("GET", "/api/messages/1"),
        ("POST", "/api/messages/1/reply"),
        ("POST", "/api/messages/1/callback"),
    ],
)
def test_every_route_needs_a_login(tmp_path: Path, method: str, path: str) -> None:
    async def test(console: Console) -> None:
        async with console.client(None) as http:
            assert (await http.request(method, path, json={})).status_code == 401
        async with console.client("forged") as http:
            assert (await http.request(method, path, json={})).status_code == 401

    run(test, tmp_path)


def test_bad_input_and_unknown_messages(tmp_path: Path) -> None:
    async def test(console: Console) -> None:
        _, token = await console.agent("xiaowang", "小王")
        left = await _left(console, WIDGET, "socketio")
        async with console.client(token) as http:
            assert (await http.get("/api/messages?state=<script>")).status_code == 400
            assert "script" not in (await http.get("/api/messages?state=<script>")).text
            assert (await http.get("/api/messages/999999")).status_code == 404
            assert (await http.post("/api/messages/999999/callback", json={"note": "x"})).status_code == 404
            for name, case in bad_payloads().items():
                for step in ("reply", "callback"):
                    if "raw" in case:
                        raw = case["raw"]
                        content = raw if isinstance(raw, bytes) else str(raw).encode()
                        reply = await http.post(
                            f"/api/messages/{left}/{step}",
                            content=content,
                            headers={"Content-Type": "application/json"},
                        )
                    else:
                        reply = await http.post(f"/api/messages/{left}/{step}", json=case["body"])
                    assert reply.status_code in (400, 413), (name, step, reply.status_code)
                    assert set(reply.json()) == {"error", "message"}
            no_csrf = await http.post(
                f"/api/messages/{left}/callback", json={"note": "x"}, headers={"X-Console-Request": "0"}
            )
            assert no_csrf.status_code == 403
        assert console.channels["socketio"].sent == []
        assert (await console.db(console.store.messages.get, left)).open

    run(test, tmp_path)
