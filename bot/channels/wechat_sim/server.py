"""WeChat's server as the webhook sees it: it signs each message, encrypts it in safe mode,
posts it, reads the passive reply, and re-sends when no answer comes within 5 s (three tries
in all, each signed afresh; the message and its MsgId stay the same).

Modes: ``plain`` (plaintext), ``safe`` (``encrypt_type=aes``: only the Encrypt element) and
``compat`` (both plaintext fields and Encrypt; the reply must still be encrypted).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

import httpx

from bot.channels.wechat_sim import replies, signing
from bot.channels.wechat_sim.account import Account
from bot.channels.wechat_sim.messages import Inbound, cdata
from bot.channels.wechat_sim.replies import PassiveReply
from bot.channels.wechat_sim.state import WeChatState

MODES = ("plain", "safe", "compat")
WEBHOOK_PATH = "/webhooks/wechat/webhook"
TIMEOUT = 5.0
TRIES = 3


@dataclass(frozen=True)
class Attempt:
    """One POST: the HTTP answer, or ``error`` (timeout, connection) when none came."""

    status: int | None
    body: bytes
    elapsed: float
    reply: PassiveReply | None
    error: str | None = None


@dataclass
class Answer:
    """What came of a message: every try and the reply WeChat used (that of the try answered)."""

    message: Inbound
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def reply(self) -> PassiveReply:
        """The passive reply; ``invalid`` when no try was answered."""
        for attempt in reversed(self.attempts):
            if attempt.reply is not None:
                return attempt.reply
        return PassiveReply("invalid", problem="no answer within the time limit")

    @property
    def shown(self) -> str | None:
        """What the user sees now (None: nothing, e.g. ``success``)."""
        return self.reply.shown


class WeChatServer:
    """Posts users' messages to one channel as WeChat does.

    ``state``: the fake platform's records, told what users send and what they are shown (so
    that their sending windows open as in WeChat and the simulator shows the chat).
    """

    def __init__(
        self,
        channel_url: str,
        account: Account,
        mode: str = "plain",
        state: WeChatState | None = None,
        timeout: float = TIMEOUT,
        tries: int = TRIES,
    ) -> None:
        """Target ``channel_url`` (the Rasa server's base URL, or the full webhook URL)."""
        if mode not in MODES:
            raise ValueError(f"mode is one of {MODES}")
        if mode != "plain" and account.aes_key is None:
            raise ValueError("safe and compatible modes need an EncodingAESKey")
        base = channel_url.rstrip("/")
        self.webhook = base if base.endswith(WEBHOOK_PATH) else base + WEBHOOK_PATH
        self.account, self.mode, self.state = account, mode, state
        self.timeout, self.tries = timeout, tries

    @property
    def safe(self) -> bool:
        """Messages are encrypted (safe or compatible mode)."""
        return self.mode != "plain"

    def signed_query(self, timestamp: str | None = None, nonce: str | None = None) -> dict[str, str]:
        """``signature``, ``timestamp`` and ``nonce`` for a request made now."""
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(9 * 10**9) + 10**9)
        return {
            "signature": signing.signature(self.account.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
        }

    def handshake(self, echostr: str | None = None, client: httpx.Client | None = None) -> httpx.Response:
        """The GET WeChat sends when the server URL is saved; the channel echoes ``echostr``."""
        params = {**self.signed_query(), "echostr": echostr or str(secrets.randbelow(10**18))}
        if client is not None:
            return client.get(self.webhook, params=params)
        return httpx.get(self.webhook, params=params, timeout=self.timeout)

    def request(
        self, message: Inbound, timestamp: str | None = None, nonce: str | None = None
    ) -> tuple[dict[str, str], bytes]:
        """The query and body of one POST of ``message`` (signed, encrypted in safe mode)."""
        query = {**self.signed_query(timestamp, nonce), "openid": message.openid}
        if not self.safe:
            return query, message.xml.encode("utf-8")
        assert self.account.aes_key is not None
        encrypted = signing.encrypt(self.account.aes_key, self.account.app_id, message.xml)
        query["encrypt_type"] = "aes"
        query["msg_signature"] = signing.signature(
            self.account.token, query["timestamp"], query["nonce"], encrypted
        )
        if self.mode == "compat":  # the plaintext fields, then Encrypt
            body = message.xml.removesuffix("</xml>") + f"<Encrypt>{cdata(encrypted)}</Encrypt></xml>"
        else:
            to_user = f"<ToUserName>{cdata(message.to_user)}</ToUserName>"
            body = f"<xml>{to_user}<Encrypt>{cdata(encrypted)}</Encrypt></xml>"
        return query, body.encode("utf-8")

    def post(self, message: Inbound, timeout: float | None = None) -> Attempt:
        """One POST of ``message`` and how it was answered (no retry)."""
        query, body = self.request(message)
        started = time.monotonic()
        try:
            response = httpx.post(
                self.webhook,
                params=query,
                content=body,
                headers={"Content-Type": "text/xml; charset=utf-8", "User-Agent": "Mozilla/4.0"},
                timeout=self.timeout if timeout is None else timeout,
            )
        except httpx.TimeoutException:
            return Attempt(None, b"", time.monotonic() - started, None, "timeout")
        except httpx.TransportError as error:
            return Attempt(None, b"", time.monotonic() - started, None, type(error).__name__)
        reply = replies.parse(response.status_code, response.content, message.openid, self.account, self.mode)
        return Attempt(response.status_code, response.content, time.monotonic() - started, reply)

    def send(self, message: Inbound, retry: bool = True) -> Answer:
        """Deliver ``message`` as WeChat does: up to ``tries`` POSTs until one is answered
        within the time limit (``retry=False``: one POST)."""
        if self.state is not None:
            self.state.user_wrote(message)
        answer = Answer(message)
        for number in range(1, (self.tries if retry else 1) + 1):
            attempt = self.post(message)
            answer.attempts.append(attempt)
            if attempt.reply is not None:
                break
            if self.state is not None:
                self.state.note(
                    message.openid,
                    f"第 {number} 次推送没有在 {self.timeout:g} 秒内得到回答",
                    attempt.error or "",
                )
        self._show(answer)
        return answer

    def _show(self, answer: Answer) -> None:
        if self.state is None:
            return
        reply, openid = answer.reply, answer.message.openid
        if reply.kind == "invalid":
            self.state.shown(openid, replies.SERVICE_ERROR, "passive", reply.problem or "")
        elif reply.shown is not None:
            self.state.shown(openid, reply.shown, "passive")
        else:
            self.state.note(openid, "被动回复：success（稍后通过客服消息回复）")
