"""The reply windows of channels that limit what may be sent to a user who has gone quiet.

WeChat's customer-service messages (客服消息) may reach a user only within 48 hours of the
user's last message (CHANNELS.md). The console shows how long is left, counted from the
transcript; when it is over, a message is still written to the transcript and the channel
reports it as not delivered.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

WINDOW_SECONDS = {"wechat": 48 * 3600}


def has_window(channel: str | None) -> bool:
    """Whether the channel limits replies to a window after the user's last message."""
    return channel in WINDOW_SECONDS


def reply_window(channel: str | None, last_user_at: float | None, now: datetime) -> dict[str, Any] | None:
    """The window as the console shows it, or None for a channel without one.

    ``{"hours", "last_user_at", "closes_at", "seconds_left", "open"}``; a user who never wrote
    has no window open (``closes_at`` None).
    """
    seconds = WINDOW_SECONDS.get(channel or "")
    if seconds is None:
        return None
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    hours = seconds // 3600
    if last_user_at is None:
        return {"hours": hours, "last_user_at": None, "closes_at": None, "seconds_left": 0, "open": False}
    wrote = datetime.fromtimestamp(last_user_at, timezone.utc)
    closes = wrote + timedelta(seconds=seconds)
    left = max(0, int((closes - now).total_seconds()))
    return {
        "hours": hours,
        "last_user_at": wrote.isoformat(),
        "closes_at": closes.isoformat(),
        "seconds_left": left,
        "open": left > 0,
    }
