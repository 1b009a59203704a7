"""A conversation's history for the widget, from the tracker's events."""

from __future__ import annotations

from typing import Any

PAYLOAD_PREFIX = "/"


def _buttons(data: dict[str, Any]) -> list[dict[str, str]]:
    raw = data.get("buttons") or data.get("quick_replies") or []
    return [
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
        for b in raw
        if isinstance(b, dict)
    ]


def _image(data: dict[str, Any]) -> str | None:
    image = data.get("image")
    if not image:
        attachment = data.get("attachment") or {}
        if isinstance(attachment, dict) and attachment.get("type") == "image":
            image = (attachment.get("payload") or {}).get("src")
    return image if isinstance(image, str) and image.startswith(("http://", "https://")) else None


def history_from_events(events: list[dict[str, Any]], limit: int = 200) -> list[dict[str, Any]]:
    """User, bot, agent and system messages in order; button clicks shown by their title."""
    messages: list[dict[str, Any]] = []
    last_buttons: list[dict[str, str]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            text = str(event.get("text") or "")
            if text.startswith(PAYLOAD_PREFIX):
                text = next((b["title"] for b in last_buttons if b["payload"] == text), "")
                if not text:
                    continue
            messages.append({"role": "user", "text": text, "timestamp": event.get("timestamp")})
        elif kind == "bot":
            data = event.get("data") or {}
            custom: dict[str, Any] = data["custom"] if isinstance(data.get("custom"), dict) else {}
            metadata: dict[str, Any] = event.get("metadata") or {}
            role = custom.get("role") or metadata.get("role") or "bot"
            last_buttons = _buttons(data)
            messages.append(
                {
                    "role": role if role in ("bot", "agent", "system") else "bot",
                    "text": str(event.get("text") or custom.get("text") or ""),
                    "buttons": last_buttons,
                    "image": _image(data),
                    "agent_name": custom.get("agent_name") or metadata.get("agent_name"),
                    "timestamp": event.get("timestamp"),
                }
            )
    return messages[-limit:]
