"""The channel over HTTP, served by Sanic as ``rasa run`` serves it, with a fake bot and a
fake platform API: handshake, passive replies, the five-second budget and 客服消息, one turn
per message whatever WeChat re-sends, safe and compatible mode, every message type."""

from __future__ import annotations

import asyncio
import logging
import sys
import types
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels.wechat.channel import WeChatInput
from bot.channels.wechat.crypto import MessageCipher, sign
from bot.channels.wechat.inbound import parse_fields
from bot.channels.wechat.notices import notice
from tests.bot.channels.wechat.harness import (
    AES_KEY,
    APP_ID,
    OLD_AES_KEY,
    OPENID,
    PNG,
    TOKEN,
    WEBHOOK,
    FakeBot,
    FakePlatform,
    encrypted,
    make_channel,
    payload,
    post,
    reply_content,
    serving,
    signed_query,
)

CIPHER = MessageCipher(TOKEN, AES_KEY, APP_ID)


def test_the_handshake_echoes_echostr_only_when_signed(tmp_path: Path) -> None:
    channel, _ = make_channel(tmp_path)

    async def scenario() -> list[httpx.Response]:
        async with serving(channel, FakeBot()) as (client, _app):
            good = await client.get(WEBHOOK, params={**signed_query(), "echostr": "5837397520183936"})
            forged = await client.get(
                WEBHOOK, params={**signed_query(token="guess"), "echostr": "5837397520183936"}
            )
            missing = await client.get(WEBHOOK, params=signed_query())
            markup = await client.get(WEBHOOK, params={**signed_query(), "echostr": "<script>"})
            return [good, forged, missing, markup]

    good, forged, missing, markup = asyncio.run(scenario())
    assert (good.status_code, good.text) == (200, "5837397520183936")
    assert (forged.status_code, forged.text) == (403, "invalid_signature")
    assert (missing.status_code, missing.text) == (400, "invalid_query")
    assert (markup.status_code, markup.text) == (400, "invalid_query")


def test_without_a_token_there_are_no_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WECHAT_TOKEN", raising=False)
    channel = WeChatInput.from_credentials({})
    assert channel.settings is None and channel.get_output_channel() is None

    async def scenario() -> tuple[int, int]:
        async with serving(channel, FakeBot()) as (client, _app):
            handshake = await client.get(WEBHOOK, params={**signed_query(), "echostr": "1"})
            message = await post(client, payload("text", content="你好"))
            return handshake.status_code, message.status_code

    assert asyncio.run(scenario()) == (404, 404)


def test_the_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APP_ID": APP_ID,
        "WECHAT_APP_SECRET": "s3cret",
        "WECHAT_ENCODING_AES_KEY": AES_KEY,
        "WECHAT_API_BASE": "http://127.0.0.1:9/",
        "WECHAT_REPLY_BUDGET_SECONDS": "2",
    }.items():
        monkeypatch.setenv(name, value)
    channel = WeChatInput.from_credentials({"rate_limit_per_minute": 7})
    assert channel.settings is not None and channel.settings.safe_mode
    assert (channel.settings.api_base, channel.settings.reply_budget_seconds) == ("http://127.0.0.1:9", 2.0)
    assert channel.settings.rate_limit_per_minute == 7
    assert WeChatInput.name() == "wechat"


def test_a_text_gets_one_passive_reply_from_one_turn(tmp_path: Path) -> None:
    channel, platform = make_channel(tmp_path)
    buttons = [{"title": "解决了", "payload": "/affirm"}, {"title": "还没有", "payload": "/deny"}]
    bot = FakeBot(lambda m: ["好的。", ("请问这样能解决您的问题吗？", buttons)])
    xml = payload("text", content="我的转账失败了", msg_id=7000000000000000001)

    async def scenario() -> tuple[httpx.Response, Any]:
        async with serving(channel, bot) as (client, app):
            query = {**signed_query(), "openid": "oSomeoneElse_forged_000000000"}
            return await post(client, xml, query), app

    response, app = asyncio.run(scenario())
    assert response.headers["content-type"].startswith("application/xml")
    assert reply_content(response) == "好的。\n\n请问这样能解决您的问题吗？\n回复数字选择：1 解决了  2 还没有"
    assert parse_fields(response.text)["ToUserName"] == OPENID
    [message] = bot.messages
    assert (message.text, message.sender_id, message.input_channel) == (
        "我的转账失败了",
        f"wechat:{OPENID}",
        "wechat",
    )
    assert message.message_id == "wechat-7000000000000000001"
    assert message.metadata == {"wechat": {"msg_type": "text", "event": None}}
    assert message.output_channel.name() == "wechat"
    assert channel in app.ctx.input_channels
    assert platform.sent == []


def test_a_resent_message_gets_the_same_reply_and_no_second_turn(tmp_path: Path) -> None:
    channel, _ = make_channel(tmp_path)
    bot = FakeBot()
    xml = payload("text", content="忘记密码了")

    async def scenario() -> list[httpx.Response]:
        async with serving(channel, bot) as (client, _app):
            return [await post(client, xml) for _ in range(3)]

    replies = asyncio.run(scenario())
    assert [reply_content(r) for r in replies] == ["收到：忘记密码了"] * 3
    assert len(bot.messages) == 1


def test_copies_sent_while_the_turn_runs_wait_for_its_reply(tmp_path: Path) -> None:
    channel, platform = make_channel(tmp_path, reply_budget_seconds=3.5)
    bot = FakeBot(delay=1.0)
    xml = payload("text", content="在吗")

    async def scenario() -> list[httpx.Response]:
        async with serving(channel, bot) as (client, _app):

            async def later(delay: float) -> httpx.Response:
                await asyncio.sleep(delay)
                return await post(client, xml)

            return list(await asyncio.gather(later(0), later(0.3), later(0.6)))

    replies = asyncio.run(scenario())
    assert [reply_content(r) for r in replies] == ["收到：在吗"] * 3
    assert len(bot.messages) == 1 and platform.sent == []


def test_a_slow_turn_answers_success_then_sends_through_customer_service(tmp_path: Path) -> None:
    channel, platform = make_channel(tmp_path, reply_budget_seconds=0.5)
    bot = FakeBot(delay=1.5)
    xml = payload("text", content="我要投诉")

    async def scenario() -> tuple[httpx.Response, float, httpx.Response]:
        async with serving(channel, bot) as (client, _app):
            loop = asyncio.get_running_loop()
            started = loop.time()
            first = await post(client, xml)
            elapsed = loop.time() - started
            for _ in range(100):
                if platform.sent:
                    break
                await asyncio.sleep(0.1)
            again = await post(client, xml)
            return first, elapsed, again

    first, elapsed, again = asyncio.run(scenario())
    assert first.text == "success" and elapsed < 1.4
    assert platform.texts() == ["收到：我要投诉"]
    assert again.text == "success"
    assert len(bot.messages) == 1 and bot.finished == 1


def test_the_turn_outlives_a_dropped_connection_and_the_retry_gets_its_reply(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    channel, platform = make_channel(tmp_path, reply_budget_seconds=3.5)
    bot = FakeBot(delay=1.0)
    xml = payload("text", content="手机丢了")

    async def scenario() -> httpx.Response:
        async with serving(channel, bot) as (client, _app):
            with pytest.raises(httpx.ReadTimeout):
                query = {**signed_query(), "openid": OPENID}
                await client.post(WEBHOOK, params=query, content=xml.encode(), timeout=0.3)
            await asyncio.sleep(1.2)
            return await post(client, xml)

    with caplog.at_level(logging.INFO):
        retry = asyncio.run(scenario())
    assert reply_content(retry) == "收到：手机丢了"
    assert OPENID not in caplog.text
    assert len(bot.messages) == 1 and bot.finished == 1 and platform.sent == []


def test_a_long_answer_goes_through_customer_service_in_parts(tmp_path: Path) -> None:
    channel, platform = make_channel(tmp_path)
    answer = "".join(f"第{n}条说明：请按步骤操作。" for n in range(400))
    bot = FakeBot(lambda m: [answer])

    async def scenario() -> httpx.Response:
        async with serving(channel, bot) as (client, _app):
            response = await post(client, payload("text", content="怎么办"))
            for _ in range(50):
                if "".join(platform.texts()) == answer:
                    break
                await asyncio.sleep(0.1)
            return response

    assert asyncio.run(scenario()).text == "success"
    parts = platform.texts()
    assert len(parts) > 1 and all(len(p.encode()) <= 2048 for p in parts)
    assert "".join(parts) == answer


def test_safe_mode_replies_are_encrypted_and_signed(tmp_path: Path) -> None:
    channel, _ = make_channel(tmp_path, aes_key=AES_KEY)
    bot = FakeBot()

    async def scenario() -> tuple[dict[str, str], httpx.Response]:
        async with serving(channel, bot) as (client, _app):
            query, body = encrypted(payload("text", content="交易失败"))
            return query, await post(client, body, query)

    query, response = asyncio.run(scenario())
    fields = parse_fields(response.text)
    assert set(fields) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
    assert fields["Nonce"] == query["nonce"]
    assert fields["MsgSignature"] == sign(TOKEN, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
    assert reply_content(response, CIPHER) == "收到：交易失败"
    assert bot.messages[0].sender_id == f"wechat:{OPENID}"


def test_compatible_mode_uses_only_the_decrypted_copy(tmp_path: Path) -> None:
    channel, _ = make_channel(tmp_path, aes_key=AES_KEY)
    bot = FakeBot()
    forged_outside = payload("text", openid="oAttacker_00000000000000000", content="伪造的明文")
    sealed_inside = payload("text", content="真正的消息")

    async def scenario() -> httpx.Response:
        async with serving(channel, bot) as (client, _app):
            query, body = encrypted(sealed_inside)
            outer = forged_outside.removesuffix("</xml>") + body.decode().split("<ToUserName>", 1)[1].split(
                "</ToUserName>", 1
            )[1].removesuffix("</xml>")
            return await post(client, outer + "</xml>", {**query, "openid": "oAttacker_00000000000000000"})

    response = asyncio.run(scenario())
    assert reply_content(response, CIPHER) == "收到：真正的消息"
    assert [(m.sender_id, m.text) for m in bot.messages] == [(f"wechat:{OPENID}", "真正的消息")]


def test_compatible_mode_as_wechat_sends_it(tmp_path: Path) -> None:
    channel, _ = make_channel(tmp_path, aes_key=AES_KEY)
    bot = FakeBot()

    async def scenario() -> httpx.Response:
        async with serving(channel, bot) as (client, _app):
            query, body = encrypted(payload("text", content="兼容模式"), compat=True)
            return await post(client, body, query)

    assert reply_content(asyncio.run(scenario()), CIPHER) == "收到：兼容模式"


def test_messages_under_the_previous_key_are_accepted_after_a_rotation(tmp_path: Path) -> None:
    channel, _ = make_channel(tmp_path, aes_key=AES_KEY, previous_aes_key=OLD_AES_KEY)
    bot = FakeBot()

    async def scenario() -> httpx.Response:
        async with serving(channel, bot) as (client, _app):
            query, body = encrypted(payload("text", content="旧密钥"), key=OLD_AES_KEY)
            return await post(client, body, query)

    # the reply goes back under the key the message came with: rotation works in either order
    assert reply_content(asyncio.run(scenario()), MessageCipher(TOKEN, OLD_AES_KEY, APP_ID)) == "收到：旧密钥"


def test_subscribing_greets_and_unsubscribing_makes_the_user_unreachable(tmp_path: Path) -> None:
    from bot.handoff.push import push

    channel, platform = make_channel(tmp_path)
    bot = FakeBot(lambda m: ["您好，欢迎来到联合钱包客服中心！"] if m.text == "/greet" else [])

    async def scenario() -> list[Any]:
        async with serving(channel, bot) as (client, app):
            greeted = await post(client, payload("subscribe", key="qrscene_poster"))
            left = await post(client, payload("unsubscribe"))
            refused = await push(app, "wechat", f"wechat:{OPENID}", [{"text": "人工客服 小王 已接入"}])
            await post(client, payload("subscribe", time=1))
            delivered = await push(app, "wechat", f"wechat:{OPENID}", [{"text": "人工客服 小王 已接入"}])
            return [greeted, left, refused, delivered]

    greeted, left, refused, delivered = asyncio.run(scenario())
    assert reply_content(greeted) == "您好，欢迎来到联合钱包客服中心！"
    assert left.text == "success"
    assert [m.text for m in bot.messages] == ["/greet", "/greet"]
    assert (refused.delivered, refused.reason) == (False, "unsubscribed")
    assert delivered.delivered and platform.texts() == ["人工客服 小王 已接入"]


def test_menu_clicks_send_their_payload(tmp_path: Path) -> None:
    channel, _ = make_channel(tmp_path)
    bot = FakeBot(lambda m: [f"intent {m.text}"])

    async def scenario() -> list[httpx.Response]:
        async with serving(channel, bot) as (client, _app):
            return [
                await post(client, payload("click", key="REQUEST_HUMAN", time=1700000001)),
                await post(client, payload("click", key="NOT_A_KEY", time=1700000002)),
                await post(client, payload("view")),
                await post(client, payload("unknown_event")),
            ]

    human, unknown, view, other = asyncio.run(scenario())
    assert reply_content(human) == "intent /request_human"
    assert reply_content(unknown) == notice("unknown_menu")
    assert view.text == other.text == "success"
    assert [m.text for m in bot.messages] == ["/request_human"]


def test_voice_is_text_when_recognized_otherwise_the_user_is_asked_to_type(tmp_path: Path) -> None:
    channel, _ = make_channel(tmp_path)
    bot = FakeBot()

    async def scenario() -> list[httpx.Response]:
        async with serving(channel, bot) as (client, _app):
            return [
                await post(client, payload("voice", content="我忘记密码了")),
                await post(client, payload("voice_unrecognized")),
                await post(client, payload("voice", content="  ")),
            ]

    heard, unheard, blank = asyncio.run(scenario())
    assert reply_content(heard) == "收到：我忘记密码了"
    assert reply_content(unheard) == reply_content(blank) == notice("please_type")
    assert [m.text for m in bot.messages] == ["我忘记密码了"]


@pytest.mark.parametrize("name", ["video", "location", "unknown_type"])
def test_other_message_types_get_a_polite_text(tmp_path: Path, name: str) -> None:
    channel, _ = make_channel(tmp_path)
    bot = FakeBot()

    async def scenario() -> httpx.Response:
        async with serving(channel, bot) as (client, _app):
            return await post(client, payload(name))

    assert reply_content(asyncio.run(scenario())) == notice("unsupported")
    assert bot.messages == []


def test_too_many_messages_get_a_notice_not_a_turn(tmp_path: Path) -> None:
    channel, _ = make_channel(tmp_path, rate_limit_per_minute=2)
    bot = FakeBot()

    async def scenario() -> list[httpx.Response]:
        async with serving(channel, bot) as (client, _app):
            return [await post(client, payload("text", content=f"第{n}条")) for n in range(3)]

    replies = [reply_content(r) for r in asyncio.run(scenario())]
    assert replies == ["收到：第0条", "收到：第1条", notice("rate_limited")]
    assert len(bot.messages) == 2


def test_a_failed_turn_gets_the_busy_notice_and_the_log_is_masked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.masking import install_log_masking

    install_log_masking()
    channel, _ = make_channel(tmp_path)

    def broken(message: UserMessage) -> list[Any]:
        raise RuntimeError("lookup failed for 13800138000")

    async def scenario() -> httpx.Response:
        async with serving(channel, FakeBot(broken)) as (client, _app):
            return await post(client, payload("text", content="我的手机号是13900001111"))

    with caplog.at_level(logging.INFO):
        response = asyncio.run(scenario())
    assert reply_content(response) == notice("busy")
    logged = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "138****8000" in logged
    for secret in ("13800138000", "13900001111", OPENID, TOKEN):
        assert secret not in logged


def test_webhook_urls_lose_their_query_in_sanic_logs() -> None:
    from bot.channels.wechat.logs import WebhookUrlFilter

    access = logging.makeLogRecord(
        {"msg": "", "request": f"POST http://h/webhooks/wechat/webhook?signature=ab&openid={OPENID}"}
    )
    stopped = logging.makeLogRecord(
        {
            "msg": "Request: %s %s stopped.",
            "args": ("POST", f"http://h/webhooks/wechat/webhook?openid={OPENID}"),
        }
    )
    other = logging.makeLogRecord({"msg": "", "request": "GET http://h/webhooks/rest/?x=1"})
    for record in (access, stopped, other):
        assert WebhookUrlFilter().filter(record)
    assert access.request == "POST http://h/webhooks/wechat/webhook?…"
    assert stopped.getMessage() == "Request: POST http://h/webhooks/wechat/webhook?… stopped."
    assert other.request.endswith("?x=1")


@pytest.fixture
def attachments(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """A fake ``bot.handoff.attachments``: what it kept; it refuses GIFs as "unavailable"."""
    kept: list[tuple[Any, ...]] = []

    class AttachmentRefused(Exception):
        def __init__(self, reason: str) -> None:
            super().__init__(reason)
            self.reason = reason

    async def receive_attachment(
        app: Any, sender_id: str, channel: str, content_type: str, data: bytes, source: str
    ) -> None:
        assert app is not None
        if data.startswith(b"GIF"):
            raise AttachmentRefused("unavailable")
        kept.append((sender_id, channel, content_type, data, source))

    fake = types.ModuleType("bot.handoff.attachments")
    fake.AttachmentRefused = AttachmentRefused  # type: ignore[attr-defined]
    fake.receive_attachment = receive_attachment  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bot.handoff.attachments", fake)
    return kept


def test_images_are_fetched_by_media_id_checked_and_kept(
    tmp_path: Path, attachments: list[tuple[Any, ...]]
) -> None:
    platform = FakePlatform(
        media={
            "photo": ("image/jpeg", PNG),  # the declared type is not trusted: the bytes are PNG
            "script": ("image/jpeg", b"<script>alert(1)</script>"),
            "huge": ("image/png", PNG + bytes(4096)),
            "gif": ("image/gif", b"GIF89a" + bytes(32)),
        }
    )
    channel, _ = make_channel(tmp_path, platform=platform, max_image_bytes=2048)
    bot = FakeBot()

    async def scenario() -> list[str | None]:
        async with serving(channel, bot) as (client, _app):
            names = ["photo", "script", "huge", "gif", "missing"]
            return [reply_content(await post(client, payload("image", media_id=name))) for name in names]

    received, script, huge, refused, missing = asyncio.run(scenario())
    assert received == notice("image_received")
    assert script == huge == notice("image_invalid", max_mb=1)
    assert refused == missing == notice("image_refused")
    assert attachments == [(f"wechat:{OPENID}", "wechat", "image/png", PNG, "photo")]
    assert bot.messages == []  # the attachment store writes the transcript, not the bot
    assert {r.url.host for r in platform.requests} == {"wechat.test"}  # never the PicUrl
    assert {r.url.path for r in platform.requests} == {"/cgi-bin/stable_token", "/cgi-bin/media/get"}


def test_without_the_attachment_store_images_get_a_polite_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "bot.handoff.attachments", None)  # import fails
    channel, platform = make_channel(tmp_path)

    async def scenario() -> httpx.Response:
        async with serving(channel, FakeBot()) as (client, _app):
            return await post(client, payload("image", media_id="photo"))

    assert reply_content(asyncio.run(scenario())) == notice("image_unavailable")
    assert platform.requests == []
