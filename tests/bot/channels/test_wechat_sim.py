"""The fake WeChat itself: signatures and encryption against known answers and against
wechatpy (an independent implementation), the messages it posts, how it reads passive replies
and re-sends, and its API: tokens, 客服消息 with sending windows, menus, media, faults; the
simulator's page and command line."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.crypto.cryptography import WeChatCipher
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from bot.channels.wechat_sim import errcodes, messages, replies, signing
from bot.channels.wechat_sim.account import Account, AccountError
from bot.channels.wechat_sim.background import BackgroundServer
from bot.channels.wechat_sim.media import png
from bot.channels.wechat_sim.platform import FakeWeChat
from bot.channels.wechat_sim.server import WeChatServer
from bot.channels.wechat_sim.simulator import STATIC, Simulator
from bot.channels.wechat_sim.state import WeChatState
from bot.channels.wechat_sim.user import WeChatUser, new_openid

ROOT = Path(__file__).resolve().parents[3]

# CHANNELS.md's known-answer vectors.
VECTOR_TOKEN, VECTOR_KEY, VECTOR_APPID = (
    "123456",
    "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
    "wx49f0ab532d5d035a",
)
VECTOR_CIPHERTEXT = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6"
    "ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQq"
    "Gp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7"
    "FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
)
VECTOR_REPLY = """<xml>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[test]]></Content>
<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>
<ToUserName><![CDATA[messense]]></ToUserName>
<AgentID>1</AgentID>
<CreateTime>1411525903</CreateTime>
</xml>"""


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def account() -> Account:
    return Account.generate(safe=True)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def wechat(account: Account, clock: Clock) -> Iterator[FakeWeChat]:
    with FakeWeChat(account, state=WeChatState(account, clock=clock)) as fake:
        yield fake


def _token(wechat: FakeWeChat) -> str:
    account = wechat.account
    query = {"grant_type": "client_credential", "appid": account.app_id, "secret": account.app_secret}
    body = httpx.get(f"{wechat.url}/cgi-bin/token", params=query).json()
    assert body["expires_in"] == 7200, body
    return str(body["access_token"])


def _stable(wechat: FakeWeChat, force: bool = False) -> dict[str, Any]:
    account = wechat.account
    body = {
        "grant_type": "client_credential",
        "appid": account.app_id,
        "secret": account.app_secret,
        "force_refresh": force,
    }
    return dict(httpx.post(f"{wechat.url}/cgi-bin/stable_token", json=body).json())


def _send(wechat: FakeWeChat, token: str | None, body: Any, raw: bytes | None = None) -> dict[str, Any]:
    params = {} if token is None else {"access_token": token}
    content = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    reply = httpx.post(f"{wechat.url}/cgi-bin/message/custom/send", params=params, content=content)
    assert reply.status_code == 200  # WeChat's errors come with HTTP 200
    return dict(reply.json())


def _text(openid: str, content: str) -> dict[str, Any]:
    return {"touser": openid, "msgtype": "text", "text": {"content": content}}


# --- signatures and encryption ------------------------------------------------------------
def test_the_plain_signature_matches_the_known_answer() -> None:
    assert signing.signature("test", "1410685589", "test") == "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"
    assert signing.signature_matches("f21891de399b4e33a1a93c9a7b8a8fffb5a443ff", "test", "1410685589", "test")
    assert not signing.signature_matches(
        "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff", "test", "1410685589", "tesT"
    )


def test_the_known_ciphertext_decrypts_only_for_its_appid() -> None:
    key = base64.b64decode(VECTOR_KEY + "=")
    assert (
        signing.signature(VECTOR_TOKEN, "1411525903", "461056294", VECTOR_CIPHERTEXT)
        == "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
    )
    message = parse_message(signing.decrypt(key, VECTOR_APPID, VECTOR_CIPHERTEXT))
    assert (message.source, message.content, message.id) == ("messense", "test", 4363689963896700987)
    with pytest.raises(signing.CryptoError, match="AppID"):
        signing.decrypt(key, "wx0000000000000000", VECTOR_CIPHERTEXT)


def test_encryption_with_a_fixed_prefix_gives_the_known_signature() -> None:
    key = base64.b64decode(VECTOR_KEY + "=")
    encrypted = signing.encrypt(key, VECTOR_APPID, VECTOR_REPLY, prefix="1234567890123456")
    assert signing.signature(VECTOR_TOKEN, "1411525903", "461056294", encrypted) == (
        "407518b7649e86ef23978113f92d27afa9296533"
    )
    assert signing.decrypt(key, VECTOR_APPID, encrypted) == VECTOR_REPLY


def test_bad_padding_length_and_base64_are_refused() -> None:
    key = base64.b64decode(VECTOR_KEY + "=")
    plain = WeChatCipher(key).decrypt(base64.b64decode(VECTOR_CIPHERTEXT))
    for last in (0, 33, 255):
        forged = base64.b64encode(WeChatCipher(key).encrypt(plain[:-1] + bytes([last]))).decode()
        with pytest.raises(signing.CryptoError, match="padding"):
            signing.decrypt(key, VECTOR_APPID, forged)
    too_long = plain[:16] + (10**6).to_bytes(4, "big") + plain[20:]
    with pytest.raises(signing.CryptoError, match="length"):
        signing.decrypt(key, VECTOR_APPID, base64.b64encode(WeChatCipher(key).encrypt(too_long)).decode())
    for garbage in ("", "not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(signing.CryptoError):
            signing.decrypt(key, VECTOR_APPID, garbage)


def test_accounts_look_like_wechat_ones() -> None:
    account = Account.generate()
    assert account.aes_key is not None and len(account.aes_key) == 32
    assert Account.generate(safe=False).encoding_aes_key is None
    for bad in (
        {"token": "a b"},
        {"app_id": "wx123"},
        {"app_secret": "x" * 32},
        {"encoding_aes_key": "k" * 42},
    ):
        with pytest.raises(AccountError):
            Account(**{**account.__dict__, **bad})
    env = account.channel_env("http://127.0.0.1:1")
    assert env["WECHAT_ENCODING_AES_KEY"] == account.encoding_aes_key and env["WECHAT_API_BASE"].endswith(
        ":1"
    )


def test_account_settings_survive_a_save(tmp_path: Path, account: Account) -> None:
    account.save(tmp_path / "sim.json")
    assert Account.load(tmp_path / "sim.json") == account


# --- the messages WeChat posts ------------------------------------------------------------
def test_messages_parse_as_wechat_messages() -> None:
    gh, openid = "gh_a1b2c3d4e5f6", new_openid()
    text = parse_message(messages.text(openid, "我忘记密码了 ]]> <b>", gh, msg_id=4363689963896700987).xml)
    assert (text.type, text.source, text.target, text.content, text.id) == (
        "text",
        openid,
        gh,
        "我忘记密码了 ]]> <b>",
        4363689963896700987,
    )
    image = parse_message(messages.image(openid, "MEDIA", "http://127.0.0.1/mmbiz/MEDIA", gh).xml)
    assert (image.type, image.media_id, image.image) == ("image", "MEDIA", "http://127.0.0.1/mmbiz/MEDIA")
    voice = parse_message(messages.voice(openid, "VOICE", gh, recognition="转人工").xml)
    assert (voice.type, voice.media_id, voice.format, voice.recognition) == (
        "voice",
        "VOICE",
        "amr",
        "转人工",
    )
    assert parse_message(messages.voice(openid, "VOICE", gh).xml).recognition is None
    subscribe = messages.event(openid, "subscribe", gh, "qrscene_42", ticket="TICKET")
    assert parse_message(subscribe.xml).event == "subscribe_scan"
    assert parse_message(subscribe.xml).scene_id == "42"
    assert parse_message(messages.event(openid, "subscribe", gh).xml).event == "subscribe"
    assert parse_message(messages.event(openid, "unsubscribe", gh).xml).event == "unsubscribe"
    click = parse_message(messages.event(openid, "CLICK", gh, "REQUEST_HUMAN").xml)
    assert (click.event, click.key) == ("click", "REQUEST_HUMAN")
    with pytest.raises(ValueError):
        messages.event(openid, "CLICK", gh)


def test_events_are_told_apart_by_sender_and_time_messages_by_msgid() -> None:
    openid = new_openid()
    first = messages.event(openid, "subscribe", "gh_a1b2c3d4e5f6", create_time=1700000000)
    assert first.msg_id is None and first.dedupe_key == f"{openid}:1700000000"
    ids = {messages.text(openid, "你好", "gh_a1b2c3d4e5f6").msg_id for _ in range(50)}
    assert len(ids) == 50 and all(i is not None and 10**18 <= i < 2**63 for i in ids)


# --- a stub channel written with wechatpy, to check the WeChat server against ----------------
@dataclass
class StubChannel:
    """A webhook that checks requests with wechatpy and answers what ``answer`` returns."""

    account: Account
    answer: Callable[[Any, int], str | bytes] = lambda message, number: (
        f"收到：{getattr(message, 'content', '')}"
    )
    stall: Callable[[int], float] = lambda number: 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    server: BackgroundServer | None = None

    def app(self) -> web.Application:
        crypto = WeChatCrypto(self.account.token, self.account.encoding_aes_key, self.account.app_id)

        async def webhook(request: web.Request) -> web.Response:
            query, body = dict(request.query), await request.text()
            check_signature(self.account.token, query["signature"], query["timestamp"], query["nonce"])
            safe = query.get("encrypt_type") == "aes"
            xml = (
                crypto.decrypt_message(body, query["msg_signature"], query["timestamp"], query["nonce"])
                if safe
                else body
            )
            message = parse_message(xml)
            self.requests.append({"query": query, "body": body, "message": message})
            number = len(self.requests)
            await asyncio.sleep(self.stall(number))
            text = self.answer(message, number)
            if isinstance(text, bytes):  # a raw answer
                return web.Response(body=text, content_type="text/xml")
            reply = TextReply(message=message, content=text).render()
            return web.Response(text=crypto.encrypt_message(reply, query["nonce"]) if safe else reply)

        async def handshake(request: web.Request) -> web.Response:
            query = request.query
            check_signature(self.account.token, query["signature"], query["timestamp"], query["nonce"])
            return web.Response(text=query["echostr"])

        app = web.Application()
        app.router.add_post("/webhooks/wechat/webhook", webhook)
        app.router.add_get("/webhooks/wechat/webhook", handshake)
        return app

    def __enter__(self) -> StubChannel:
        self.server = BackgroundServer(self.app).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.stop()

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url


@pytest.fixture
def stub(account: Account) -> Iterator[StubChannel]:
    with StubChannel(account) as channel:
        yield channel


@pytest.mark.parametrize("mode", ["plain", "safe", "compat"])
def test_messages_are_signed_encrypted_and_their_replies_read(
    wechat: FakeWeChat, stub: StubChannel, mode: str
) -> None:
    server = WeChatServer(stub.url, wechat.account, mode, wechat.state)
    user = WeChatUser(wechat, server)
    answer = user.say("我忘记密码了")
    assert answer.shown == "收到：我忘记密码了" and len(answer.attempts) == 1
    request = stub.requests[0]
    assert request["query"]["openid"] == user.openid
    assert ("encrypt_type" in request["query"]) == (mode != "plain")
    assert ("<Content>" in request["body"]) == (mode != "safe")  # plaintext only in plain and compat
    assert [(e.side, e.via, e.text) for e in user.entries()] == [
        ("user", "message", "我忘记密码了"),
        ("bot", "passive", "收到：我忘记密码了"),
    ]
    assert server.handshake("echo-42").text == "echo-42"


def test_a_retry_is_the_same_message_signed_afresh(wechat: FakeWeChat, account: Account) -> None:
    with StubChannel(account, stall=lambda number: 2.0 if number < 3 else 0.0) as channel:
        server = WeChatServer(channel.url, account, "safe", wechat.state, timeout=0.5)
        user = WeChatUser(wechat, server)
        answer = user.say("转账失败")
        assert [a.error for a in answer.attempts] == ["timeout", "timeout", None]
        assert answer.shown == "收到：转账失败"
        ids = {r["message"].id for r in channel.requests}
        assert len(channel.requests) == 3 and len(ids) == 1
        assert len({r["query"]["nonce"] for r in channel.requests}) == 3
        assert len({r["body"] for r in channel.requests}) == 3  # new ciphertext each time
        assert sum("没有在" in e.text for e in user.entries()) == 2


def test_three_tries_without_an_answer_show_the_service_error(wechat: FakeWeChat, account: Account) -> None:
    with StubChannel(account, stall=lambda number: 1.5) as channel:
        server = WeChatServer(channel.url, account, "plain", wechat.state, timeout=0.3)
        user = WeChatUser(wechat, server)
        assert user.say("你好").shown == replies.SERVICE_ERROR
        assert user.service_error_shown()
        once = user.send(messages.text(user.openid, "再来", user.to_user), retry=False)
        assert len(once.attempts) == 1


@pytest.mark.parametrize(
    ("mode", "answer", "problem"),
    [
        ("plain", "oops", "not XML"),
        ("plain", "<html></html>", "root element"),
        ("safe", "PLAINTEXT_REPLY", "not encrypted"),
        ("plain", "WRONG_USER", "ToUserName"),
        ("plain", "TOO_LONG", "2048"),
        ("safe", "TAMPERED", "MsgSignature"),
        ("plain", "EMPTY", "empty Content"),
    ],
)
def test_bad_passive_replies_show_the_service_error(
    wechat: FakeWeChat, account: Account, mode: str, answer: str, problem: str
) -> None:
    crypto = WeChatCrypto(account.token, account.encoding_aes_key, account.app_id)

    def bad(message: Any, number: int) -> bytes:
        reply = TextReply(message=message, content="好的").render()
        if answer == "PLAINTEXT_REPLY":
            return str(reply).encode()
        if answer == "WRONG_USER":
            return str(
                TextReply(source=message.target, target="o-someone-else", content="好的").render()
            ).encode()
        if answer == "TOO_LONG":
            return str(TextReply(message=message, content="长" * 700).render()).encode()
        if answer == "EMPTY":
            return str(TextReply(message=message, content="").render()).encode()
        if answer == "TAMPERED":
            sealed = crypto.encrypt_message(reply, "1")
            return re.sub(r"<MsgSignature><!\[CDATA\[\w+", "<MsgSignature><![CDATA[0000", sealed).encode()
        return answer.encode()

    with StubChannel(account, answer=bad) as channel:
        user = WeChatUser(wechat, WeChatServer(channel.url, account, mode, wechat.state))
        sent = user.say("你好")
        assert sent.shown == replies.SERVICE_ERROR
        assert problem in (sent.reply.problem or "")


def test_success_and_an_empty_answer_show_nothing(wechat: FakeWeChat, account: Account) -> None:
    with StubChannel(account, answer=lambda message, number: b"success" if number == 1 else b"") as channel:
        user = WeChatUser(wechat, WeChatServer(channel.url, account, "safe", wechat.state))
        assert user.say("一").shown is None and user.say("二").shown is None
        assert user.seen() == []


# --- access tokens ---------------------------------------------------------------------------
def test_wrong_credentials_are_refused(wechat: FakeWeChat) -> None:
    account, url = wechat.account, f"{wechat.url}/cgi-bin/token"
    good = {"grant_type": "client_credential", "appid": account.app_id, "secret": account.app_secret}
    for change, errcode in (
        ({"grant_type": "x"}, 40002),
        ({"appid": "wx0"}, 40013),
        ({"secret": "s"}, 40125),
    ):
        reply = httpx.get(url, params={**good, **change})
        assert reply.status_code == 200 and reply.json()["errcode"] == errcode
        assert "rid:" in reply.json()["errmsg"]
    bad = httpx.post(f"{wechat.url}/cgi-bin/stable_token", content=b"{not json")
    assert bad.json()["errcode"] == errcodes.DATA_FORMAT_ERROR
    assert wechat.state.token_fetches() == 0


def test_a_new_token_ends_the_previous_one_after_the_grace_period(wechat: FakeWeChat, clock: Clock) -> None:
    first = _token(wechat)
    second = _token(wechat)
    assert first != second
    assert _send(wechat, first, _text("o1", "x"))["errcode"] != errcodes.INVALID_CREDENTIAL  # in its grace
    clock.advance(301)
    assert _send(wechat, first, _text("o1", "x"))["errcode"] == errcodes.INVALID_CREDENTIAL
    assert _send(wechat, second, _text("o1", "x"))["errcode"] == errcodes.INVALID_OPENID  # token fine
    clock.advance(7200)
    assert _send(wechat, second, _text("o1", "x"))["errcode"] == errcodes.ACCESS_TOKEN_EXPIRED
    assert wechat.state.token_fetches() == 2


def test_the_stable_token_does_not_rotate_unless_forced(wechat: FakeWeChat, clock: Clock) -> None:
    first = _stable(wechat)
    assert _stable(wechat)["access_token"] == first["access_token"]
    _token(wechat)  # the other kind of token does not touch the stable one
    clock.advance(100)
    again = _stable(wechat)
    assert again["access_token"] == first["access_token"] and again["expires_in"] == 7100
    forced = _stable(wechat, force=True)["access_token"]
    assert forced != first["access_token"]
    assert _send(wechat, first["access_token"], _text("o1", "x"))["errcode"] == errcodes.INVALID_CREDENTIAL
    assert _stable(wechat, force=True)["access_token"] == forced  # not twice within 30 s
    clock.advance(7200 - 299)  # under five minutes left: normal mode renews, the old one lives on
    renewed = _stable(wechat)["access_token"]
    assert renewed != forced
    assert _send(wechat, forced, _text("o1", "x"))["errcode"] == errcodes.INVALID_OPENID


@pytest.mark.parametrize(("fault", "errcode"), [("expire_tokens", 42001), ("invalidate_tokens", 40001)])
def test_token_faults_refuse_the_current_token_once_refetched(
    wechat: FakeWeChat, fault: str, errcode: int
) -> None:
    old = _stable(wechat)["access_token"]
    getattr(wechat.state, fault)()
    assert _send(wechat, old, _text("o1", "x"))["errcode"] == errcode
    new = _stable(wechat)["access_token"]
    assert new != old and _send(wechat, new, _text("o1", "x"))["errcode"] == errcodes.INVALID_OPENID
    # every call is recorded as a delivery, refused ones with their errcode
    assert [d.errcode for d in wechat.state.deliveries_to("o1")] == [errcode, errcodes.INVALID_OPENID]


def test_missing_and_malformed_tokens(wechat: FakeWeChat) -> None:
    assert _send(wechat, None, _text("o1", "x"))["errcode"] == errcodes.ACCESS_TOKEN_MISSING
    assert _send(wechat, "a b", _text("o1", "x"))["errcode"] == errcodes.INVALID_ACCESS_TOKEN
    assert _send(wechat, "A" * 100, _text("o1", "x"))["errcode"] == errcodes.INVALID_CREDENTIAL


# --- 客服消息 -------------------------------------------------------------------------------------
def test_a_message_opens_a_window_of_five_within_48_hours(wechat: FakeWeChat, clock: Clock) -> None:
    token, openid = _stable(wechat)["access_token"], new_openid()
    assert _send(wechat, token, _text(openid, "早"))["errcode"] == errcodes.INVALID_OPENID  # never wrote
    wechat.state.user_wrote(messages.text(openid, "你好", "gh_a1b2c3d4e5f6"))
    codes = [_send(wechat, token, _text(openid, f"第{i}条"))["errcode"] for i in range(6)]
    assert codes == [0, 0, 0, 0, 0, errcodes.QUOTA_USED]
    wechat.state.user_wrote(messages.text(openid, "还在吗", "gh_a1b2c3d4e5f6"))
    assert _send(wechat, token, _text(openid, "在"))["errcode"] == 0
    clock.advance(48 * 3600 + 1)
    token = _stable(wechat)["access_token"]  # the old one expired meanwhile
    assert _send(wechat, token, _text(openid, "晚了"))["errcode"] == errcodes.WINDOW_CLOSED
    delivered = wechat.state.deliveries_to(openid, delivered=True)
    assert [d.text for d in delivered] == ["第0条", "第1条", "第2条", "第3条", "第4条", "在"]
    assert len(wechat.state.deliveries_to(openid, delivered=False)) == 3


def test_events_open_three_within_a_minute_and_unsubscribe_closes(wechat: FakeWeChat, clock: Clock) -> None:
    token, openid, gh = _stable(wechat)["access_token"], new_openid(), "gh_a1b2c3d4e5f6"
    wechat.state.user_wrote(messages.event(openid, "CLICK", gh, "CONTACT_SUPPORT"))
    assert [_send(wechat, token, _text(openid, "x"))["errcode"] for _ in range(4)] == [0, 0, 0, 45047]
    wechat.state.user_wrote(messages.event(openid, "subscribe", gh))
    clock.advance(61)
    assert _send(wechat, token, _text(openid, "x"))["errcode"] == errcodes.WINDOW_CLOSED
    wechat.state.user_wrote(messages.text(openid, "在吗", gh))
    wechat.state.user_wrote(messages.event(openid, "unsubscribe", gh))
    assert _send(wechat, token, _text(openid, "x"))["errcode"] == errcodes.WINDOW_CLOSED


@pytest.mark.parametrize(("fault", "errcode"), [("close_window", 45015), ("exhaust_quota", 45047)])
def test_forced_refusals_hold_until_the_user_writes_again(
    wechat: FakeWeChat, fault: str, errcode: int
) -> None:
    token, openid, gh = _stable(wechat)["access_token"], new_openid(), "gh_a1b2c3d4e5f6"
    wechat.state.user_wrote(messages.text(openid, "转人工", gh))
    getattr(wechat.state, fault)(openid)
    assert [_send(wechat, token, _text(openid, "您好"))["errcode"] for _ in range(2)] == [errcode, errcode]
    assert [e.text for e in wechat.state.entries(openid) if e.side == "notice"] == [
        f"客服消息未送达：{errcode}"
    ] * 2
    wechat.state.user_wrote(messages.text(openid, "人呢", gh))
    assert _send(wechat, token, _text(openid, "在的"))["errcode"] == 0


def test_what_a_delivery_must_look_like(wechat: FakeWeChat) -> None:
    token, openid = _stable(wechat)["access_token"], new_openid()
    wechat.state.user_wrote(messages.text(openid, "你好", "gh_a1b2c3d4e5f6"))
    assert _send(wechat, token, None, raw=b"")["errcode"] == errcodes.EMPTY_POST_DATA
    assert _send(wechat, token, None, raw=b"{oops")["errcode"] == errcodes.DATA_FORMAT_ERROR
    assert _send(wechat, token, None, raw=b"[1]")["errcode"] == errcodes.DATA_FORMAT_ERROR
    assert (
        _send(wechat, token, {"msgtype": "text", "text": {"content": "x"}})["errcode"]
        == errcodes.INVALID_OPENID
    )
    assert (
        _send(wechat, token, {"touser": openid, "msgtype": "fax"})["errcode"] == errcodes.INVALID_MESSAGE_TYPE
    )
    assert _send(wechat, token, _text(openid, ""))["errcode"] == errcodes.EMPTY_CONTENT
    assert _send(wechat, token, _text(openid, "长" * 683))["errcode"] == errcodes.CONTENT_TOO_LONG
    assert _send(wechat, token, _text(openid, "长" * 682))["errcode"] == 0  # 2046 bytes
    escaped = json.dumps(_text(openid, "您好")).encode()  # ensure_ascii: \\u60a8\\u597d
    assert _send(wechat, token, None, raw=escaped)["errcode"] == 0
    menu = {"head_content": "请选择：", "list": [{"id": "1", "content": "解决了"}], "tail_content": ""}
    assert _send(wechat, token, {"touser": openid, "msgtype": "msgmenu", "msgmenu": menu})["errcode"] == 0
    accepted = wechat.state.deliveries_to(openid, delivered=True)
    assert [(d.text, d.ascii_escaped) for d in accepted] == [
        ("长" * 682, False),
        ("您好", True),
        ("请选择：\n解决了", False),
    ]


# --- menu, media, faults ------------------------------------------------------------------------
def _menu(wechat: FakeWeChat, token: str, menu: Any, raw: bytes | None = None) -> int:
    content = raw if raw is not None else json.dumps(menu, ensure_ascii=False).encode("utf-8")
    reply = httpx.post(f"{wechat.url}/cgi-bin/menu/create", params={"access_token": token}, content=content)
    return int(reply.json()["errcode"])


def test_menus_follow_wechats_rules(wechat: FakeWeChat) -> None:
    token = _stable(wechat)["access_token"]
    click = {"type": "click", "name": "转人工", "key": "REQUEST_HUMAN"}
    good = {
        "button": [
            {
                "name": "联系客服",
                "sub_button": [click, {"type": "view", "name": "官网", "url": "https://e.x"}],
            }
        ]
    }
    assert _menu(wechat, token, {"button": [click] * 4}) == errcodes.INVALID_BUTTON_SIZE
    assert (
        _menu(wechat, token, {"button": [{**click, "name": "这是一个很长的名字"}]})
        == errcodes.INVALID_BUTTON_NAME_SIZE
    )
    assert (
        _menu(wechat, token, {"button": [{"type": "click", "name": "无键"}]})
        == errcodes.INVALID_BUTTON_KEY_SIZE
    )
    assert _menu(wechat, token, {"button": [{"type": "tap", "name": "x"}]}) == errcodes.INVALID_BUTTON_TYPE
    assert (
        _menu(wechat, token, {"button": [{"name": "多", "sub_button": [click] * 6}]})
        == errcodes.INVALID_SUB_BUTTON_SIZE
    )
    assert _menu(wechat, token, None, raw=json.dumps(good).encode()) == errcodes.INVALID_CHARSET
    assert wechat.state.menu is None
    assert _menu(wechat, token, good) == 0
    got = httpx.get(f"{wechat.url}/cgi-bin/menu/get", params={"access_token": token}).json()
    assert got["menu"] == good


def test_media_is_served_to_token_holders(wechat: FakeWeChat) -> None:
    token, picture = _stable(wechat)["access_token"], png()
    media_id = wechat.state.add_media(picture, "image/png", "photo.png")
    got = httpx.get(f"{wechat.url}/cgi-bin/media/get", params={"access_token": token, "media_id": media_id})
    assert got.content == picture and got.headers["content-type"] == "image/png"
    assert picture.startswith(b"\x89PNG\r\n\x1a\n")
    missing = httpx.get(f"{wechat.url}/cgi-bin/media/get", params={"access_token": token, "media_id": "nope"})
    assert missing.headers["content-type"].startswith("text/plain")
    assert json.loads(missing.text)["errcode"] == errcodes.INVALID_MEDIA_ID
    unauthorized = httpx.get(f"{wechat.url}/cgi-bin/media/get", params={"media_id": media_id})
    assert json.loads(unauthorized.text)["errcode"] == errcodes.ACCESS_TOKEN_MISSING
    assert httpx.get(wechat.picture_url(media_id)).content == picture


def test_queued_failures_and_slow_answers(wechat: FakeWeChat) -> None:
    token, openid = _stable(wechat)["access_token"], new_openid()
    wechat.state.user_wrote(messages.text(openid, "你好", "gh_a1b2c3d4e5f6"))
    wechat.state.fail_next("/cgi-bin/message/custom/send", errcodes.SYSTEM_BUSY)
    assert _send(wechat, token, _text(openid, "一"))["errcode"] == errcodes.SYSTEM_BUSY
    assert _send(wechat, token, _text(openid, "二"))["errcode"] == 0
    wechat.state.set_delay(0.6, "/cgi-bin/message/custom/send")
    started = time.monotonic()
    assert _send(wechat, token, _text(openid, "三"))["errcode"] == 0
    assert time.monotonic() - started >= 0.6
    wechat.state.fail_next("/cgi-bin/stable_token", errcodes.SYSTEM_BUSY)
    assert _stable(wechat)["errcode"] == errcodes.SYSTEM_BUSY
    assert "access_token" in _stable(wechat)
    wechat.state.clear_faults()
    assert wechat.state.delay_for("/cgi-bin/message/custom/send") == 0
    calls = wechat.state.calls_to("/cgi-bin/message/custom/send")
    assert [c.errcode for c in calls] == [errcodes.SYSTEM_BUSY, 0, 0]
    assert [(d.text, d.errcode) for d in wechat.state.deliveries_to(openid)] == [
        ("一", errcodes.SYSTEM_BUSY),
        ("二", 0),
        ("三", 0),
    ]


def test_a_user_sees_a_delivery_that_arrives_later(wechat: FakeWeChat, stub: StubChannel) -> None:
    stub.answer = lambda message, number: b"success"
    user = WeChatUser(wechat, WeChatServer(stub.url, wechat.account, "plain", wechat.state))
    mark = user.mark()
    user.say("转人工")
    token = _stable(wechat)["access_token"]

    def later() -> None:
        time.sleep(0.2)
        _send(wechat, token, _text(user.openid, "人工客服 小王 已接入"))

    threading.Thread(target=later).start()
    assert "小王 已接入" in user.wait_to_see("已接入", since=mark, timeout=10)
    with pytest.raises(AssertionError, match="not shown"):
        user.wait_to_see("不会来的消息", since=mark, timeout=0.2)


# --- the simulator ---------------------------------------------------------------------------------
def test_the_page_uses_no_outside_host() -> None:
    for name in ("index.html", "sim.js", "sim.css"):
        text = (STATIC / name).read_text(encoding="utf-8")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), name
        assert "innerHTML" not in text


def test_the_page_chats_and_injects_faults(wechat: FakeWeChat, stub: StubChannel) -> None:
    server = WeChatServer(stub.url, wechat.account, "safe", wechat.state)
    with BackgroundServer(Simulator(wechat, server).app) as page:
        assert "公众号模拟器" in httpx.get(f"{page.url}/").text
        assert (
            httpx.get(f"{page.url}/static/sim.js")
            .headers["content-type"]
            .startswith("application/javascript")
        )
        assert httpx.get(f"{page.url}/static/../account.py").status_code == 404
        assert httpx.get(f"{page.url}/api/config").json()["mode"] == "safe"
        openid = new_openid()
        sent = httpx.post(
            f"{page.url}/api/send", json={"openid": openid, "kind": "text", "text": "你好"}, timeout=30
        )
        assert sent.json()["answer"]["shown"] == "收到：你好"
        assert (
            httpx.post(
                f"{page.url}/api/send", json={"openid": openid, "kind": "image"}, timeout=30
            ).status_code
            == 200
        )
        assert stub.requests[-1]["message"].type == "image"
        voice = {"openid": openid, "kind": "voice", "recognition": "转人工"}
        assert httpx.post(f"{page.url}/api/send", json=voice, timeout=30).json()["answer"]["kind"] == "text"
        assert stub.requests[-1]["message"].recognition == "转人工"
        timeline = httpx.get(f"{page.url}/api/timeline", params={"openid": openid, "after": 0}).json()
        assert [e["text"] for e in timeline["entries"]][:2] == ["你好", "收到：你好"]
        after = timeline["entries"][-1]["seq"]
        assert (
            httpx.get(f"{page.url}/api/timeline", params={"openid": openid, "after": after}).json()["entries"]
            == []
        )
        fault = httpx.post(f"{page.url}/api/fault", json={"action": "close_window", "openid": openid})
        assert "45015" in fault.json()["done"]
        token = _stable(wechat)["access_token"]
        assert _send(wechat, token, _text(openid, "x"))["errcode"] == errcodes.WINDOW_CLOSED
        assert httpx.post(f"{page.url}/api/handshake", json={}).json()["ok"] is True
        for bad in (
            {"openid": "<script>", "kind": "text", "text": "x"},
            {"openid": openid, "kind": "fax"},
            {"openid": openid, "kind": "text", "text": ""},
        ):
            refused = httpx.post(f"{page.url}/api/send", json=bad)
            assert refused.status_code == 400 and "<script>" not in refused.text
        assert httpx.post(f"{page.url}/api/fault", json={"action": "delay", "seconds": 99}).status_code == 400
        assert httpx.post(f"{page.url}/api/send", content=b"nope").status_code == 400


def test_the_command_line_prints_the_channel_settings(tmp_path: Path) -> None:
    settings = tmp_path / "sim.json"
    command = [sys.executable, "-m", "bot.channels.wechat_sim", "--api-port", "0", "--port", "0"]
    command += ["--settings", str(settings), "--channel", "http://127.0.0.1:9", "--mode", "safe"]
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        try:
            lines: list[str] = []
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if "handshake" in line or "not reachable" in line:
                    break
            output = "".join(lines)
            env = dict(re.findall(r"export (WECHAT_\w+)=(\S+)", output))
            account = Account.load(settings)
            assert env["WECHAT_TOKEN"] == account.token and env["WECHAT_APP_ID"] == account.app_id
            assert env["WECHAT_ENCODING_AES_KEY"] == account.encoding_aes_key
            assert f"export WECHAT_TOKEN={account.token}" in settings.with_suffix(".env").read_text()
            api = env["WECHAT_API_BASE"]
            page = re.search(r"(http://127\.0\.0\.1:\d+)/\n", output)
            assert page, output
            assert "公众号模拟器" in httpx.get(page[1] + "/").text
            query = {"grant_type": "client_credential", "appid": account.app_id, "secret": account.app_secret}
            assert "access_token" in httpx.get(f"{api}/cgi-bin/token", params=query).json()
        finally:
            process.terminate()
            process.wait(timeout=20)
    assert process.returncode == 0
