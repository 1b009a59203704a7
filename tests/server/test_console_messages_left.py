"""Messages left end to end over the real servers: a widget user waits, the wait times out (the
real expiry sweep), the bot asks for a contact, the ticket is opened in the sandbox, the message
is in the console's 留言 queue, and the agent's answer reaches the widget."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from tests.server.console_helpers import clear_login_failures, ensure_agents, handoff_store, login
from tests.server.widget_client import Widget
from tests.servers import Servers

pytestmark = pytest.mark.server


def _texts(widget: Widget) -> list[str]:
    return [str((d or {}).get("text") or "") for d in widget.of("bot_uttered")]


def _until(widget: Widget, words: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [t for t in _texts(widget) if words in t]
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no message with {words!r}: {_texts(widget)}")


def test_timed_out_contact_asked_ticket_queue_answer_on_the_widget(servers: Servers) -> None:
    from actions.backend.sandbox import SandboxBackend
    from bot.handoff.schema import handoffs

    store: Any = handoff_store(servers)
    ensure_agents(store, ("msg_agent", "小留", "agent"))
    clear_login_failures(store)
    agent = login(servers, "msg_agent")  # on duty: the user is queued, then waits too long
    widget = Widget(servers.rasa_url)
    widget.connect()
    try:
        widget.say("转人工")
        _until(widget, "排队")
        sender = f"widget:{widget.session_id}"
        waiting = store.active_for(sender)
        assert waiting is not None and waiting.status == "pending"
        with store.engine.begin() as conn:  # as if an hour had passed (HANDOFF_MAX_WAIT_SECONDS is 600)
            conn.execute(
                update(handoffs)
                .where(handoffs.c.id == waiting.id)
                .values(created_at=waiting.created_at - timedelta(hours=1))
            )
        assert waiting.reference in _until(widget, "转为留言")  # told by the sweep, within a round
        _until(widget, "手机号或邮箱")  # the bot asks the anonymous user for a contact
        widget.say("我的手机号 13912345678")
        done = _until(widget, "工单号")
        assert "139****5678" in done and "13912345678" not in done and "小时内" in done

        left = store.messages.get(waiting.id)
        assert left.contact == "139****5678" and left.ticket_id and left.ticket_id in done
        ticket = SandboxBackend(servers.sandbox_db).get_ticket(left.ticket_id)
        assert ticket.kind == "message_left" and ticket.account_id is None
        assert f"留言编号：{waiting.reference}" in ticket.summary and "渠道：网页" in ticket.summary
        assert "联系方式：139****5678" in ticket.summary

        listed = agent.get("/api/messages").json()["messages"]
        shown = next(m for m in listed if m["id"] == waiting.id)
        assert shown["reachable"] is True and shown["ticket_id"] == left.ticket_id
        assert shown["seconds_left"] > 0 and shown["contact"] == "139****5678"
        reply = agent.post(f"/api/messages/{waiting.id}/reply", json={"text": "您好，已收到您的留言。"})
        assert reply.status_code == 201 and reply.json()["delivery"]["delivered"] is True
        _until(widget, "已收到您的留言")
        assert store.messages.get(waiting.id).answer_kind == "channel"
        actions = [e.action for e in store.audit_log(50) if e.handoff_id == waiting.id]
        assert {"expire", "message_ticket", "message_answered"} <= set(actions)
    finally:
        widget.close()
        agent.close()
        store.close()
