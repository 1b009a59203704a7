"""Reading what the user typed: contacts, codes, secrets; and masking for replies."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa_sdk import Tracker

from bot.masking import mask_email, mask_phone
from bot.nlu.normalize import normalize_email, normalize_phone

_PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86[ -]?|0086[ -]?)?1[3-9]\d(?:[ -]?\d){8}(?!\d)")
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_SIX_DIGITS = re.compile(r"(?<!\d)(\d{6})(?!\d)")
_SECRET = re.compile(
    r"(?:密码|密碼|口令|password|passwd|pwd|验证码|驗證碼|校验码|动态码)\s*(?:是|为|為|:|：|=)\s*\S{3,}",
    re.IGNORECASE,
)


def user_text(tracker: Tracker) -> str:
    """The latest user message, NFKC-normalized (full-width digits become ASCII)."""
    return unicodedata.normalize("NFKC", str(tracker.latest_message.get("text") or "")).strip()


def latest_intent(tracker: Tracker) -> str:
    """The intent of the latest user message."""
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


def entity_value(tracker: Tracker, entity: str) -> Any:
    """The first value of an entity in the latest user message, or None."""
    return next(tracker.get_latest_entity_values(entity), None)


def find_contact(tracker: Tracker) -> tuple[str, str] | None:
    """A phone number or e-mail address in the latest message: ("sms"|"email", canonical)."""
    return contact_in({**tracker.latest_message, "text": user_text(tracker)})


def contact_in(parse: dict[str, Any]) -> tuple[str, str] | None:
    """A phone number or e-mail address in a message's parse data: ("sms"|"email", canonical)."""
    for entity in parse.get("entities") or []:
        value = entity.get("value")
        if entity.get("entity") == "phone" and isinstance(value, str) and normalize_phone(value):
            return "sms", str(normalize_phone(value))
    for entity in parse.get("entities") or []:
        value = entity.get("value")
        if entity.get("entity") == "email" and isinstance(value, str) and normalize_email(value):
            return "email", str(normalize_email(value))
    text = unicodedata.normalize("NFKC", str(parse.get("text") or ""))
    match = _PHONE_IN_TEXT.search(text)
    if match and normalize_phone(match[0]):
        return "sms", str(normalize_phone(match[0]))
    match = _EMAIL_IN_TEXT.search(text)
    if match and normalize_email(match[0]):
        return "email", str(normalize_email(match[0]))
    return None


def answer_kind(tracker: Tracker) -> str | None:
    """How the NLU read the latest message against the bot's question: "option", "answer",
    "invalid_option", "other"; None when it was not read as a reply to a question."""
    return (tracker.latest_message.get("answer") or {}).get("kind")


def looks_like_contact_attempt(text: str) -> bool:
    """Digits or an @: the user tried to type a phone number or an e-mail address."""
    return "@" in text or sum(ch.isdigit() for ch in text) >= 5


def find_code(text: str) -> str | None:
    """A six-digit one-time code in the text."""
    match = _SIX_DIGITS.search(text.replace(" ", ""))
    return match[1] if match else None


def contains_secret(text: str) -> bool:
    """The user typed a password or code after its keyword ("我的密码是 abc123")."""
    return bool(_SECRET.search(text))


def mask_contact(channel: str, value: str) -> str:
    """138****8000 or z***@example.com."""
    return mask_phone(value) if channel == "sms" else mask_email(value)


def yes_or_no(tracker: Tracker) -> bool | None:
    """The answer to a yes/no question: True, False, or None when the reply is not one.

    The NLU's answer reader has already read typed words ("立即冻结", "先不改了", "好的") as the
    question's buttons; a reply it read as something else is not a yes or a no.
    """
    if answer_kind(tracker) in ("other", "invalid_option", "answer"):
        return None
    intent = latest_intent(tracker)
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    return None
