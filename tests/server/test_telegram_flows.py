"""Telegram end to end: the real Rasa and action servers, with the channel pointed at the fake
Bot API (tests/fakes). Whole flows typed and clicked, bad requests, and the handoff without a
browser: the user asks for a person on Telegram, an agent takes it over the console's HTTP
API and replies, and the Bot API receives the agent's message for that chat.

The Rasa server logs at DEBUG here (aiogram then logs every Bot API request and answer), so
the last test can check that no token, secret, phone number or code reached the log.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from actions.backend.sandbox import SandboxBackend
from bot.channels.telegram.notices import load_notices
from tests.bad_inputs import bad_messages, bad_payloads
from tests.fakes.telegram_api import TOKEN, Call, FakeBotApi, fake_bot_api
from tests.fakes.telegram_updates import SECRET, post, update
from tests.server.console_helpers import ensure_agents, handoff_store, login
from tests.server.test_flows_http import _latest_code
from tests.servers import Servers, start_servers

pytestmark = pytest.mark.server

NOTICES = load_notices()
PHONE = "13800138000"


@pytest.fixture(scope="module")
def bot_api() -> Iterator[FakeBotApi]:
    with fake_bot_api() as api:
        yield api


@pytest.fixture(scope="module")
def tg(model_path: Path, tmp_path_factory: pytest.TempPathFactory, bot_api: FakeBotApi) -> Iterator[Servers]:
    """Both servers with the Telegram channel on (and DEBUG logs)."""
    env = {
        "TELEGRAM_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_BASE": bot_api.base_url,
        "TELEGRAM_MAX_RETRY_WAIT_SECONDS": "3",
        "LOG_LEVEL": "DEBUG",
    }
    running = start_servers(tmp_path_factory.mktemp("telegram"), model_path, extra_env=env)
    SandboxBackend(running.sandbox_db).reseed()
    yield running
    running.stop()


class TelegramUser:
    """One private chat with the bot. The webhook answers after the turn, so when a post
    returns, every reply of that turn has reached the fake Bot API."""

    def __init__(self, servers: Servers, api: FakeBotApi) -> None:
        self.servers, self.api = servers, api
        self.chat = random.randint(10**9, 2 * 10**9)

    @property
    def conversation(self) -> str:
        return f"telegram:{self.chat}"

    def sent(self) -> list[Call]:
        """Every message delivered to this chat so far."""
        return self.api.calls_to("sendMessage", self.chat, ok=True)

    def _turn(self, body: dict[str, Any]) -> list[Call]:
        before = len(self.sent())
        reply = post(self.servers.rasa_url, body)
        assert reply.status_code == 200, reply.text
        return self.sent()[before:]

    def say(self, text: str) -> str:
        """Type a message; the bot's texts of that turn."""
        return "\n".join(c.text for c in self._turn(update("text", self.chat, text)))

    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard of the latest message that had one."""
        return next((c.buttons for c in reversed(self.sent()) if c.buttons), [])

    def press(self, title_part: str) -> str:
        """Press the latest keyboard's button whose title contains ``title_part``."""
        button = next(b for b in self.buttons() if title_part in b["text"])
        answers = len(self.api.calls_to("answerCallbackQuery"))
        calls = self._turn(update("callback", self.chat, button["callback_data"]))
        assert len(self.api.calls_to("answerCallbackQuery", ok=True)) == answers + 1
        return "\n".join(c.text for c in calls)

    def user_events(self) -> list[str]:
        """The texts of the user's messages in the stored transcript."""
        with sqlite3.connect(self.servers.logs / "trackers.db") as db:
            rows = db.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
                (self.conversation,),
            ).fetchall()
        return [str(json.loads(row[0]).get("text")) for row in rows]


@pytest.fixture
def user(tg: Servers, bot_api: FakeBotApi) -> TelegramUser:
    return TelegramUser(tg, bot_api)


# --- flows --------------------------------------------------------------------------------
def test_start_greets_and_questions_are_answered(user: TelegramUser) -> None:
    assert user.say("/start")  # the /start command reads as a greeting
    assert user.user_events() == ["/greet"]
    assert "客服热线" in user.say("怎么联系客服")


def test_a_failed_payment_verified_by_code_picked_by_button_and_solved_by_typing(
    user: TelegramUser, tg: Servers
) -> None:
    user.say("付款失败了")
    assert "验证码" in user.say(PHONE)
    reply = user.say(_latest_code(tg, PHONE))
    assert "哪一笔" in reply
    buttons = user.buttons()
    assert any("京东" in b["text"] for b in buttons)
    for button in buttons:  # short server-side ids, never the payload
        assert len(button["callback_data"].encode()) <= 64 and "TX" not in button["callback_data"]
    reply = user.press("京东")
    assert "余额不足" in reply
    assert "太好了" in user.say("解决了")  # a button question answered by typing
    stored = json.dumps(user.user_events(), ensure_ascii=False)
    assert PHONE not in stored and "138****8000" in stored  # the stored transcript is masked


def test_long_replies_and_numbered_typing_work_too(user: TelegramUser, tg: Servers) -> None:
    user.say("有笔交易失败了")
    user.say(PHONE)
    assert "哪一笔" in user.say(_latest_code(tg, PHONE))
    assert "余额不足" in user.say("2")  # an option number typed instead of pressed
    assert all(len(c.text.encode("utf-16-le")) // 2 <= 4096 for c in user.sent())


def test_a_429_during_a_turn_is_waited_out(user: TelegramUser, bot_api: FakeBotApi) -> None:
    bot_api.throttle("sendMessage", times=1, retry_after=1)
    assert "客服热线" in user.say("客服电话是多少")
    statuses = [c.status for c in bot_api.calls_to("sendMessage", user.chat)]
    assert statuses[:2] == [429, 200]


# --- bad requests: a clean status, no turn, the server still answers ------------------------
@pytest.mark.parametrize(
    ("body", "secret", "status"),
    [
        ("text", None, 403),
        ("text", "forged-secret-0123456789abcdef", 403),
        (b'{"update_id": 1, "message": ', SECRET, 400),
        (b'{"update_id": 2, "message": {"text": "\xff\xfe\xfa"}}', SECRET, 400),
        (b'["update_id", 3]', SECRET, 400),
        (b"[" * 100_000, SECRET, 400),
        ("huge", SECRET, 413),
    ],
)
def test_bad_requests_are_refused_without_a_turn(
    user: TelegramUser, bot_api: FakeBotApi, body: Any, secret: str | None, status: int
) -> None:
    if body == "text":
        body = update("text", user.chat, f"我的手机号 {PHONE}")
    elif body == "huge":
        body = update("text", user.chat, "长" * 100_000)  # 300 kB, over the 256 kB limit
    reply = post(user.servers.rasa_url, body, secret=secret)
    assert reply.status_code == status
    assert PHONE not in reply.text and "长长" not in reply.text  # errors never echo the request
    assert user.user_events() == [] and user.sent() == []
    assert user.say("你好")  # and the next real message is answered


@pytest.mark.parametrize("name", sorted(bad_payloads()))
def test_the_shared_bad_payloads_are_400_without_a_turn(user: TelegramUser, name: str) -> None:
    case = bad_payloads()[name]
    raw = case["raw"] if "raw" in case else json.dumps(case["body"], ensure_ascii=False)
    reply = post(user.servers.rasa_url, raw if isinstance(raw, bytes) else str(raw).encode("utf-8"))
    assert reply.status_code == 400 and set(reply.json()) == {"error"}
    assert user.sent() == []


@pytest.mark.parametrize("name", sorted(bad_messages()))
def test_the_shared_odd_messages_are_answered(tg: Servers, bot_api: FakeBotApi, name: str) -> None:
    user = TelegramUser(tg, bot_api)  # a chat of its own: the corpus is a flood for one chat
    text = bad_messages()[name]
    assert post(tg.rasa_url, update("text", user.chat, text)).status_code == 200
    assert user.sent(), "no answer"
    assert len(user.user_events()) == (1 if text.strip() else 0)  # empty texts get the notice only


@pytest.mark.parametrize("kind", ["edited", "no_message", "channel_post", "my_chat_member", "inline_query"])
def test_updates_that_are_not_messages_are_200_and_nothing(user: TelegramUser, kind: str) -> None:
    reply = post(user.servers.rasa_url, update(kind, user.chat, "转人工"))
    assert reply.status_code == 200
    assert user.user_events() == [] and user.sent() == []


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice"])
def test_a_message_without_text_gets_a_polite_text_answer_and_no_turn(user: TelegramUser, kind: str) -> None:
    assert post(user.servers.rasa_url, update(kind, user.chat)).status_code == 200
    assert [c.text for c in user.sent()] == [NOTICES.text("non_text")]
    assert user.user_events() == []


def test_a_replayed_update_is_one_turn(user: TelegramUser) -> None:
    body = update("text", user.chat, "谢谢")
    assert post(user.servers.rasa_url, body).status_code == 200
    answered = len(user.sent())
    for _ in range(3):  # Telegram delivering it again
        assert post(user.servers.rasa_url, body).status_code == 200
    assert user.user_events() == ["谢谢"] and len(user.sent()) == answered > 0


def test_a_button_with_an_unknown_id_is_answered_politely_without_a_turn(
    user: TelegramUser, bot_api: FakeBotApi
) -> None:
    for data in ("AAAAAAAAAAAAAAAA.0", "/request_human", ""):
        assert post(user.servers.rasa_url, update("callback", user.chat, data)).status_code == 200
    answers = bot_api.calls_to("answerCallbackQuery")[-3:]
    assert [a.params.get("text") for a in answers] == [NOTICES.text("button_expired")] * 3
    assert user.user_events() == [] and user.sent() == []


# --- handoff ------------------------------------------------------------------------------
def test_handoff_over_telegram(user: TelegramUser, tg: Servers, bot_api: FakeBotApi) -> None:
    store = handoff_store(tg)
    ensure_agents(store, ("tg_agent", "小王", "agent"))
    agent = login(tg, "tg_agent")  # on duty: the user is queued
    me = agent.get("/api/me").json()["agent"]
    store.touch_agent(me["id"])

    assert "排队" in user.say("转人工")
    assert any("不等了" in b["text"] for b in user.buttons())
    queued = [h for h in agent.get("/api/queue").json()["handoffs"] if h["channel"] == "telegram"]
    handoff = next(h for h in queued if store.get(h["id"]).sender_id == user.conversation)

    taken = agent.post(f"/api/conversations/{handoff['id']}/take", json={})
    assert taken.status_code == 200 and taken.json()["delivery"]["delivered"] is True
    assert "小王 已接入" in user.sent()[-1].text

    reply = agent.post(
        f"/api/conversations/{handoff['id']}/messages", json={"text": "您好，请问是哪笔转账？"}
    )
    assert reply.status_code == 201 and reply.json()["delivery"]["delivered"] is True
    bot_api.wait_for("sendMessage", user.chat, where=lambda c: c.text == "小王：您好，请问是哪笔转账？")

    before = len(user.sent())
    assert user.say("昨天给李娜转的500元没到账") == ""  # the bot is silent while an agent talks
    assert len(user.sent()) == before
    messages = agent.get(f"/api/conversations/{handoff['id']}/transcript").json()["messages"]
    assert {"role": "user", "text": "昨天给李娜转的500元没到账"}.items() <= messages[-1].items()

    bot_api.block(user.chat)
    blocked = agent.post(f"/api/conversations/{handoff['id']}/messages", json={"text": "还在吗？"})
    assert blocked.json()["delivery"] == {
        "delivered": False,
        "reason": "unsubscribed",
        "explanation": "用户已取消关注或停用了机器人",
    }
    bot_api.unblock(user.chat)

    resolved = agent.post(f"/api/conversations/{handoff['id']}/resolve", json={"note": "已解释到账时间"})
    assert resolved.status_code == 200 and resolved.json()["delivery"]["delivered"] is True
    assert [b["text"] for b in user.buttons()] == ["1 分", "2 分", "3 分", "4 分", "5 分"]
    user.press("5 分")
    assert store.latest_for(user.conversation).satisfaction == 5


def test_the_agent_sees_a_telegram_message_live(user: TelegramUser, tg: Servers) -> None:
    store = handoff_store(tg)
    ensure_agents(store, ("tg_live", "老李", "agent"))
    agent = login(tg, "tg_live")
    store.touch_agent(agent.get("/api/me").json()["agent"]["id"])
    user.say("转人工")
    handoff = store.active_for(user.conversation)
    assert agent.post(f"/api/conversations/{handoff.id}/take", json={}).status_code == 200
    with agent.stream("GET", "/api/events", timeout=httpx.Timeout(30, read=20)) as events:
        lines = events.iter_lines()
        assert _changed(lines) is not None  # the first snapshot
        user.say("我的钱什么时候到账")
        deadline = time.monotonic() + 20
        while (changed := _changed(lines)) is not None and handoff.id not in changed["conversations"]:
            assert time.monotonic() < deadline, "the conversation's change was not streamed"
    assert changed is not None
    messages = agent.get(f"/api/conversations/{handoff.id}/transcript").json()["messages"]
    assert messages[-1]["role"] == "user" and messages[-1]["text"] == "我的钱什么时候到账"


def _changed(lines: Iterator[str]) -> dict[str, Any] | None:
    """The data of the next ``changed`` event (the stream's read timeout bounds the wait)."""
    event = None
    for line in lines:
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event == "changed":
            return dict(json.loads(line.split(":", 1)[1]))
    return None


# --- logs ---------------------------------------------------------------------------------
def test_the_log_has_no_token_secret_phone_or_code(user: TelegramUser, tg: Servers) -> None:
    user.say(f"我的手机号是 {PHONE}，验证码 246810")
    post(tg.rasa_url, update("text", user.chat, PHONE), secret="forged-secret-0123456789abcdef")
    log = (tg.logs / "rasa.log").read_text(encoding="utf-8", errors="replace")
    assert "aiogram" in log and "138****8000" in log  # DEBUG: the Bot API traffic is logged, masked
    for secret in (TOKEN, TOKEN.split(":")[1], SECRET, PHONE, "246810"):
        assert secret not in log, secret
