"""The bot's messages as WeChat texts: split to 2048 bytes, buttons numbered, images as
links, and a passive reply that stays well-formed whatever the text holds."""

from __future__ import annotations

import pytest
import xmltodict

from bot.channels.wechat.inbound import Inbound, read_message
from bot.channels.wechat.outbound import MAX_TEXT_BYTES, compose, message_text, split_text, text_reply
from tests.bad_inputs import bad_messages
from tests.bot.channels.wechat.harness import ACCOUNT, OPENID

INBOUND = Inbound(kind="text", openid=OPENID, account=ACCOUNT, create_time=1)


@pytest.mark.parametrize(
    "text",
    ["我" * 700, "a" * 5000, ("第一段说明。" * 60 + "\n") * 6, "😀" * 1000, "短消息", "x" * 2048, "我" * 683],
)
def test_texts_are_split_within_the_byte_limit_losing_nothing(text: str) -> None:
    parts = split_text(text)
    assert all(0 < len(p.encode("utf-8")) <= MAX_TEXT_BYTES for p in parts)
    assert "".join("".join(p.split()) for p in parts) == "".join(text.split())
    assert (
        len(parts) == -(-len(text.strip().encode("utf-8")) // MAX_TEXT_BYTES) or "\n" in text or "。" in text
    )


def test_splits_prefer_line_ends() -> None:
    paragraph = "这是一段很长的说明文字，用来测试分段。" * 30  # about 1700 bytes
    parts = split_text(f"{paragraph}\n{paragraph}")
    assert parts == [paragraph, paragraph]


def test_buttons_become_numbered_options_and_agents_are_named() -> None:
    buttons = [{"title": "解决了", "payload": "/affirm"}, {"title": "还没有", "payload": "/deny"}]
    assert message_text({"text": "请问这样能解决您的问题吗？", "buttons": buttons}) == (
        "请问这样能解决您的问题吗？\n回复数字选择：1 解决了  2 还没有"
    )
    assert message_text({"text": "您好", "role": "agent", "agent_name": "小王"}) == "【人工客服 小王】您好"


def test_images_are_links_or_politely_omitted() -> None:
    assert message_text({"image": "https://cdn.example/a.png"}) == "图片：https://cdn.example/a.png"
    assert "无法显示" in message_text({"image": "javascript:alert(1)"})
    assert compose([{"custom": {"role": "system"}}]) == []


def test_a_turn_is_joined_into_as_few_texts_as_possible() -> None:
    texts = compose(
        [{"text": "第一条"}, {"text": "第二条", "buttons": [{"title": "好", "payload": "/affirm"}]}]
    )
    assert texts == ["第一条\n\n第二条\n回复数字选择：1 好"]
    long = compose([{"text": "长" * 600}, {"text": "长" * 600}])
    assert len(long) == 2 and all(len(t.encode()) <= MAX_TEXT_BYTES for t in long)


@pytest.mark.parametrize("name", sorted(bad_messages()))
def test_a_passive_reply_is_well_formed_whatever_the_text(name: str) -> None:
    text = bad_messages()[name] + " ]]> <![CDATA[ & </Content>"
    parts = split_text(message_text({"text": text}))
    for part in parts:
        xml = text_reply(INBOUND, part, 1700000000)
        parsed = xmltodict.parse(xml)["xml"]
        assert (parsed["ToUserName"], parsed["FromUserName"], parsed["MsgType"]) == (OPENID, ACCOUNT, "text")
        assert parsed["Content"] == part
        assert read_message(xml.replace("<MsgType>", "<MsgId>1</MsgId><MsgType>")).text == part
