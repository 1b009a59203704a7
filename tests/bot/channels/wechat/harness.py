"""What the WeChat channel's tests share: settings, WeChat's payloads (payloads.yml), signed
and encrypted requests, a small fake of the platform API behind ``httpx.MockTransport``, a
fake bot, and the channel served by a real Sanic server on 127.0.0.1 (registered as Rasa
registers channels, so ``app.ctx.input_channels`` holds it)."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import yaml
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic
from sanic.response import text

from bot.channels.shared_state import SqlState
from bot.channels.wechat.channel import WeChatInput
from bot.channels.wechat.crypto import MessageCipher, sign
from bot.channels.wechat.settings import WeChatSettings

TOKEN = "wallet-test-token"
APP_ID = "wx0123456789abcdef"
APP_SECRET = "wallet-test-app-secret"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
OLD_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ACCOUNT = "gh_0123456789ab"
OPENID = "oWallet_user_0123456789abcde"
WEBHOOK = "/webhooks/wechat/webhook"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
_msg_ids = itertools.count(int(time.time() * 1000) * 1000)


def cdata(value: str) -> str:
    """``value`` as WeChat writes it: a CDATA section, ``]]>`` split across two."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@lru_cache(maxsize=1)
def _payloads() -> dict[str, str]:
    return yaml.safe_load((Path(__file__).parent / "payloads.yml").read_text(encoding="utf-8"))


def payload(name: str, openid: str = OPENID, **values: Any) -> str:
    """A message of payloads.yml; ``content`` and ``key`` are plain text (put in CDATA here)."""
    filled = {
        "openid": openid,
        "account": ACCOUNT,
        "time": int(time.time()),
        "msg_id": next(_msg_ids),
        "media_id": "media_" + uuid.uuid4().hex,
        **values,
    }
    filled["content"] = cdata(str(values.get("content", "")))
    filled["key"] = cdata(str(values.get("key", "")))
    return _payloads()[name].format(**filled)


def settings(**overrides: Any) -> WeChatSettings:
    """Plaintext-mode settings (``aes_key=AES_KEY`` for safe mode)."""
    values: dict[str, Any] = {
        "token": TOKEN,
        "app_id": APP_ID,
        "app_secret": APP_SECRET,
        "api_base": "http://wechat.test",
        "reply_budget_seconds": 3.0,
        **overrides,
    }
    return WeChatSettings(**values)


def signed_query(token: str = TOKEN, timestamp: str | None = None, nonce: str = "1234567") -> dict[str, str]:
    """The query WeChat signs every request with."""
    timestamp = timestamp or str(int(time.time()))
    return {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


def encrypted(
    xml: str,
    key: str = AES_KEY,
    app_id: str = APP_ID,
    compat: bool = False,
    token: str = TOKEN,
) -> tuple[dict[str, str], bytes]:
    """The query and body of a safe-mode (``compat``: compatible-mode) request."""
    query = signed_query(token)
    encrypt = MessageCipher(token, key, app_id).encrypt(xml)
    query["encrypt_type"] = "aes"
    query["msg_signature"] = sign(token, query["timestamp"], query["nonce"], encrypt)
    if compat:
        body = xml.removesuffix("</xml>") + f"<Encrypt>{cdata(encrypt)}</Encrypt></xml>"
    else:
        body = f"<xml><ToUserName>{cdata(ACCOUNT)}</ToUserName><Encrypt>{cdata(encrypt)}</Encrypt></xml>"
    return query, body.encode("utf-8")


@dataclass
class FakePlatform:
    """The platform API calls the channel makes, answered as WeChat answers them.

    ``send_errors``: errcodes the next 客服消息 calls answer (then 0); ``token_rejections``:
    how many calls answer 40001 first; ``delay``: seconds each call takes.
    """

    requests: list[httpx.Request] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    sent_raw: list[bytes] = field(default_factory=list)
    token_fetches: list[dict[str, Any]] = field(default_factory=list)
    menus: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    send_errors: list[int] = field(default_factory=list)
    token_rejections: int = 0
    delay: float = 0.0

    def transport(self) -> httpx.MockTransport:
        """The transport to give the channel."""
        return httpx.MockTransport(self.handle)

    def _token(self) -> str:
        return f"ACCESS_TOKEN_{len(self.token_fetches)}"

    def texts(self, openid: str = OPENID) -> list[str]:
        """The 客服消息 texts sent to ``openid``, in order."""
        return [m["text"]["content"] for m in self.sent if m.get("touser") == openid]

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one call."""
        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        path = request.url.path
        if path == "/cgi-bin/stable_token":
            body = json.loads(request.content)
            self.token_fetches.append(body)
            if body.get("appid") != APP_ID or body.get("secret") != APP_SECRET:
                return httpx.Response(200, json={"errcode": 40013, "errmsg": "invalid appid"})
            return httpx.Response(200, json={"access_token": self._token(), "expires_in": 7200})
        if request.url.params.get("access_token") != self._token() or self.token_rejections > 0:
            self.token_rejections = max(0, self.token_rejections - 1)
            return httpx.Response(200, json={"errcode": 40001, "errmsg": "invalid credential"})
        if path == "/cgi-bin/message/custom/send":
            if self.send_errors:
                code = self.send_errors.pop(0)
                if code:
                    return httpx.Response(200, json={"errcode": code, "errmsg": "refused"})
            self.sent_raw.append(request.content)
            self.sent.append(json.loads(request.content))
            return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})
        if path == "/cgi-bin/menu/create":
            self.menus.append(json.loads(request.content))
            return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})
        if path == "/cgi-bin/media/get":
            found = self.media.get(request.url.params.get("media_id", ""))
            if found is None:
                return httpx.Response(
                    200,
                    text='{"errcode":40007,"errmsg":"invalid media_id"}',
                    headers={"Content-Type": "text/plain"},
                )
            return httpx.Response(200, content=found[1], headers={"Content-Type": found[0]})
        return httpx.Response(404)


Reply = Callable[[UserMessage], list[Any]]


class FakeBot:
    """Stands in for Rasa: records each message and answers ``reply(message)`` (texts, or
    (text, buttons) pairs) after ``delay`` seconds."""

    def __init__(self, reply: Reply | None = None, delay: float = 0.0) -> None:
        """``reply`` default: "收到：<text>"."""
        self.messages: list[UserMessage] = []
        self.finished = 0
        self._reply = reply or (lambda message: [f"收到：{message.text}"])
        self.delay = delay

    async def handle_message(self, message: UserMessage) -> None:
        """What Rasa's agent does with a message, as far as the channel sees it."""
        self.messages.append(message)
        await asyncio.sleep(self.delay)
        for answer in self._reply(message):
            if isinstance(answer, tuple):
                await message.output_channel.send_text_with_buttons(message.sender_id, answer[0], answer[1])
            elif isinstance(answer, dict):
                await message.output_channel.send_response(message.sender_id, answer)
            else:
                await message.output_channel.send_text_message(message.sender_id, answer)
        self.finished += 1


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_channel(
    tmp_path: Path, platform: FakePlatform | None = None, **overrides: Any
) -> tuple[WeChatInput, FakePlatform]:
    """A channel on a private SQLite channel state and the fake platform."""
    platform = platform or FakePlatform()
    state = SqlState(f"sqlite:///{tmp_path / 'channel_state.db'}")
    return WeChatInput(settings(**overrides), state=state, transport=platform.transport()), platform


@asynccontextmanager
async def serving(channel: WeChatInput, bot: FakeBot) -> AsyncIterator[tuple[httpx.AsyncClient, Sanic]]:
    """The channel served on 127.0.0.1 as ``rasa run`` serves it; a client for it."""
    Sanic.test_mode = True  # several apps in one process (Sanic's touch-ups are redone for each)
    app = Sanic(f"wechat_test_{uuid.uuid4().hex}", configure_logging=False)
    app.ctx.agent = bot

    @app.get("/health")
    async def health(request: Any) -> Any:  # Rasa's server has routes of its own
        return text("ok")

    register([channel], app, route="/webhooks/")
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.after_start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as client:
            yield client, app
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


async def post(
    client: httpx.AsyncClient, xml: str | bytes, query: dict[str, str] | None = None
) -> httpx.Response:
    """POST a plaintext message (signed now, unless ``query`` is given)."""
    body = xml.encode("utf-8") if isinstance(xml, str) else xml
    return await client.post(WEBHOOK, params=query or signed_query(), content=body)


def reply_content(response: httpx.Response, cipher: MessageCipher | None = None) -> str | None:
    """The text of a passive reply (decrypted with ``cipher``), None for ``success``."""
    from bot.channels.wechat.inbound import envelope_encrypt, parse_fields

    assert response.status_code == 200, response.text
    if response.text == "success":
        return None
    xml = response.text
    if cipher is not None:
        xml = cipher.decrypt(envelope_encrypt(parse_fields(xml)))
    fields = parse_fields(xml)
    assert fields["MsgType"] == "text"
    return str(fields["Content"])
