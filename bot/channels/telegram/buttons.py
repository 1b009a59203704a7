"""Inline keyboards whose buttons carry short ids: the payloads stay on the server.

Telegram allows 1-64 bytes of ``callback_data``, and a Rasa payload
(``/transaction_failed{"transaction_id": "…"}``, Chinese entity values) is often longer; what a
client sends back is also the user's to forge. So each keyboard is stored in the shared state
(every instance sees it) under a random id with its chat and payloads, and a button's
callback_data is ``<id>.<index>`` (at most 20 bytes). A press is honoured once per keyboard
(a double tap is one answer), only from the chat the keyboard was sent to, and only until
the keyboard expires.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass

from bot.channels.shared_state import SharedState

MAX_CALLBACK_BYTES = 64
_DATA = re.compile(r"^([A-Za-z0-9_-]{16})\.([0-9]{1,2})$")
_KEY = "telegram:keyboard:"
_USED = "telegram:pressed:"


@dataclass(frozen=True)
class Pressed:
    """What a press means: the payload, or why there is none (``expired``, ``used``)."""

    payload: str | None
    problem: str | None = None


class Keyboards:
    """Stored keyboards over the shared state (SQL or Redis)."""

    def __init__(self, state: SharedState, ttl_seconds: float) -> None:
        """Keyboards in ``state``, usable for ``ttl_seconds``."""
        self.state = state
        self.ttl = ttl_seconds

    async def register(self, chat_id: int, payloads: list[str]) -> list[str]:
        """Store a keyboard for ``chat_id``; the callback_data of each payload, in order.

        Raises:
            ValueError: more than 100 buttons (Telegram shows at most 100).
            Exception: whatever the store raises when it is down (the caller sends text options).
        """
        if not 1 <= len(payloads) <= 100:
            raise ValueError("a keyboard has 1 to 100 buttons")
        record = json.dumps({"chat": chat_id, "payloads": payloads}, ensure_ascii=False)
        for _ in range(3):
            keyboard = secrets.token_urlsafe(12)  # 16 characters, 96 random bits
            if await self.state.claim(_KEY + keyboard, self.ttl, record):
                return [f"{keyboard}.{index}" for index in range(len(payloads))]
        raise RuntimeError("could not find a free keyboard id")

    async def press(self, chat_id: int, data: str) -> Pressed:
        """The payload of a pressed button, at most once per keyboard.

        Unknown, expired, forged data or another chat's keyboard all read as ``expired``.
        """
        match = _DATA.match(data)
        if not match:
            return Pressed(None, "expired")
        keyboard, index = match[1], int(match[2])
        raw = await self.state.get(_KEY + keyboard)
        try:
            record = json.loads(raw) if raw else None
        except ValueError:
            record = None
        if not isinstance(record, dict) or record.get("chat") != chat_id:
            return Pressed(None, "expired")
        payloads = record.get("payloads")
        if not isinstance(payloads, list) or index >= len(payloads) or not isinstance(payloads[index], str):
            return Pressed(None, "expired")
        if not await self.state.claim(_USED + keyboard, self.ttl):
            return Pressed(None, "used")
        return Pressed(payloads[index])
