"""What goes back to the user: the bot's messages as WeChat texts (buttons as numbered
options, images as links, at most 2048 bytes each) and the passive reply's XML.

The passive reply is rendered by ``wechatpy.replies.TextReply``, which puts the text into a
CDATA section as it is: ``]]>`` inside the text would end the section early and break the
XML, so it is split as ``]]]]><![CDATA[>`` first; characters XML 1.0 cannot carry are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from wechatpy.replies import TextReply

from bot.channels.options import numbered_options
from bot.channels.wechat.inbound import Inbound
from bot.channels.wechat.notices import notice

MAX_TEXT_BYTES = 2048
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BREAKS = ("\n", "。", "！", "？", "；", "!", "?", ";", "，", ",", " ")
_LINK = re.compile(r"https?://[^\s<>\"]{1,2000}")


def xml_safe(text: str) -> str:
    """The text without characters XML 1.0 cannot carry (control characters, lone
    surrogates), line ends as XML reads them (``\n``)."""
    return _NOT_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def cdata_safe(text: str) -> str:
    """The text ready for a CDATA section: ``]]>`` split across two sections."""
    return xml_safe(text).replace("]]>", "]]]]><![CDATA[>")


def _cut(text: str, limit: int) -> int:
    """Where to cut ``text`` so the first part has at most ``limit`` bytes, at a break if any."""
    size, fits = 0, 0
    for index, char in enumerate(text):
        size += len(char.encode("utf-8"))
        if size > limit:
            break
        fits = index + 1
    window = text[:fits]
    for mark in _BREAKS:
        at = window.rfind(mark)
        if at >= fits // 2:
            return at + 1
    return max(fits, 1)


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """The text in parts of at most ``limit`` UTF-8 bytes, cut at a line or a sentence when
    possible; nothing is lost but the whitespace at the cuts."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if len(rest.encode("utf-8")) <= limit:
            parts.append(rest)
            break
        at = _cut(rest, limit)
        part, rest = rest[:at].rstrip(), rest[at:].lstrip()
        if part:
            parts.append(part)
    return parts


def _image(url: Any) -> str:
    if isinstance(url, str) and _LINK.fullmatch(url.strip()):
        return notice("image_link", url=url.strip())
    return notice("image_omitted")


def message_text(message: dict[str, Any]) -> str:
    """One bot (or agent, or system) message as WeChat text."""
    text = str(message.get("text") or "").strip()
    buttons = message.get("buttons") or message.get("quick_replies") or []
    if isinstance(buttons, list) and buttons:
        text = numbered_options(text, buttons)
    if message.get("role") == "agent" and message.get("agent_name") and text:
        text = notice("agent_prefix", agent=message["agent_name"]) + text
    if message.get("image"):
        text = "\n".join(part for part in (text, _image(message["image"])) if part)
    return xml_safe(text)


def compose(messages: Iterable[dict[str, Any]], limit: int = MAX_TEXT_BYTES) -> list[str]:
    """The messages of one turn as few WeChat texts as possible (a 客服消息 quota counts each
    one): joined by a blank line, then split to ``limit`` bytes."""
    texts = [message_text(m) for m in messages if isinstance(m, dict)]
    return split_text("\n\n".join(t for t in texts if t), limit)


def text_reply(inbound: Inbound, content: str, now: int) -> str:
    """The passive reply XML (plaintext; the channel encrypts it in safe mode)."""
    reply = TextReply(source=inbound.account, target=inbound.openid, content=cdata_safe(content), time=now)
    return str(reply.render())
