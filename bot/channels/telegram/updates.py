"""Reading a webhook request: the secret-token check and the update, as pure functions.

Telegram posts one JSON ``Update`` per request (https://core.telegram.org/bots/api#update).
Only two kinds start anything: a ``message`` in a private chat, and a ``callback_query`` (an
inline button pressed). Everything else (edited messages, channel posts, member changes, …)
is read as :class:`Ignored` and answered 200, so Telegram does not deliver it again.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# The update kinds the webhook is registered for (cli.py); others are ignored if they come.
ALLOWED_UPDATES = ("message", "callback_query")
SENDER_PREFIX = "telegram:"


class UpdateError(ValueError):
    """A request body that is not a Telegram update; ``code`` is the error answered (400)."""

    def __init__(self, code: str) -> None:
        """Create the error; the body is never part of it."""
        super().__init__(code)
        self.code = code


def secret_matches(given: str | None, expected: str) -> bool:
    """The request's secret-token header against ours, in constant time (missing: False)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8"))


def sender_of(chat_id: int) -> str:
    """The Rasa conversation of a Telegram chat."""
    return f"{SENDER_PREFIX}{chat_id}"


def chat_of(sender_id: str) -> int | None:
    """The chat id of a ``telegram:<chat id>`` conversation; None for any other sender."""
    if not sender_id.startswith(SENDER_PREFIX):
        return None
    rest = sender_id[len(SENDER_PREFIX) :]
    digits = rest[1:] if rest.startswith("-") else rest
    if not digits.isascii() or not digits.isdigit() or len(digits) > 20:
        return None
    return int(rest)


@dataclass(frozen=True)
class TextMessage:
    """A text in a private chat: a turn."""

    update_id: int
    chat_id: int
    message_id: int
    text: str


@dataclass(frozen=True)
class OtherMessage:
    """A private message without text (sticker, photo, voice, location, contact…)."""

    update_id: int
    chat_id: int


@dataclass(frozen=True)
class GroupMessage:
    """A message in a group, supergroup or channel: answered with "write to me privately"."""

    update_id: int
    chat_id: int


@dataclass(frozen=True)
class ButtonPress:
    """An inline button pressed: ``data`` is its callback_data (a short id, not the payload)."""

    update_id: int
    query_id: str
    chat_id: int
    data: str


@dataclass(frozen=True)
class Ignored:
    """An update nothing is done for; ``kind`` says which (for the log)."""

    update_id: int
    kind: str


Update = TextMessage | OtherMessage | GroupMessage | ButtonPress | Ignored


def parse_body(body: bytes) -> Update:
    """The update in a webhook body.

    Raises:
        UpdateError: ``invalid_json`` (not UTF-8 JSON), ``invalid_update`` (not an object with
            an integer ``update_id``).
    """
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past the parser's depth
        raise UpdateError("invalid_json") from None
    return parse_update(data)


def parse_update(data: Any) -> Update:
    """The update in decoded JSON (see :func:`parse_body`)."""
    update_id = _int(data.get("update_id")) if isinstance(data, dict) else None
    if update_id is None:
        raise UpdateError("invalid_update")
    if "message" in data:
        return _message(update_id, data["message"])
    if "callback_query" in data:
        return _button(update_id, data["callback_query"])
    kinds = [key for key in data if key != "update_id"]
    return Ignored(update_id, kinds[0] if len(kinds) == 1 and len(kinds[0]) <= 40 else "unknown")


def _message(update_id: int, message: Any) -> Update:
    chat = message.get("chat") if isinstance(message, dict) else None
    chat_id = _int(chat.get("id")) if isinstance(chat, dict) else None
    if not isinstance(message, dict) or not isinstance(chat, dict) or chat_id is None:
        return Ignored(update_id, "malformed_message")
    sender = message.get("from")
    if isinstance(sender, dict) and sender.get("is_bot") is True:
        return Ignored(update_id, "from_a_bot")
    if chat.get("type") != "private":
        return GroupMessage(update_id, chat_id)
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        return OtherMessage(update_id, chat_id)
    message_id = _int(message.get("message_id")) or 0
    return TextMessage(update_id, chat_id, message_id, text.replace("\x00", ""))


def _button(update_id: int, query: Any) -> Update:
    if not isinstance(query, dict):
        return Ignored(update_id, "malformed_callback_query")
    query_id, data, sender = query.get("id"), query.get("data"), query.get("from")
    user_id = _int(sender.get("id")) if isinstance(sender, dict) else None
    if not isinstance(query_id, str) or not query_id or len(query_id) > 100 or user_id is None:
        return Ignored(update_id, "malformed_callback_query")
    message = query.get("message")
    chat = message.get("chat") if isinstance(message, dict) else None
    # Without the message (too old, or inline): a private chat's id is the user's id.
    chat_id: int | None = user_id
    if isinstance(chat, dict):
        chat_id = _int(chat.get("id")) if chat.get("type") == "private" else None
    if chat_id is None:
        return Ignored(update_id, "group_callback_query")
    return ButtonPress(update_id, query_id, chat_id, data if isinstance(data, str) else "")


def _int(value: Any) -> int | None:
    """A JSON integer as Telegram sends ids (not a bool, within 64 bits), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and -(2**63) < value < 2**63:
        return value
    return None
