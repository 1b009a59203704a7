"""The console's side panel over HTTP: notes and tags (private, validated, audited), the bot's
state, the verified customer's masked profile and open tickets from the sandbox wallet backend,
previous conversations on every channel, and who may see and change them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.events import ActiveLoop, SlotSet

from tests.bad_inputs import bad_payloads
from tests.bot.handoff.console_server import Console, running_console

WIDGET = "widget:0f1e2d3c4b5a6978"
WECHAT = "wechat:oUser0000000000000000000001"
ROUTES = ["context", "notes", "tags", "tags/remove"]


def run(test: Any, tmp_path: Path) -> None:
    async def main() -> None:
        async with running_console(tmp_path) as console:
            await test(console)

    asyncio.run(main())


async def _verified(console: Console, sender_id: str, ticket_id: str | None = None) -> None:
    """The bot verified U1001 in a transaction form, then the user asked for a person."""
    tracker = await console.rasa.tracker_store.get_or_create_tracker(sender_id)
    for event in (
        ActiveLoop("transaction_form"),
        SlotSet("requested_slot", "identity_contact"),
        SlotSet("identity_contact", "13800138000"),
        SlotSet("identity_code", "246810"),
        SlotSet("account_id", "U1001"),
        SlotSet("identity_masked", "138****8000"),
        SlotSet("requested_slot", "transaction_id"),
        *([SlotSet("ticket_id", ticket_id)] if ticket_id else []),
        ActiveLoop(None),
    ):
        tracker.update(event)
    await console.rasa.tracker_store.save(tracker)


def test_the_panel_shows_the_bot_state_the_customer_and_previous_conversations(tmp_path: Path) -> None:
    async def test(console: Console) -> None:
        agent, token = await console.agent("xiaowang", "小王")
        assert console.sandbox is not None
        ticket = await console.db(
            console.sandbox.create_ticket, "U1001", "transaction", "normal", "转账失败 500 元"
        )
        # an earlier conversation of the same customer on WeChat, resolved
        await _verified(console, WECHAT)
        earlier = await console.waiting_user(WECHAT, "wechat")
        await console.db(console.store.take, earlier.id, agent.id)
        await console.db(console.store.resolve, earlier.id, agent.id, "已解决")
        # and a message the customer left on Telegram, with its ticket (linked to the account)
        ticket_left = await console.db(
            console.sandbox.create_ticket, "U1001", "message_left", "normal", "留言"
        )
        left = await console.db(
            console.store.record_message, "telegram:7", "telegram", "normal", "其他", "话题：其他"
        )
        await console.db(
            console.store.messages.attach_ticket, left.id, ticket_left.ticket_id, "13800138000", "phone"
        )
        await console.db(console.store.accounts.link, left.id, "U1001")
        await _verified(console, WIDGET, ticket.ticket_id)
        now = await console.taken_by(agent, WIDGET, "socketio")
        async with console.client(token) as http:
            await http.post(
                f"/api/conversations/{earlier.id}/tags", json={"tag": "交易失败"}
            )  # not theirs any more
            panel = (await http.get(f"/api/conversations/{now.id}/context")).json()
        assert panel["bot"]["flow_label"] == "交易失败查询"
        assert panel["bot"]["step"] == "transaction_id"
        assert {s["name"] for s in panel["bot"]["slots"]} == {"account_id", "identity_masked", "ticket_id"}
        customer = panel["customer"]
        assert customer["verified"] and customer["profile"]["name"] == "张*"
        assert (
            customer["profile"]["phone"] == "138****8000"
            and customer["profile"]["email"] == "z***@example.com"
        )
        assert [t["ticket_id"] for t in customer["tickets"]] == [ticket.ticket_id, ticket_left.ticket_id]
        assert [p["id"] for p in panel["previous"]] == [left.id, earlier.id]  # newest first
        assert panel["previous"][1]["channel"] == "wechat" and panel["previous"][1]["summary"]
        assert "投诉" in panel["tag_choices"] and panel["notes"] == [] and panel["tags"] == []
        for secret in ("13800138000", "246810", "zhangwei@", "张伟"):
            assert secret not in str(panel)

    run(test, tmp_path)


def test_an_anonymous_user_has_no_profile_and_a_backend_outage_keeps_the_panel(tmp_path: Path) -> None:
    async def test(console: Console) -> None:
        agent, token = await console.agent("xiaowang", "小王")
        anonymous = await console.taken_by(agent, "rest:anonymous", "rest")
        await _verified(console, WIDGET)
        verified = await console.taken_by(agent, WIDGET, "socketio")

        def down() -> Any:
            raise ConnectionError("backend down")

        console.app.ctx.input_channels[-1].customer_backend = down
        async with console.client(token) as http:
            first = (await http.get(f"/api/conversations/{anonymous.id}/context")).json()
            assert first["customer"] == {"verified": False, "profile": None, "tickets": [], "error": None}
            second = await http.get(f"/api/conversations/{verified.id}/context")
        assert second.status_code == 200 and second.json()["customer"]["profile"] is None
        assert second.json()["customer"]["error"] == "暂时无法获取客户资料，请稍后刷新。"

    run(test, tmp_path)


def test_notes_and_tags_are_private_validated_and_audited(tmp_path: Path) -> None:
    async def test(console: Console) -> None:
        agent, token = await console.agent("xiaowang", "小王")
        handoff = await console.taken_by(agent, WIDGET, "socketio")
        sent_before = list(console.channels["socketio"].sent)
        async with console.client(token) as http:
            added = await http.post(
                f"/api/conversations/{handoff.id}/notes", json={"text": "用户来电 13800138000"}
            )
            assert added.status_code == 201 and added.json()["note"]["text"] == "用户来电 138****8000"
            assert (
                await http.post(f"/api/conversations/{handoff.id}/tags", json={"tag": "投诉"})
            ).json() == {"tags": ["投诉"]}
            free = await http.post(f"/api/conversations/{handoff.id}/tags", json={"tag": "夜间来电"})
            assert free.json() == {"tags": ["投诉", "夜间来电"]}
            bad = await http.post(f"/api/conversations/{handoff.id}/tags", json={"tag": "<b>x</b>"})
            assert bad.status_code == 400 and "<b>" not in bad.text
            gone = await http.post(f"/api/conversations/{handoff.id}/tags/remove", json={"tag": "投诉"})
            assert gone.json() == {"tags": ["夜间来电"]}
            again = await http.post(f"/api/conversations/{handoff.id}/tags/remove", json={"tag": "投诉"})
            assert again.status_code == 400
            transcript = (await http.get(f"/api/conversations/{handoff.id}/transcript")).text
            no_csrf = await http.post(
                f"/api/conversations/{handoff.id}/notes",
                json={"text": "x"},
                headers={"X-Console-Request": "0"},
            )
            assert no_csrf.status_code == 403
        assert "来电" not in transcript  # a note is never part of the conversation
        assert console.channels["socketio"].sent == sent_before  # nor sent to the user
        tracker = await console.rasa.tracker_store.retrieve(WIDGET)
        assert tracker is not None and "来电" not in str([e.as_dict() for e in tracker.events])
        actions = [e.action for e in await console.db(console.store.audit_log)]
        assert actions.count("note") == 1 and actions.count("tag_added") == 2 and "tag_removed" in actions

    run(test, tmp_path)


def test_rights_the_assigned_agent_or_a_supervisor(tmp_path: Path) -> None:
    async def test(console: Console) -> None:
        agent, token = await console.agent("xiaowang", "小王")
        _, other = await console.agent("xiaoli", "小李")
        _, boss = await console.agent("boss", "主管", role="supervisor")
        handoff = await console.taken_by(agent, WIDGET, "socketio")
        bodies = {
            "context": None,
            "notes": {"text": "备注"},
            "tags": {"tag": "投诉"},
            "tags/remove": {"tag": "投诉"},
        }
        for route in ROUTES:
            method = "GET" if route == "context" else "POST"
            for who, expected in ((None, 401), ("forged", 401), (other, 403)):
                async with console.client(who) as http:
                    reply = await http.request(
                        method, f"/api/conversations/{handoff.id}/{route}", json=bodies[route]
                    )
                    assert reply.status_code == expected, (route, who, reply.status_code)
            async with console.client(boss) as http:
                reply = await http.request(
                    method, f"/api/conversations/{handoff.id}/{route}", json=bodies[route]
                )
                assert reply.status_code in (200, 201), (route, reply.status_code)
            async with console.client(token) as http:
                reply = await http.request(method, f"/api/conversations/999999/{route}", json=bodies[route])
                assert reply.status_code == 404, route

    run(test, tmp_path)


@pytest.mark.parametrize("route", ["notes", "tags", "tags/remove"])
def test_the_bad_input_corpus(tmp_path: Path, route: str) -> None:
    async def test(console: Console) -> None:
        agent, token = await console.agent("xiaowang", "小王")
        handoff = await console.taken_by(agent, WIDGET, "socketio")
        async with console.client(token) as http:
            for name, case in bad_payloads().items():
                path = f"/api/conversations/{handoff.id}/{route}"
                if "raw" in case:
                    raw = case["raw"]
                    content = raw if isinstance(raw, bytes) else str(raw).encode()
                    reply = await http.post(
                        path, content=content, headers={"Content-Type": "application/json"}
                    )
                else:
                    reply = await http.post(path, json=case["body"])
                assert reply.status_code in (400, 413), (name, reply.status_code)
                assert set(reply.json()) == {"error", "message"}
                assert "你好" not in reply.json()["message"]
            too_long = await http.post(path, json={"text": "长" * 2001, "tag": "长" * 100})
            assert too_long.status_code == 400
        assert await console.db(console.store.annotations.notes, handoff.id) == []

    run(test, tmp_path)
