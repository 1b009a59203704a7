"""The Telegram channel served in-process against the fake Bot API: turns, updates that are
not turns, and buttons. Bad requests: test_telegram_webhook_errors.py; push and logs:
test_telegram_push.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels.telegram import WalletTelegramInput
from bot.channels.telegram.notices import load_notices
from tests.fakes.telegram_api import FakeBotApi, fake_bot_api
from tests.fakes.telegram_app import FakeRasa, scenario
from tests.fakes.telegram_updates import apost, update

CHAT = 5550010
NOTICES = load_notices()


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with fake_bot_api() as api:
        yield api


def _texts(fake: FakeBotApi, chat: int = CHAT) -> list[str]:
    return [c.text for c in fake.calls_to("sendMessage", chat, ok=True)]


# --- turns --------------------------------------------------------------------------------
def test_a_text_is_a_turn_in_the_chats_own_conversation(fake: FakeBotApi, tmp_path: Path) -> None:
    rasa = FakeRasa()

    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> httpx.Response:
        return await apost(client, base, update("text", CHAT, "我的转账失败了", update_id=41))

    reply = scenario(fake, tmp_path, steps, rasa)
    assert reply.status_code == 200 and reply.json() == {"ok": True}
    (message,) = rasa.messages
    assert message.sender_id == f"telegram:{CHAT}" and message.input_channel == "telegram"
    assert message.text == "我的转账失败了"
    assert message.metadata == {"telegram": {"update_id": 41, "message_id": 101}}
    assert "identity_token" not in str(message.metadata)  # Telegram users verify with a code
    assert _texts(fake) == ["收到：我的转账失败了"]


def test_a_replayed_update_is_one_turn(fake: FakeBotApi, tmp_path: Path) -> None:
    rasa = FakeRasa()
    body = update("text", CHAT, "你好")

    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> list[int]:
        first = await apost(client, base, body)
        again = await asyncio.gather(*(apost(client, base, body) for _ in range(4)))
        return [first.status_code, *(r.status_code for r in again)]

    assert scenario(fake, tmp_path, steps, rasa) == [200] * 5
    assert len(rasa.messages) == 1 and len(_texts(fake)) == 1


def test_start_and_help_commands_mean_greet_and_contact(fake: FakeBotApi, tmp_path: Path) -> None:
    rasa = FakeRasa()

    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> None:
        for text in ("/start", "/start@uw_test_bot", "/start forged-deep-link", "/help", "/unknown"):
            await apost(client, base, update("command", CHAT, text))

    scenario(fake, tmp_path, steps, rasa)
    assert [m.text for m in rasa.messages] == ["/greet", "/greet", "/greet", "/contact_support", "/unknown"]


def test_a_flood_is_limited_and_told_once(fake: FakeBotApi, tmp_path: Path) -> None:
    rasa = FakeRasa(reply=lambda message: [])

    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> None:
        for n in range(8):
            assert (await apost(client, base, update("text", CHAT, f"第{n}条"))).status_code == 200

    scenario(fake, tmp_path, steps, rasa, rate_limit_per_minute=5)
    assert len(rasa.messages) == 5
    assert _texts(fake) == [NOTICES.text("rate_limited")]


def test_a_failing_turn_gets_a_polite_answer_and_a_200(fake: FakeBotApi, tmp_path: Path) -> None:
    def broken(message: UserMessage) -> list[dict[str, Any]]:
        raise RuntimeError("tracker store down; user said 13800138000")

    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> int:
        return (await apost(client, base, update("text", CHAT, "你好"))).status_code

    assert scenario(fake, tmp_path, steps, FakeRasa(reply=broken)) == 200
    assert _texts(fake) == [NOTICES.text("busy")]


# --- updates that are not turns -----------------------------------------------------------
@pytest.mark.parametrize(
    "kind",
    [
        "edited",
        "no_message",
        "channel_post",
        "my_chat_member",
        "inline_query",
        "from_a_bot",
        "message_not_object",
    ],
)
def test_updates_that_are_not_messages_are_acknowledged_and_ignored(
    fake: FakeBotApi, tmp_path: Path, kind: str
) -> None:
    rasa = FakeRasa()

    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> int:
        return (await apost(client, base, update(kind, CHAT, "改成 13800138000"))).status_code

    assert scenario(fake, tmp_path, steps, rasa) == 200
    assert rasa.messages == [] and fake.calls == []


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "contact", "location", "empty_text"])
def test_a_message_without_text_gets_a_text_only_answer_and_no_turn(
    fake: FakeBotApi, tmp_path: Path, kind: str
) -> None:
    rasa = FakeRasa()

    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> int:
        return (await apost(client, base, update(kind, CHAT))).status_code

    assert scenario(fake, tmp_path, steps, rasa) == 200
    assert rasa.messages == []
    assert _texts(fake) == [NOTICES.text("non_text")]


def test_a_group_message_is_asked_to_go_private(fake: FakeBotApi, tmp_path: Path) -> None:
    rasa = FakeRasa()

    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> int:
        return (await apost(client, base, update("group_text", CHAT, "我的验证码是246810"))).status_code

    assert scenario(fake, tmp_path, steps, rasa) == 200
    assert rasa.messages == []
    assert _texts(fake, -1001234567890) == [NOTICES.text("group_chat")]


# --- buttons ------------------------------------------------------------------------------
def _ask(message: UserMessage) -> list[dict[str, Any]]:
    if message.text == "问我":
        buttons = [{"title": "解决了", "payload": "/affirm"}, {"title": "还没有", "payload": "/deny"}]
        return [{"text": "问题解决了吗？", "buttons": buttons}]
    return [{"text": f"收到：{message.text}"}]


def test_a_pressed_button_is_answered_and_its_payload_is_the_turn(fake: FakeBotApi, tmp_path: Path) -> None:
    rasa = FakeRasa(reply=_ask)

    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> list[int]:
        await apost(client, base, update("text", CHAT, "问我"))
        data = fake.calls_to("sendMessage", CHAT)[0].buttons[1]["callback_data"]
        first = await apost(client, base, update("callback", CHAT, data))
        second = await apost(client, base, update("callback", CHAT, data))  # a double tap
        return [first.status_code, second.status_code]

    assert scenario(fake, tmp_path, steps, rasa) == [200, 200]
    assert [m.text for m in rasa.messages] == ["问我", "/deny"]
    answers = fake.calls_to("answerCallbackQuery")
    assert [a.params.get("text") for a in answers] == [None, NOTICES.text("button_used")]
    assert _texts(fake)[-1] == "收到：/deny"


@pytest.mark.parametrize(
    "data", ["", "AAAAAAAAAAAAAAAA.0", "/affirm", '/transaction_failed{"transaction_id":"TX1"}']
)
def test_a_button_with_an_unknown_id_gets_a_polite_answer_and_no_turn(
    fake: FakeBotApi, tmp_path: Path, data: str
) -> None:
    rasa = FakeRasa()

    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> int:
        return (await apost(client, base, update("callback", CHAT, data))).status_code

    assert scenario(fake, tmp_path, steps, rasa) == 200
    assert rasa.messages == []
    (answer,) = fake.calls_to("answerCallbackQuery")
    assert answer.params == {
        "callback_query_id": "4382bfdwdsb323b2d9",
        "text": NOTICES.text("button_expired"),
    }
    assert fake.calls_to("sendMessage") == []


def test_another_chats_button_is_not_honoured(fake: FakeBotApi, tmp_path: Path) -> None:
    rasa = FakeRasa(reply=_ask)

    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> None:
        await apost(client, base, update("text", CHAT, "问我"))
        data = fake.calls_to("sendMessage", CHAT)[0].buttons[0]["callback_data"]
        await apost(client, base, update("callback", CHAT + 1, data))

    scenario(fake, tmp_path, steps, rasa)
    assert [m.sender_id for m in rasa.messages] == [f"telegram:{CHAT}"]
    assert fake.calls_to("answerCallbackQuery")[0].params["text"] == NOTICES.text("button_expired")
