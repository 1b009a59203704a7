"""Reading what the user typed: contacts, codes, secrets; and masking for replies.

Phone numbers, e-mail addresses, codes and secrets are read by the grammar of personal data
(``bot.pii``), the same that masks them in stores and logs.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rasa_sdk import Tracker

from bot import pii
from bot.masking import mask_email, mask_phone
from bot.nlu.normalize import normalize_email, normalize_phone


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
    spans = pii.scan(str(parse.get("text") or ""))
    for kind, channel in (("phone", "sms"), ("email", "email")):
        value = next((span.value for span in spans if span.kind == kind), None)
        if value:
            return channel, value
    return None


def answer_kind(tracker: Tracker) -> str | None:
    """How the NLU read the latest message against the bot's question: "option", "answer",
    "invalid_option", "other"; None when it was not read as a reply to a question."""
    return (tracker.latest_message.get("answer") or {}).get("kind")


def looks_like_contact_attempt(text: str) -> bool:
    """Digits or an @: the user tried to type a phone number or an e-mail address."""
    return "@" in text or sum(ch.isdigit() for ch in text) >= 5


def find_code(text: str) -> str | None:
    """The six-digit one-time code in a reply to "please type the code" (246810, 246 810,
    验证码是 246810, "收到了，246810"), or None."""
    return next((span.value for span in pii.scan(text) if span.kind == "code"), None)


def contains_secret(text: str) -> bool:
    """The user typed a password, or a code after its keyword ("我的密码是 abc123", "验证码 246810")."""
    return any(span.kind == "secret" or (span.kind == "code" and span.keyed) for span in pii.scan(text))


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
