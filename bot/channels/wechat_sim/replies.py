"""What WeChat makes of the webhook's answer (the passive reply): one XML message shown to the
user, ``success`` or an empty body (nothing shown), or anything else, which WeChat shows as
"该公众号暂时无法提供服务，请稍后再试"."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from bot.channels.wechat_sim import signing
from bot.channels.wechat_sim.account import Account

SERVICE_ERROR = "该公众号暂时无法提供服务，请稍后再试"
MAX_TEXT_BYTES = 2048
MAX_BODY_BYTES = 64 * 1024
KINDS = ("text", "image", "voice", "video", "music", "news", "transfer_customer_service")


@dataclass(frozen=True)
class PassiveReply:
    """The answer's meaning. ``kind`` is a reply MsgType, ``success`` (nothing to show) or
    ``invalid`` (``problem`` says why; the user sees SERVICE_ERROR)."""

    kind: str
    text: str = ""
    media_id: str | None = None
    problem: str | None = None
    xml: str = ""

    @property
    def shown(self) -> str | None:
        """What the user sees in WeChat (None: nothing)."""
        if self.kind == "success" or self.kind == "transfer_customer_service":
            return None
        if self.kind == "invalid":
            return SERVICE_ERROR
        return self.text


def _invalid(problem: str, xml: str = "") -> PassiveReply:
    return PassiveReply("invalid", problem=problem, xml=xml)


def _field(root: ET.Element, path: str) -> str | None:
    found = root.find(path)
    return None if found is None else (found.text or "")


def _open_envelope(root: ET.Element, account: Account) -> str:
    encrypted, signature = _field(root, "Encrypt"), _field(root, "MsgSignature")
    timestamp, nonce = _field(root, "TimeStamp"), _field(root, "Nonce")
    if not (encrypted and signature and timestamp and nonce):
        raise signing.CryptoError("Encrypt, MsgSignature, TimeStamp and Nonce are all needed")
    if not signing.signature_matches(signature, account.token, timestamp, nonce, encrypted):
        raise signing.CryptoError("MsgSignature does not match")
    assert account.aes_key is not None
    return signing.decrypt(account.aes_key, account.app_id, encrypted)


def _message(root: ET.Element, xml: str, openid: str, account: Account) -> PassiveReply:
    if _field(root, "ToUserName") != openid:
        return _invalid("ToUserName is not the user who wrote", xml)
    if _field(root, "FromUserName") != account.original_id:
        return _invalid("FromUserName is not the account's original id", xml)
    if not (_field(root, "CreateTime") or "").isdigit():
        return _invalid("CreateTime is not a number", xml)
    kind = _field(root, "MsgType") or ""
    if kind not in KINDS:
        return _invalid("unknown MsgType", xml)
    if kind == "text":
        content = _field(root, "Content") or ""
        if not content:
            return _invalid("empty Content", xml)
        if len(content.encode("utf-8")) > MAX_TEXT_BYTES:
            return _invalid(f"Content over {MAX_TEXT_BYTES} bytes", xml)
        return PassiveReply("text", text=content, xml=xml)
    if kind in ("image", "voice", "video"):
        media = _field(root, f"{kind.capitalize()}/MediaId")
        if not media:
            return _invalid(f"{kind} reply without MediaId", xml)
        return PassiveReply(
            kind, text={"image": "[图片]", "voice": "[语音]"}.get(kind, "[视频]"), media_id=media, xml=xml
        )
    if kind == "news":
        items = root.findall("Articles/item")
        if len(items) != 1 or _field(root, "ArticleCount") != "1":
            return _invalid("a news reply has exactly one article", xml)
        title = _field(items[0], "Title") or ""
        return PassiveReply("news", text=title, xml=xml)
    return PassiveReply(kind, text=_field(root, "Music/Title") or "", xml=xml)


def parse(status: int, body: bytes, openid: str, account: Account, mode: str) -> PassiveReply:
    """Read the webhook's answer to a message from ``openid`` as WeChat does. ``mode``: the
    message's (``plain``; ``safe``: the reply must be encrypted; ``compat``: either)."""
    if status != 200:
        return _invalid(f"HTTP {status}")
    if len(body) > MAX_BODY_BYTES:
        return _invalid("answer too large")
    try:
        text = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        return _invalid("answer is not UTF-8")
    if text in ("", "success"):
        return PassiveReply("success")
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return _invalid("answer is not XML", text)
    if root.tag != "xml":
        return _invalid("the root element is not <xml>", text)
    if mode == "safe" and root.find("Encrypt") is None:
        return _invalid("safe mode: the reply is not encrypted", text)
    if mode != "plain" and root.find("Encrypt") is not None:
        try:
            text = _open_envelope(root, account)
            root = ET.fromstring(text)
        except signing.CryptoError as error:
            return _invalid(f"encrypted reply: {error}", text)
        except ET.ParseError:
            return _invalid("encrypted reply: the decrypted reply is not XML", text)
    elif mode == "plain" and root.find("Encrypt") is not None:
        return _invalid("plaintext mode: the reply is encrypted", text)
    return _message(root, text, openid, account)
