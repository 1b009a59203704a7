"""Sending to the fake Bot API: texts, keyboards, 429 back-off, blocked users, no token leaks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.channels.shared_state import SqlState
from bot.channels.telegram.buttons import Keyboards
from bot.channels.telegram.notices import load_notices
from bot.channels.telegram.output import SendFailure, WalletTelegramOutput
from tests.fakes.telegram_api import TOKEN, FakeBotApi, fake_bot_api
from tests.fakes.telegram_app import settings_for

CHAT = 5550003
TO = f"telegram:{CHAT}"


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with fake_bot_api() as api:
        yield api


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _run(fake: FakeBotApi, tmp_path: Path, steps: Any, sleep: Sleeps | None = None, **changes: Any) -> Any:
    async def run() -> Any:
        output = WalletTelegramOutput(settings_for(fake, **changes), load_notices(), sleep=sleep or Sleeps())
        output.keyboards = Keyboards(SqlState(f"sqlite:///{tmp_path / 'state.db'}"), 60)
        try:
            return await steps(output)
        finally:
            await output.close()

    return asyncio.run(run())


def test_a_text_is_sent_plain_to_the_chat(fake: FakeBotApi, tmp_path: Path) -> None:
    _run(fake, tmp_path, lambda out: out.send_text_message(TO, "<b>您好</b> *请问*"))
    (call,) = fake.calls_to("sendMessage")
    assert call.chat_id == CHAT and call.text == "<b>您好</b> *请问*"
    assert "parse_mode" not in call.params  # nothing is read as markup


def test_a_long_text_arrives_in_pieces_telegram_accepts(fake: FakeBotApi, tmp_path: Path) -> None:
    text = "请按以下步骤操作。" * 1000  # 9000 characters
    _run(fake, tmp_path, lambda out: out.send_text_message(TO, text))
    calls = fake.calls_to("sendMessage")
    assert len(calls) == 3 and all(c.status == 200 for c in calls)
    assert "".join(c.text for c in calls) == text


def test_buttons_become_an_inline_keyboard_of_short_ids(fake: FakeBotApi, tmp_path: Path) -> None:
    payload = '/transaction_failed{"transaction_id": "TX202611242103001", "payee": "京东商城旗舰店客服中心"}'
    buttons = [
        {"title": "昨天 21:03 转账 500.00 元给李娜", "payload": payload},
        {"title": "都不是", "payload": "/deny"},
        {"title": "帮助中心", "url": "https://help.example.com", "type": "web_url"},
    ]

    async def steps(out: WalletTelegramOutput) -> Any:
        await out.send_text_with_buttons(TO, "是哪一笔？", buttons)
        data = fake.calls_to("sendMessage")[0].buttons[1]["callback_data"]
        return await out.keyboards.press(
            CHAT, fake.calls_to("sendMessage")[0].buttons[2]["callback_data"]
        ), data

    pressed, _ = _run(fake, tmp_path, steps)
    (call,) = fake.calls_to("sendMessage", ok=True)
    assert call.text == "是哪一笔？"
    assert [b["text"] for b in call.buttons] == ["帮助中心", "昨天 21:03 转账 500.00 元给李娜", "都不是"]
    assert call.buttons[0] == {"text": "帮助中心", "url": "https://help.example.com"}
    assert all(len(b["callback_data"].encode()) <= 64 for b in call.buttons[1:])
    assert "TX2026" not in str(call.params["reply_markup"])
    assert pressed.payload == "/deny"
    assert all(
        len(row) == 1 for row in call.params["reply_markup"]["inline_keyboard"]
    )  # long titles: a column


def test_short_titles_share_a_row(fake: FakeBotApi, tmp_path: Path) -> None:
    buttons = [{"title": f"{n} 分", "payload": f'/rate_service{{"satisfaction":"{n}"}}'} for n in range(1, 6)]
    _run(fake, tmp_path, lambda out: out.send_text_with_buttons(TO, "请打分：", buttons))
    rows = fake.calls_to("sendMessage")[0].params["reply_markup"]["inline_keyboard"]
    assert [[b["text"] for b in row] for row in rows] == [["1 分", "2 分", "3 分", "4 分", "5 分"]]


def test_buttons_without_a_text_still_get_one(fake: FakeBotApi, tmp_path: Path) -> None:
    _run(
        fake,
        tmp_path,
        lambda out: out.send_text_with_buttons(TO, "", [{"title": "好的", "payload": "/affirm"}]),
    )
    (call,) = fake.calls_to("sendMessage", ok=True)
    assert call.text == load_notices().text("choose") and call.buttons


def test_without_the_keyboard_store_options_go_as_numbered_text(fake: FakeBotApi, tmp_path: Path) -> None:
    async def steps(out: WalletTelegramOutput) -> None:
        out.keyboards = None
        await out.send_text_with_buttons(
            TO,
            "问题解决了吗？",
            [{"title": "解决了", "payload": "/affirm"}, {"title": "还没有", "payload": "/deny"}],
        )

    _run(fake, tmp_path, steps)
    (call,) = fake.calls_to("sendMessage", ok=True)
    assert "1 解决了" in call.text and "2 还没有" in call.text and "reply_markup" not in call.params


def test_a_429_is_waited_out_and_retried(fake: FakeBotApi, tmp_path: Path) -> None:
    fake.throttle("sendMessage", times=2, retry_after=1)
    sleeps = Sleeps()
    _run(fake, tmp_path, lambda out: out.send_text_message(TO, "稍等"), sleep=sleeps)
    assert [c.status for c in fake.calls_to("sendMessage")] == [429, 429, 200]
    assert sleeps.waits == [1.0, 1.0]


def test_429s_beyond_the_bounds_give_up_as_rate_limited(fake: FakeBotApi, tmp_path: Path) -> None:
    fake.throttle("sendMessage", times=5, retry_after=1)
    with pytest.raises(SendFailure) as failure:
        _run(fake, tmp_path, lambda out: out.send_text_message(TO, "稍等"))
    assert failure.value.reason == "rate_limited"
    assert len(fake.calls_to("sendMessage")) == 3  # TELEGRAM_SEND_ATTEMPTS


def test_a_long_retry_after_is_not_waited_for(fake: FakeBotApi, tmp_path: Path) -> None:
    fake.throttle("sendMessage", times=1, retry_after=60)
    sleeps = Sleeps()
    with pytest.raises(SendFailure) as failure:
        _run(fake, tmp_path, lambda out: out.send_text_message(TO, "稍等"), sleep=sleeps)
    assert failure.value.reason == "rate_limited" and sleeps.waits == []


@pytest.mark.parametrize(
    ("status", "description", "reason"),
    [
        (403, "Forbidden: bot was blocked by the user", "unsubscribed"),
        (403, "Forbidden: user is deactivated", "unsubscribed"),
        (403, "Forbidden: bot can't initiate conversation with a user", "unsubscribed"),
        (400, "Bad Request: chat not found", "unknown_sender"),
        (500, "Internal Server Error", "unavailable"),
        (502, "Bad Gateway", "unavailable"),
        (401, "Unauthorized", "unavailable"),
    ],
)
def test_refusals_map_to_push_reasons(
    fake: FakeBotApi, tmp_path: Path, status: int, description: str, reason: str
) -> None:
    fake.fail("sendMessage", status, description)
    with pytest.raises(SendFailure) as failure:
        _run(fake, tmp_path, lambda out: out.send_text_message(TO, "您好"))
    assert failure.value.reason == reason
    assert len(fake.calls_to("sendMessage")) == 1  # only 429s are retried


def test_an_unreachable_api_is_unavailable_and_the_token_is_not_in_the_error(
    fake: FakeBotApi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with fake_bot_api() as gone:
        base = gone.base_url  # stopped on leaving: the port refuses connections
    with caplog.at_level(logging.DEBUG), pytest.raises(SendFailure) as failure:
        _run(fake, tmp_path, lambda out: out.send_text_message(TO, "您好"), api_base=base)
    assert failure.value.reason == "unavailable"
    assert "sendMessage" in failure.value.detail
    assert TOKEN not in str(failure.value) and TOKEN.split(":")[1] not in str(failure.value)
    assert failure.value.__cause__ is None and failure.value.__suppress_context__


def test_other_senders_are_never_sent_to(fake: FakeBotApi, tmp_path: Path) -> None:
    for sender in ("rest:5550003", "widget:abc", "5550003", "telegram:abc"):
        with pytest.raises(SendFailure) as failure:
            _run(fake, tmp_path, lambda out, s=sender: out.send_text_message(s, "您好"))
        assert failure.value.reason == "unknown_sender"
    assert fake.calls == []


def test_a_custom_payload_cannot_address_another_chat(fake: FakeBotApi, tmp_path: Path) -> None:
    custom = {"chat_id": 999, "text": "只给本人", "photo": "https://x.example/p.png"}
    _run(fake, tmp_path, lambda out: out.send_custom_json(TO, custom))
    assert [(c.method, c.chat_id, c.text) for c in fake.calls] == [("sendMessage", CHAT, "只给本人")]


def test_a_turn_reply_that_fails_does_not_raise(fake: FakeBotApi, tmp_path: Path) -> None:
    fake.block(CHAT)
    _run(fake, tmp_path, lambda out: out.send_response(TO, {"text": "您好"}))
    assert [c.status for c in fake.calls_to("sendMessage")] == [403]


def test_images_only_by_http_url(fake: FakeBotApi, tmp_path: Path) -> None:
    async def steps(out: WalletTelegramOutput) -> None:
        await out.send_image_url(TO, "https://cdn.example.com/guide.png")
        await out.send_image_url(TO, "file:///etc/passwd")

    _run(fake, tmp_path, steps)
    assert [c.params.get("photo") for c in fake.calls_to("sendPhoto")] == [
        "https://cdn.example.com/guide.png"
    ]


def test_a_button_answer_failure_is_only_logged(fake: FakeBotApi, tmp_path: Path) -> None:
    fake.fail("answerCallbackQuery", 400, "Bad Request: query is too old and response timeout expired")
    _run(fake, tmp_path, lambda out: out.answer_button("q1", "已过期"))
    assert fake.calls_to("answerCallbackQuery")[0].params == {"callback_query_id": "q1", "text": "已过期"}
