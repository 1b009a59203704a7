"""One WeChat user talking to the account: what they send and everything they are shown,
passive replies and 客服消息 alike, in order (tests read conversations through it)."""

from __future__ import annotations

import dataclasses
import secrets
import string

from bot.channels.wechat_sim import messages, replies
from bot.channels.wechat_sim.media import amr, png
from bot.channels.wechat_sim.platform import FakeWeChat
from bot.channels.wechat_sim.server import Answer, WeChatServer
from bot.channels.wechat_sim.state import Entry

_OPENID_ALPHABET = string.ascii_letters + string.digits + "_-"


def new_openid() -> str:
    """An openid as WeChat makes them: 28 characters starting with ``o``."""
    return "o" + "".join(secrets.choice(_OPENID_ALPHABET) for _ in range(27))


class WeChatUser:
    """A follower writing to the account through ``server`` (whose state is ``wechat``'s)."""

    def __init__(self, wechat: FakeWeChat, server: WeChatServer, openid: str | None = None) -> None:
        """A user with ``openid`` (default: a new one)."""
        if server.state is not wechat.state:
            raise ValueError("the server must report to this fake WeChat's state")
        self.wechat, self.server = wechat, server
        self.openid = openid or new_openid()

    @property
    def sender_id(self) -> str:
        """The Rasa conversation the channel keeps for this user."""
        return f"wechat:{self.openid}"

    @property
    def to_user(self) -> str:
        """The account's original id."""
        return self.server.account.original_id

    def mark(self) -> int:
        """A point in the chat to read from."""
        return self.wechat.state.last_seq()

    def send(self, message: messages.Inbound, retry: bool = True) -> Answer:
        """Send a message built by ``messages``."""
        return self.server.send(message, retry=retry)

    def say(self, text: str) -> Answer:
        """Send a text message."""
        return self.send(messages.text(self.openid, text, self.to_user))

    def send_image(self, data: bytes | None = None, content_type: str = "image/png") -> Answer:
        """Send a picture (registered with the fake, so media/get serves it)."""
        media_id = self.wechat.state.add_media(data or png(), content_type, "photo.png")
        message = messages.image(self.openid, media_id, self.wechat.picture_url(media_id), self.to_user)
        return self.send(message)

    def send_voice(self, recognition: str | None) -> Answer:
        """Send a voice message (``recognition``: WeChat's transcript, None when it is off)."""
        media_id = self.wechat.state.add_media(amr(), "audio/amr", "voice.amr")
        return self.send(messages.voice(self.openid, media_id, self.to_user, recognition))

    def subscribe(self, scene: str | None = None) -> Answer:
        """Follow the account (``scene``: from a QR code with this scene)."""
        key = f"qrscene_{scene}" if scene else None
        ticket = secrets.token_urlsafe(24) if scene else None
        return self.send(messages.event(self.openid, "subscribe", self.to_user, key, ticket=ticket))

    def unsubscribe(self) -> Answer:
        """Stop following the account."""
        return self.send(messages.event(self.openid, "unsubscribe", self.to_user))

    def click(self, key: str, label: str | None = None) -> Answer:
        """Click a menu button (``label``: its name, for the chat)."""
        message = messages.event(self.openid, "CLICK", self.to_user, key)
        if label:
            message = dataclasses.replace(message, summary=f"{messages.EVENT_SUMMARIES['CLICK']} {label}")
        return self.send(message)

    def entries(self, since: int = 0) -> list[Entry]:
        """This user's chat lines after ``since``."""
        return self.wechat.state.entries(self.openid, since)

    def seen(self, since: int = 0) -> list[str]:
        """What the account showed this user after ``since`` (passive replies and 客服消息)."""
        return [e.text for e in self.entries(since) if e.side == "bot"]

    def wait_to_see(self, text: str, since: int = 0, timeout: float = 60.0) -> str:
        """Wait until a message containing ``text`` was shown after ``since``; everything
        shown since then, joined by newlines.

        Raises:
            AssertionError: when it does not come within ``timeout`` seconds.
        """

        def arrived() -> bool:
            return any(text in shown for shown in self.seen(since))

        if not self.wechat.state.wait_until(arrived, timeout):
            raise AssertionError(f"not shown within {timeout:g}s: {text!r}; shown: {self.seen(since)!r}")
        return "\n".join(self.seen(since))

    def service_error_shown(self, since: int = 0) -> bool:
        """Whether WeChat showed "该公众号暂时无法提供服务" after ``since``."""
        return replies.SERVICE_ERROR in self.seen(since)
