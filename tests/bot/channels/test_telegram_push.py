"""The one output channel, push through the handoff's ``bot.handoff.push``, and what is logged
(nothing secret or personal, at DEBUG)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels.telegram import WalletTelegramInput, WalletTelegramOutput
from bot.handoff.push import NotDeliverable, push
from bot.masking import install_log_masking
from tests.fakes.telegram_api import TOKEN, FakeBotApi, fake_bot_api
from tests.fakes.telegram_app import FakeRasa, channel_for, scenario, serving
from tests.fakes.telegram_updates import SECRET, apost, update

CHAT = 5550012


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with fake_bot_api() as api:
        yield api


# --- the output channel and push ----------------------------------------------------------
def test_one_output_channel_built_once_and_safe_inside_the_loop(fake: FakeBotApi, tmp_path: Path) -> None:
    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> list[Any]:
        return [channel.get_output_channel(), channel.get_output_channel()]

    first, second = scenario(fake, tmp_path, steps)
    assert isinstance(first, WalletTelegramOutput) and first is second
    assert first.renders_buttons is True
    assert fake.calls == []  # no setWebhook, no getMe: nothing at start-up


def test_push_delivers_through_the_servers_input_channels(fake: FakeBotApi, tmp_path: Path) -> None:
    async def run() -> list[Any]:
        channel = channel_for(fake, tmp_path)
        async with serving(channel, FakeRasa()) as served:
            app = served.app
            assert channel in app.ctx.input_channels
            sender = f"telegram:{CHAT}"
            delivered = await push(
                app, "telegram", sender, [{"text": "您好，我是小王", "role": "agent", "agent_name": "小王"}]
            )
            rating = [
                {"title": f"{n} 分", "payload": f'/rate_service{{"satisfaction":"{n}"}}'} for n in (1, 2, 3)
            ]
            notice = await push(
                app, "telegram", sender, [{"text": "请打分", "role": "system", "buttons": rating}]
            )
            fake.block(CHAT)
            blocked = await push(
                app, "telegram", sender, [{"text": "还在吗", "role": "agent", "agent_name": "小王"}]
            )
            fake.unblock(CHAT)
            fake.throttle("sendMessage", times=10, retry_after=1)
            throttled = await push(
                app, "telegram", sender, [{"text": "稍后", "role": "agent", "agent_name": "小王"}]
            )
            other = await push(app, "telegram", "widget:abc", [{"text": "x"}])
            return [delivered, notice, blocked, throttled, other]

    delivered, notice, blocked, throttled, other = asyncio.run(run())
    assert delivered.delivered and notice.delivered
    assert (blocked.delivered, blocked.reason) == (False, "unsubscribed")
    assert (throttled.delivered, throttled.reason) == (False, "rate_limited")
    assert (other.delivered, other.reason) == (False, "unknown_sender")
    sent = fake.calls_to("sendMessage", CHAT, ok=True)
    assert sent[0].text == "小王：您好，我是小王"
    assert sent[1].text == "请打分" and [b["text"] for b in sent[1].buttons] == ["1 分", "2 分", "3 分"]


def test_push_refuses_other_senders_without_calling_telegram(fake: FakeBotApi, tmp_path: Path) -> None:
    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> list[str]:
        reasons = []
        for sender in ("rest:5550010", "widget:5550010", "5550010", "telegram:x"):
            with pytest.raises(NotDeliverable) as error:
                await channel.push(sender, {"text": "您好"})
            reasons.append(error.value.reason)
        return reasons

    assert scenario(fake, tmp_path, steps) == ["unknown_sender"] * 4
    assert fake.calls == []


# --- logs ---------------------------------------------------------------------------------
def test_nothing_secret_or_personal_is_logged(
    fake: FakeBotApi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    install_log_masking()
    phone, code = "13800138000", "246810"

    def echo(message: UserMessage) -> list[dict[str, Any]]:
        if message.text == "崩溃":
            raise RuntimeError(f"failed on {phone} with https://api.telegram.org/bot{TOKEN}/sendMessage")
        return [{"text": f"已收到 {phone}"}]

    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> None:
        await apost(client, base, update("text", CHAT, f"我的手机号是{phone}，验证码{code}"))
        await apost(client, base, update("photo", CHAT))  # its caption has the phone
        await apost(client, base, update("text", CHAT, phone), secret="forged-secret-0123456789abcdef")
        await apost(client, base, update("text", CHAT, "崩溃"))
        await apost(client, base, f'{{"update_id": 1, "message": "{phone}'.encode())
        fake.block(CHAT)
        await apost(client, base, update("text", CHAT, f"再发一次 {phone}"))

    with caplog.at_level(logging.DEBUG):
        scenario(fake, tmp_path, steps, FakeRasa(reply=echo))
    logged = caplog.text
    assert "138****8000" in logged and "<redacted>" in logged  # logged, masked and redacted
    for secret in (TOKEN, TOKEN.split(":")[1], SECRET, phone, code):
        assert secret not in logged, secret
