"""Whole flows over HTTP with both servers running, checked in the sandbox afterwards."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import uuid
from typing import Any

import httpx
import pytest

from actions.backend.sandbox import SandboxBackend
from bot.identity import sign_identity
from tests.servers import IDENTITY_SECRET, REST_HEADERS, Servers

pytestmark = pytest.mark.server


class Chat:
    """One user's conversation with the running bot."""

    def __init__(self, servers: Servers, metadata: dict[str, Any] | None = None) -> None:
        self.servers, self.sender, self.metadata = servers, uuid.uuid4().hex, metadata

    @property
    def conversation_id(self) -> str:
        """The tracker's sender id: REST senders live in the ``rest:`` namespace."""
        return f"rest:{self.sender}"

    def say(self, text: str) -> str:
        body: dict[str, Any] = {"sender": self.sender, "message": text}
        if self.metadata:
            body["metadata"] = self.metadata
        response = httpx.post(
            f"{self.servers.rasa_url}/webhooks/rest/webhook", json=body, headers=REST_HEADERS, timeout=60
        )
        assert response.status_code == 200, response.text
        self.last: list[dict[str, Any]] = response.json()
        return "\n".join(r.get("text", "") for r in self.last)

    def buttons(self) -> list[str]:
        """The button titles of the bot's latest reply."""
        return [str(b.get("title")) for r in self.last for b in r.get("buttons") or []]


def _sandbox(servers: Servers) -> SandboxBackend:
    return SandboxBackend(servers.sandbox_db)


def _latest_code(servers: Servers, destination: str) -> str:
    body = _sandbox(servers).outbox(destination)[0]["body"]
    match = re.search(r"验证码 (\d{6})", body)
    assert match, body
    return match[1]


def test_forgot_password_sends_the_reset_link(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("我忘记密码了")
    reply = chat.say("我的手机号是 139 1234 5678")
    assert "139****5678" in reply and "13912345678" not in reply
    assert "4. 输入并确认新密码" in reply
    assert "重置密码" in _sandbox(servers).outbox("13912345678")[0]["body"]
    assert "重新发送" in chat.say("没收到")
    assert len(_sandbox(servers).outbox("13912345678")) == 1
    assert "已重新发送" in chat.say("好的")
    assert len(_sandbox(servers).outbox("13912345678")) == 2


def test_update_email_with_a_code_from_the_outbox(servers: Servers) -> None:
    chat = Chat(servers)
    assert "验证身份" in chat.say("我想修改绑定的邮箱")
    assert "138****8000" in chat.say("13800138000")
    code = _latest_code(servers, "13800138000")
    assert "请输入新的邮箱" in chat.say(code)
    assert "一样" in chat.say("zhangwei@example.com")
    assert "z***@example.org" in chat.say("zw2026@example.org")
    reply = chat.say("确认")
    assert "修改成功" in reply and "z***@example.org" in reply
    assert _sandbox(servers).get_account("U1001").email == "zw2026@example.org"
    with sqlite3.connect(servers.logs / "trackers.db") as db:  # the stored transcript is masked
        stored = [
            json.loads(row[0])
            for row in db.execute("SELECT data FROM events WHERE sender_id = ?", (chat.conversation_id,))
        ]
    said = json.dumps([e for e in stored if e["event"] in ("user", "bot")], ensure_ascii=False)
    assert "138****8000" in said and "13800138000" not in said and code not in said and "zw2026@" not in said


def test_complaint_creates_a_ticket(servers: Servers) -> None:
    chat = Chat(servers)
    assert "哪方面" in chat.say("我要投诉你们")
    chat.say("服务态度")
    chat.say("客服态度很差，还挂了我的电话")
    chat.say("昨天下午")
    reply = chat.say("没有")
    ticket_id = re.search(r"T\d{12}", reply)
    assert ticket_id, reply
    ticket = _sandbox(servers).get_ticket(ticket_id[0])
    assert ticket.kind == "complaint" and "挂了我的电话" in ticket.summary
    assert "12315" in reply


def test_signed_in_user_gets_the_real_reason_without_a_code(servers: Servers) -> None:
    chat = Chat(servers, {"identity_token": sign_identity("U1001", IDENTITY_SECRET)})
    reply = chat.say("昨天晚上给李娜转账500块失败了")
    assert "网络超时" in reply and "李娜" in reply
    assert "解决" in reply


def test_forged_token_gets_the_identity_step(servers: Servers) -> None:
    chat = Chat(servers, {"identity_token": sign_identity("U1001", "forged-secret")})
    reply = chat.say("昨天晚上给李娜转账500块失败了")
    assert "验证身份" in reply and "网络超时" not in reply


def test_security_incident_freezes_and_opens_an_urgent_ticket(servers: Servers) -> None:
    chat = Chat(servers, {"identity_token": sign_identity("U1002", IDENTITY_SECRET)})
    assert "冻结" in chat.say("我的账号好像被盗了，有笔不明交易")
    reply = chat.say("立即冻结")
    assert "已为您冻结账户" in reply and "转接人工" in reply
    assert _sandbox(servers).get_account("U1002").status == "frozen"
    assert _sandbox(servers).tickets()[0].priority == "urgent"


def test_backend_down_is_answered_politely_and_the_form_waits(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("我转账失败了")
    db = servers.sandbox_db
    shutil.copy(db, db.with_suffix(".bak"))
    try:
        db.write_bytes(b"this is not a database" * 100)
        assert "系统繁忙" in chat.say("13800138000")
    finally:
        shutil.copy(db.with_suffix(".bak"), db)
    assert "验证码" in chat.say("13800138000")  # the form went on once the backend was back
