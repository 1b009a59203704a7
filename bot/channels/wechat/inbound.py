"""Incoming XML, read safely: no DOCTYPE or entity declarations (XXE, billion laughs), strict
UTF-8, one value per field, then ``wechatpy.parse_message`` for the typed message.

defusedxml is not installed. What protects the parser instead: before parsing, the text
outside CDATA sections may hold no ``<!`` (DOCTYPE, ENTITY, comments) and no processing
instruction but the XML declaration; xmltodict (expat) then runs with ``disable_entities``
(an entity declaration raises), and expat resolves no external entity. The body size is
capped by the channel before anything is read here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy import parse_message

from bot.channels.wechat.errors import RequestRefused, invalid_xml

_CDATA = re.compile(r"<!\[CDATA\[.*?\]\]>", re.DOTALL)
_DECLARATION = re.compile(r"\A\s*<\?xml\s[^?>]*\?>")
_MARKUP_DECLARATION = re.compile(r"<[!?]")
_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_DIGITS = re.compile(r"[0-9]{1,20}")
_MSG_TYPE = re.compile(r"[a-z_]{1,32}")
_MEDIA_ID = re.compile(r"[A-Za-z0-9_\-=.]{1,256}")
_ENCRYPT = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_SUBSCRIBE_EVENTS = ("subscribe", "subscribe_scan", "subscribe_scan_product")


def decode_body(body: bytes) -> str:
    """The body as text: strict UTF-8 (a BOM is dropped).

    Raises:
        RequestRefused: 400 ``invalid_encoding``.
    """
    try:
        return body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise RequestRefused(400, "invalid_encoding") from error


def parse_fields(text: str) -> dict[str, Any]:
    """The children of the root ``<xml>`` element, each a string, None or a nested mapping.

    Raises:
        RequestRefused: 400 ``invalid_xml`` for DOCTYPE, entity declarations, processing
        instructions, comments, malformed XML, another root, or a field given twice.
    """
    outside_cdata = _DECLARATION.sub("", _CDATA.sub("", text), count=1)
    if _MARKUP_DECLARATION.search(outside_cdata):
        raise invalid_xml()
    try:
        document = xmltodict.parse(text, disable_entities=True)
    except (ExpatError, ValueError) as error:
        raise invalid_xml() from error
    root = document.get("xml") if isinstance(document, dict) else None
    if not isinstance(root, dict) or len(document) != 1:
        raise invalid_xml()
    if any(isinstance(value, list) for value in root.values()):
        raise invalid_xml()
    return root


def _field(fields: dict[str, Any], name: str, pattern: re.Pattern[str] | None = None) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
        raise invalid_xml()
    return value


def envelope_encrypt(fields: dict[str, Any]) -> str:
    """The ``Encrypt`` value of a safe- or compatible-mode body (its plaintext fields are ignored).

    Raises:
        RequestRefused: 400 ``invalid_xml`` when it is missing or not base64.
    """
    value = _field(fields, "Encrypt", _ENCRYPT)
    if not value:
        raise invalid_xml()
    return value


@dataclass(frozen=True)
class Inbound:
    """One verified message or event.

    Attributes:
        kind: the message type (text, image, voice, event, video, location, link, …).
        openid: the user (FromUserName of the verified or decrypted XML).
        account: the Official Account's id (ToUserName), the sender of a passive reply.
        create_time: the platform's CreateTime.
        msg_id: MsgId (messages have one, events do not).
        event: the event, lower case (``subscribe`` for every kind of subscription), or None.
        event_key: EventKey (a menu key, or the QR scene without ``qrscene_``), or None.
        text: the text's Content, or the voice's Recognition ("" when none).
        media_id: the MediaId of an image or a voice message.
    """

    kind: str
    openid: str
    account: str
    create_time: int
    msg_id: str | None = None
    event: str | None = None
    event_key: str | None = None
    text: str = ""
    media_id: str | None = None

    @property
    def sender_id(self) -> str:
        """The Rasa conversation: ``wechat:<openid>``."""
        return f"wechat:{self.openid}"

    @property
    def dedupe_key(self) -> str:
        """What makes a re-sent copy the same message: MsgId, else (events) user and CreateTime."""
        if self.msg_id:
            return f"msg:{self.msg_id}"
        return f"evt:{self.openid}:{self.create_time}:{self.event or self.kind}"


def read_message(text: str) -> Inbound:
    """The message in a (plaintext or decrypted) XML document.

    Raises:
        RequestRefused: 400 ``invalid_xml`` for unsafe or malformed XML, or required fields
        missing or ill-formed.
    """
    fields = parse_fields(text)
    openid = _field(fields, "FromUserName", _ID)
    account = _field(fields, "ToUserName", _ID)
    create_time = _field(fields, "CreateTime", _DIGITS)
    msg_type = (_field(fields, "MsgType") or "").strip().lower()
    if not openid or not account or not create_time or not _MSG_TYPE.fullmatch(msg_type):
        raise invalid_xml()
    msg_id = _field(fields, "MsgId", _DIGITS)
    message = parse_message(text)
    if msg_type == "event":
        raw_event = (_field(fields, "Event") or "").strip().lower()
        if not _MSG_TYPE.fullmatch(raw_event):
            raise invalid_xml()
        event = str(getattr(message, "event", "") or raw_event)
        key = _field(fields, "EventKey")
        if event in _SUBSCRIBE_EVENTS and key and key.startswith("qrscene_"):
            key = key[len("qrscene_") :]
        return Inbound(
            kind="event",
            openid=openid,
            account=account,
            create_time=int(create_time),
            msg_id=msg_id,
            event="subscribe" if event in _SUBSCRIBE_EVENTS else event,
            event_key=key,
        )
    content = ""
    if msg_type == "text" and _field(fields, "Content") is not None:
        content = str(message.content)
    elif msg_type == "voice" and _field(fields, "Recognition") is not None:
        content = str(message.recognition)
    media_id = _field(fields, "MediaId", _MEDIA_ID) if msg_type in ("image", "voice") else None
    return Inbound(
        kind=msg_type,
        openid=openid,
        account=account,
        create_time=int(create_time),
        msg_id=msg_id,
        text=content,
        media_id=media_id,
    )
