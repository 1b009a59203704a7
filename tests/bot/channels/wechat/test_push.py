"""The handoff's push through 客服消息: delivered, or not delivered with the reason the
console shows (bot/handoff/push.py), found in ``app.ctx.input_channels`` as Rasa registers it."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from rasa.core.channels.channel import register
from sanic import Sanic

from bot.channels.wechat.channel import WeChatInput, openid_of
from bot.handoff.push import Delivery, NotDeliverable, PushChannel, push
from tests.bot.channels.wechat.harness import OPENID, FakePlatform, make_channel

SENDER = f"wechat:{OPENID}"


def _registered(channel: WeChatInput) -> Sanic:
    Sanic.test_mode = True
    app = Sanic(f"wechat_push_{uuid.uuid4().hex}", configure_logging=False)
    register([channel], app, route="/webhooks/")
    return app


def _push(channel: WeChatInput, sender: str, *messages: dict[str, object]) -> Delivery:
    return asyncio.run(push(_registered(channel), "wechat", sender, list(messages)))


def test_the_channel_is_a_push_channel_rasa_registers() -> None:
    channel = WeChatInput(None)
    assert isinstance(channel, PushChannel)
    assert channel in _registered(channel).ctx.input_channels


def test_agent_messages_and_notices_are_delivered(tmp_path: Path) -> None:
    channel, platform = make_channel(tmp_path)
    rating = [{"title": f"{n} 分", "payload": f'/rate_service{{"satisfaction": {n}}}'} for n in (1, 2, 3)]
    delivery = _push(
        channel,
        SENDER,
        {"text": "您好，请问有什么可以帮您？", "role": "agent", "agent_name": "小王"},
        {"text": "请为本次服务打分：", "role": "system", "buttons": rating},
    )
    assert delivery == Delivery(True)
    assert platform.texts() == [
        "【人工客服 小王】您好，请问有什么可以帮您？",
        "请为本次服务打分：\n回复数字选择：1 1 分  2 2 分  3 3 分",
    ]


def test_a_long_message_is_sent_in_parts(tmp_path: Path) -> None:
    channel, platform = make_channel(tmp_path)
    assert _push(channel, SENDER, {"text": "长" * 1500}).delivered
    assert [len(t.encode()) for t in platform.texts()] == [2046, 2046, 408]


@pytest.mark.parametrize(
    ("errcode", "reason"),
    [
        (45015, "window_closed"),
        (45047, "quota"),
        (45009, "rate_limited"),
        (48001, "unavailable"),
        (43004, "unsubscribed"),
    ],
)
def test_refusals_come_back_with_their_reason(tmp_path: Path, errcode: int, reason: str) -> None:
    channel, platform = make_channel(tmp_path, platform=FakePlatform(send_errors=[errcode]))
    delivery = _push(channel, SENDER, {"text": "第一条"}, {"text": "第二条"})
    assert delivery == Delivery(False, reason)
    assert platform.sent == []
    assert delivery.explanation


def test_a_user_who_left_is_not_tried_again(tmp_path: Path) -> None:
    channel, platform = make_channel(tmp_path, platform=FakePlatform(send_errors=[43004]))
    assert _push(channel, SENDER, {"text": "一"}).reason == "unsubscribed"
    calls = len(platform.requests)
    assert _push(channel, SENDER, {"text": "二"}).reason == "unsubscribed"
    assert len(platform.requests) == calls


def test_an_unreachable_platform_is_unavailable(tmp_path: Path) -> None:
    channel, _ = make_channel(tmp_path, platform=FakePlatform(delay=3), api_timeout_seconds=0.5)
    assert _push(channel, SENDER, {"text": "你好"}) == Delivery(False, "unavailable")


@pytest.mark.parametrize(
    "sender", ["widget:abc", "rest:u1", "wechat:", "wechat:o user", "wechat:" + "o" * 65, OPENID]
)
def test_other_conversations_are_unknown_senders(tmp_path: Path, sender: str) -> None:
    channel, platform = make_channel(tmp_path)
    assert openid_of(sender) is None
    assert _push(channel, sender, {"text": "你好"}) == Delivery(False, "unknown_sender")
    assert platform.requests == []


def test_a_channel_that_is_off_cannot_push() -> None:
    with pytest.raises(NotDeliverable) as refused:
        asyncio.run(WeChatInput(None).push(SENDER, {"text": "你好"}))
    assert refused.value.reason == "unavailable"


def test_rasa_output_channel_sends_through_customer_service(tmp_path: Path) -> None:
    channel, platform = make_channel(tmp_path, platform=FakePlatform(send_errors=[0, 45015]))
    output = channel.get_output_channel()
    assert output is not None and output.name() == "wechat"

    async def scenario() -> None:
        await output.send_text_with_buttons(
            SENDER, "还需要帮助吗？", [{"title": "需要", "payload": "/affirm"}]
        )
        await output.send_text_message(SENDER, "这条不会送达")  # logged, not raised

    asyncio.run(scenario())
    assert platform.texts() == ["还需要帮助吗？\n回复数字选择：1 需要"]
