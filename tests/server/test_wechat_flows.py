"""Whole conversations over WeChat in safe mode (``encrypt_type=aes``) against the real
servers, with the fake WeChat (bot/channels/wechat_sim) as the platform: WeChat's server posts
signed, encrypted messages and reads the encrypted passive replies; the channel calls the fake
API for tokens, media and 客服消息. Effects are checked in the sandbox, the tracker store and
the fake's records.

The helpers here (``wechat_setup``, ``WeChatSetup``) are shared by the other WeChat server
and browser tests.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from actions.backend.sandbox import SandboxBackend
from bot.channels.wechat_sim import errcodes, messages, replies
from bot.channels.wechat_sim.account import Account
from bot.channels.wechat_sim.platform import FakeWeChat
from bot.channels.wechat_sim.server import WeChatServer
from bot.channels.wechat_sim.user import WeChatUser
from tests.server.console_helpers import ensure_agents, handoff_store, login
from tests.servers import Servers, start_servers

pytestmark = pytest.mark.server

SEND_PATH = "/cgi-bin/message/custom/send"
AGENT = ("wechat_agent", "小微", "agent")


@dataclass
class WeChatSetup:
    """Both servers with the WeChat channel on, the fake WeChat they talk to, and WeChat's
    server posting to the channel."""

    servers: Servers
    wechat: FakeWeChat
    server: WeChatServer

    def user(self) -> WeChatUser:
        """A new follower."""
        return WeChatUser(self.wechat, self.server)

    def sandbox(self) -> SandboxBackend:
        """The action server's sandbox wallet backend."""
        return SandboxBackend(self.servers.sandbox_db)

    def user_texts(self, user: WeChatUser) -> list[str]:
        """The user messages of the user's Rasa conversation (stored masked)."""
        with contextlib.closing(sqlite3.connect(self.servers.logs / "trackers.db")) as db:
            rows = db.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (user.sender_id,)
            ).fetchall()
        return [str(json.loads(row[0]).get("text")) for row in rows]

    def rasa_log(self) -> str:
        """What the Rasa server logged so far."""
        return (self.servers.logs / "rasa.log").read_text(encoding="utf-8", errors="replace")


@contextlib.contextmanager
def wechat_setup(
    workdir: Path, model: Path, mode: str, extra_env: dict[str, str] | None = None
) -> Iterator[WeChatSetup]:
    """Start the fake WeChat and both servers with WECHAT_* pointing at it (``mode`` plain:
    no EncodingAESKey; safe: messages and replies encrypted)."""
    account = Account.generate(safe=mode != "plain")
    with FakeWeChat(account) as wechat:
        env = {**wechat.channel_env(), **(extra_env or {})}
        servers = start_servers(workdir, model, extra_env=env)
        try:
            yield WeChatSetup(servers, wechat, WeChatServer(servers.rasa_url, account, mode, wechat.state))
        finally:
            servers.stop()


@pytest.fixture(scope="module")
def safe(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeChatSetup]:
    with wechat_setup(tmp_path_factory.mktemp("wechat-safe"), model_path, "safe") as running:
        yield running


@pytest.fixture
def fresh(safe: WeChatSetup) -> Iterator[WeChatSetup]:
    """A reseeded sandbox and a fake WeChat without faults."""
    safe.sandbox().reseed()
    safe.wechat.state.clear_faults()
    yield safe
    safe.wechat.state.clear_faults()


# --- the conversation ----------------------------------------------------------------------------
def test_the_handshake_echoes_and_a_forged_one_is_refused(safe: WeChatSetup) -> None:
    assert safe.server.handshake("echo-2026").text == "echo-2026"
    forged = WeChatServer(safe.servers.rasa_url, Account.generate(safe=True), "safe")
    assert forged.handshake("echo-2026").text != "echo-2026"


def test_password_reset_in_safe_mode(fresh: WeChatSetup) -> None:
    user = fresh.user()
    mark = user.mark()
    first = user.say("我忘记密码了")
    assert "手机号或电子邮箱" in user.wait_to_see("手机号", since=mark)
    mark = user.mark()
    second = user.say("我的手机号是 139 1234 5678")
    shown = user.wait_to_see("139****5678", since=mark)
    assert "4. 输入并确认新密码" in user.wait_to_see("4. 输入并确认新密码", since=mark)
    assert "13912345678" not in shown
    assert "重置密码" in fresh.sandbox().outbox("13912345678")[0]["body"]
    answers = [first, second]
    # every answer is an encrypted passive reply or success, never WeChat's error page
    assert all(a.reply.kind in ("text", "success") for a in answers), [a.reply.problem for a in answers]
    assert any(a.reply.kind == "text" for a in answers)  # within the budget, answered in place
    for answer in answers:
        if answer.reply.kind == "text":
            assert "<Encrypt>" in answer.attempts[-1].body.decode()
    assert not user.service_error_shown()
    assert all(not d.ascii_escaped for d in fresh.wechat.state.deliveries_to(user.openid))
    texts = fresh.user_texts(user)  # stored masked
    assert len(texts) == 2 and texts[0] == "我忘记密码了" and "5678" in texts[1] and "1234" not in texts[1]


def test_no_one_reads_a_reply_meant_for_another_user(fresh: WeChatSetup) -> None:
    alice, bob = fresh.user(), fresh.user()
    alice.say("我忘记密码了")
    mark = bob.mark()
    bob.say("怎么联系客服")
    bob.wait_to_see("客服热线", since=mark)
    assert "手机号或电子邮箱" not in "\n".join(bob.seen())  # alice's question is not in bob's chat
    alice.wait_to_see("手机号或电子邮箱")
    assert fresh.user_texts(bob) == ["怎么联系客服"]


def test_the_same_message_posted_three_times_is_one_turn_and_one_reply(fresh: WeChatSetup) -> None:
    user = fresh.user()
    message = messages.text(user.openid, "怎么联系客服", user.to_user)
    fresh.wechat.state.user_wrote(message)
    mark = user.mark()
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        attempts = list(pool.map(lambda _: fresh.server.post(message), range(3)))
    late = fresh.server.post(message)  # a copy after the turn is over
    shown = [a.reply.shown for a in [*attempts, late] if a.reply is not None and a.reply.shown]
    assert len(set(shown)) <= 1, shown  # every copy got the same passive reply, or success
    assert all(a.reply is not None and a.reply.kind in ("text", "success") for a in [*attempts, late])
    # a later message is the sync point: a second turn of the first would have run before it
    mark_next = user.mark()
    user.say("谢谢")
    user.wait_to_see("", since=mark_next)
    assert fresh.user_texts(user) == ["怎么联系客服", "谢谢"]
    delivered = [
        d.text for d in fresh.wechat.state.deliveries_to(user.openid, delivered=True) if d.seq > mark
    ]
    first_turn = [t for t in delivered if "客服热线" in t]
    if shown:
        assert "客服热线" in shown[0] and first_turn == []  # answered in place, not again later
    else:
        assert len(first_turn) == 1


def test_an_image_is_fetched_with_the_token_and_acknowledged(fresh: WeChatSetup) -> None:
    user = fresh.user()
    mark, calls = user.mark(), len(fresh.wechat.state.calls_to("/cgi-bin/media/get"))
    user.send_image()
    user.wait_to_see("已收到您的图片", since=mark)
    fetched = fresh.wechat.state.calls_to("/cgi-bin/media/get")[calls:]
    assert [c.errcode for c in fetched] == [errcodes.OK]


def test_voice_with_recognition_and_menu_clicks_are_turns(fresh: WeChatSetup) -> None:
    user = fresh.user()
    mark = user.mark()
    user.subscribe()
    welcome = user.wait_to_see("欢迎", since=mark)
    assert "回复数字选择" in welcome and "忘记密码" in welcome  # buttons as numbered text
    mark = user.mark()
    user.send_voice("怎么联系客服")
    assert "客服热线" in user.wait_to_see("客服热线", since=mark)
    mark = user.mark()
    user.send_voice(None)
    assert "文字" in user.wait_to_see("文字", since=mark)  # no recognition: asked to type
    mark = user.mark()
    user.click("CONTACT_SUPPORT")
    assert "客服热线" in user.wait_to_see("客服热线", since=mark)
    assert fresh.user_texts(user)[-1] != "CONTACT_SUPPORT"  # the key's payload, not the key


def test_an_unsubscribed_user_gets_no_turn_and_nothing_is_sent(fresh: WeChatSetup) -> None:
    user = fresh.user()
    user.say("你好")
    before = len(fresh.user_texts(user))
    answer = user.unsubscribe()
    assert answer.reply.kind == "success"
    assert len(fresh.user_texts(user)) == before


def test_a_forged_or_replayed_message_gets_no_turn(fresh: WeChatSetup) -> None:
    user = fresh.user()
    other = Account.generate(safe=True)
    forged = WeChatServer(fresh.servers.rasa_url, other, "safe")
    attempt = forged.post(messages.text(user.openid, "我忘记密码了", user.to_user))
    assert attempt.status is not None and attempt.status >= 400
    old = messages.text(user.openid, "我忘记密码了", user.to_user)
    query, body = fresh.server.request(old, timestamp="1400000000")
    stale = httpx.post(fresh.server.webhook, params=query, content=body, timeout=10)
    assert stale.status_code >= 400
    assert fresh.user_texts(user) == []


# --- an agent's replies through 客服消息 ----------------------------------------------------------
@pytest.fixture
def agent(fresh: WeChatSetup) -> Iterator[Any]:
    store = handoff_store(fresh.servers)
    ensure_agents(store, AGENT)
    client = login(fresh.servers, AGENT[0])  # an agent on duty, or the request becomes a message
    yield client
    client.post("/api/logout", json={})
    client.close()


def _take(agent: Any, user: WeChatUser) -> int:
    found = [h for h in agent.get("/api/queue").json()["handoffs"] if h["channel"] == "wechat"]
    assert found, "no WeChat handoff in the queue"
    handoff_id = int(found[-1]["id"])
    taken = agent.post(f"/api/conversations/{handoff_id}/take", json={})
    assert taken.status_code == 200, taken.text
    assert taken.json()["delivery"]["delivered"] is True
    return handoff_id


def test_an_agent_reply_outside_the_window_is_reported_not_delivered(fresh: WeChatSetup, agent: Any) -> None:
    user = fresh.user()
    mark = user.mark()
    user.say("转人工")
    user.wait_to_see("排队", since=mark)
    handoff_id = _take(agent, user)
    user.wait_to_see("小微", since=mark)  # "人工客服 小微 已接入" through 客服消息
    fresh.wechat.state.close_window(user.openid)
    mark = user.mark()
    sent = agent.post(
        f"/api/conversations/{handoff_id}/messages", json={"text": "您好，我是小微，请问哪里不顺利？"}
    )
    assert sent.status_code == 201, sent.text
    delivery = sent.json()["delivery"]
    assert delivery["delivered"] is False and delivery["reason"] == "window_closed"
    refused = fresh.wechat.state.deliveries_to(user.openid, delivered=False)
    assert refused and refused[-1].errcode == errcodes.WINDOW_CLOSED
    assert not any("我是小微" in text for text in user.seen(mark))
    transcript = agent.get(f"/api/conversations/{handoff_id}/transcript").json()["messages"]
    mine = [m for m in transcript if "我是小微" in str(m.get("text"))]
    assert mine and mine[-1]["delivery"]["delivered"] is False  # the agent sees it was not delivered
    # the user writes again: the window opens, the agent's next reply arrives
    user.say("还在吗")
    mark = user.mark()
    again = agent.post(f"/api/conversations/{handoff_id}/messages", json={"text": "在的，请讲"})
    assert again.json()["delivery"]["delivered"] is True
    assert "在的，请讲" in user.wait_to_see("在的，请讲", since=mark)
    assert "还在吗" in fresh.user_texts(user)
    agent.post(f"/api/conversations/{handoff_id}/resolve", json={"note": "测试"})


def test_the_service_error_is_never_shown(safe: WeChatSetup) -> None:
    # runs last in this module: no answer of the whole module was WeChat's error page
    assert replies.SERVICE_ERROR not in [e.text for e in safe.wechat.state.entries()]
