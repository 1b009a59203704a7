"""The transcript as the console shows it: user, bot, agent and system messages in order,
the images users sent, and what became of each message pushed to the user.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.handoff.attachment_refs import attachment_of
from bot.handoff.deliveries import RecordedDelivery
from bot.handoff.push import REASONS
from bot.handoff.transcript import message_id

PAYLOAD_PREFIX = "/"
ATTACHMENT_PATH = "/console/api/attachments/{id}"
MAX_MESSAGES = 1000


def _buttons(data: Mapping[str, Any]) -> list[dict[str, str]]:
    raw = data.get("buttons") or data.get("quick_replies") or []
    return [
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
        for b in raw
        if isinstance(b, dict)
    ]


def _image(data: Mapping[str, Any]) -> str | None:
    image = data.get("image")
    if not image:
        attachment = data.get("attachment") or {}
        if isinstance(attachment, dict) and attachment.get("type") == "image":
            image = (attachment.get("payload") or {}).get("src")
    return image if isinstance(image, str) and image.startswith(("http://", "https://")) else None


def delivery_json(found: RecordedDelivery | None) -> dict[str, Any] | None:
    """A recorded outcome as the console shows it (None: not recorded, e.g. still on its way)."""
    if found is None:
        return None
    return {
        "delivered": found.delivered,
        "reason": found.reason,
        "explanation": REASONS.get(found.reason) if found.reason else None,
        "at": found.at.isoformat(),
    }


def _user(event: Mapping[str, Any], buttons: list[dict[str, str]]) -> dict[str, Any] | None:
    text = str(event.get("text") or "")
    if text.startswith(PAYLOAD_PREFIX):  # a button click: shown by its title
        text = next((b["title"] for b in buttons if b["payload"] == text), "")
        if not text:
            return None
    message: dict[str, Any] = {"role": "user", "text": text, "timestamp": event.get("timestamp")}
    attachment = attachment_of(event)
    if attachment is not None:
        message["attachment"] = {**attachment, "url": ATTACHMENT_PATH.format(id=attachment["id"])}
    return message


def console_messages(
    events: Sequence[Mapping[str, Any]], deliveries: Mapping[str, RecordedDelivery]
) -> list[dict[str, Any]]:
    """The latest 1000 messages of serialized events, with images and delivery outcomes.

    Agent messages and notices carry ``delivery`` (``{"delivered", "reason", "explanation",
    "at"}``, or None when nothing was recorded); user messages with an image carry
    ``attachment`` (``{"id", "content_type", "url"}``).
    """
    messages: list[dict[str, Any]] = []
    last_buttons: list[dict[str, str]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            user = _user(event, last_buttons)
            if user is not None:
                messages.append(user)
        elif kind == "bot":
            data = event.get("data") or {}
            custom: dict[str, Any] = data["custom"] if isinstance(data.get("custom"), dict) else {}
            metadata: dict[str, Any] = event.get("metadata") or {}
            role = custom.get("role") or metadata.get("role") or "bot"
            last_buttons = _buttons(data)
            message: dict[str, Any] = {
                "role": role if role in ("bot", "agent", "system") else "bot",
                "text": str(event.get("text") or custom.get("text") or ""),
                "buttons": last_buttons,
                "image": _image(data),
                "agent_name": custom.get("agent_name") or metadata.get("agent_name"),
                "timestamp": event.get("timestamp"),
            }
            pushed = message_id(dict(event))
            if pushed is not None:
                message["delivery"] = delivery_json(deliveries.get(pushed))
            messages.append(message)
    return messages[-MAX_MESSAGES:]
