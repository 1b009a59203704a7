"""The XML messages WeChat posts to an Official Account's server: text, image, voice and the
subscribe, unsubscribe and CLICK events, written the way WeChat writes them."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass


def cdata(value: str) -> str:
    """``value`` in a CDATA section (a ``]]>`` inside is split across two sections)."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def new_msg_id() -> int:
    """A MsgId as WeChat makes them: 19 digits, below 2**63."""
    return 10**18 + secrets.randbelow(2**63 - 10**18)


def new_media_id() -> str:
    """A MediaId: 64 characters."""
    return secrets.token_urlsafe(48)


@dataclass(frozen=True)
class Inbound:
    """One message from a user, ready to post (``xml`` is the plaintext)."""

    kind: str  # text, image, voice, event
    openid: str
    to_user: str
    create_time: int
    xml: str
    summary: str  # what the user did, in the simulator's words
    msg_id: int | None = None
    event: str | None = None

    @property
    def dedupe_key(self) -> str:
        """What identifies a re-send: the MsgId, or for events FromUserName + CreateTime."""
        return str(self.msg_id) if self.msg_id is not None else f"{self.openid}:{self.create_time}"


def _xml(fields: list[tuple[str, str | int]]) -> str:
    lines = [
        f"<{name}>{value if isinstance(value, int) else cdata(value)}</{name}>" for name, value in fields
    ]
    return "<xml>" + "".join(lines) + "</xml>"


def _head(openid: str, to_user: str, create_time: int, msg_type: str) -> list[tuple[str, str | int]]:
    return [
        ("ToUserName", to_user),
        ("FromUserName", openid),
        ("CreateTime", create_time),
        ("MsgType", msg_type),
    ]


def _now(create_time: int | None) -> int:
    return int(time.time()) if create_time is None else create_time


def text(
    openid: str,
    content: str,
    to_user: str,
    create_time: int | None = None,
    msg_id: int | None = None,
    menu_id: str | None = None,
) -> Inbound:
    """A text message (``menu_id``: a message-menu choice, sent as ``bizmsgmenuid``)."""
    created, mid = _now(create_time), msg_id or new_msg_id()
    fields = [*_head(openid, to_user, created, "text"), ("Content", content), ("MsgId", mid)]
    if menu_id is not None:
        fields.append(("bizmsgmenuid", menu_id))
    return Inbound("text", openid, to_user, created, _xml(fields), content, msg_id=mid)


def image(
    openid: str,
    media_id: str,
    pic_url: str,
    to_user: str,
    create_time: int | None = None,
    msg_id: int | None = None,
) -> Inbound:
    """An image message: the picture's URL and its MediaId (fetch it with media/get)."""
    created, mid = _now(create_time), msg_id or new_msg_id()
    fields = [
        *_head(openid, to_user, created, "image"),
        ("PicUrl", pic_url),
        ("MediaId", media_id),
        ("MsgId", mid),
    ]
    return Inbound("image", openid, to_user, created, _xml(fields), "[图片]", msg_id=mid)


def voice(
    openid: str,
    media_id: str,
    to_user: str,
    recognition: str | None = None,
    audio_format: str = "amr",
    create_time: int | None = None,
    msg_id: int | None = None,
) -> Inbound:
    """A voice message; ``recognition`` is WeChat's transcript (None: recognition is off)."""
    created, mid = _now(create_time), msg_id or new_msg_id()
    fields = [*_head(openid, to_user, created, "voice"), ("MediaId", media_id), ("Format", audio_format)]
    if recognition is not None:
        fields.append(("Recognition", recognition))
    fields.append(("MsgId", mid))
    summary = f"[语音] {recognition}" if recognition else "[语音]"
    return Inbound("voice", openid, to_user, created, _xml(fields), summary, msg_id=mid)


EVENT_SUMMARIES = {"subscribe": "[关注公众号]", "unsubscribe": "[取消关注]", "CLICK": "[点击菜单]"}


def event(
    openid: str,
    name: str,
    to_user: str,
    key: str | None = None,
    create_time: int | None = None,
    ticket: str | None = None,
) -> Inbound:
    """An event: ``subscribe`` (key ``qrscene_…`` with a ``ticket`` when from a QR code),
    ``unsubscribe``, or ``CLICK`` with the menu button's key."""
    if name == "CLICK" and not key:
        raise ValueError("a CLICK event carries the button's key")
    created = _now(create_time)
    fields = [*_head(openid, to_user, created, "event"), ("Event", name), ("EventKey", key or "")]
    if ticket is not None:
        fields.append(("Ticket", ticket))
    summary = EVENT_SUMMARIES.get(name, f"[{name}]")
    if name == "CLICK":
        summary = f"{summary} {key}"
    return Inbound("event", openid, to_user, created, _xml(fields), summary, event=name)
