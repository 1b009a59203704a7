"""Canonical entity values: pure functions, one per entity type."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.nlu.numerals import format_amount, parse_amount
from bot.nlu.timeparse import parse_time

ACCOUNT_FIELDS = ("phone", "email", "nickname", "address")

_PHONE = re.compile(r"^1[3-9]\d{9}$")
_PHONE_PREFIX = re.compile(r"^(?:\+?86|0086)")
_EMAIL = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}$")
_TRANSACTION_ID = re.compile(r"^TX\d{12,18}$")


def normalize_phone(text: str) -> str | None:
    """Mainland mobile number as 11 digits (+86 138-0013-8000 → 13800138000)."""
    digits = re.sub(r"[\s\-()（）]", "", unicodedata.normalize("NFKC", text))
    if len(digits) > 11:
        digits = _PHONE_PREFIX.sub("", digits)
    return digits if _PHONE.match(digits) else None


def normalize_email(text: str) -> str | None:
    """Lower-cased e-mail address, or None when it is not one."""
    value = unicodedata.normalize("NFKC", text).strip().lower()
    return value if _EMAIL.match(value) else None


def normalize_transaction_id(text: str) -> str | None:
    """Upper-cased transaction number (TX followed by 12–18 digits)."""
    value = re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).upper()
    return value if _TRANSACTION_ID.match(value) else None


def normalize_amount(text: str) -> str | None:
    """Amount in yuan with two decimals (五百块 → 500.00)."""
    value = parse_amount(text)
    return None if value is None else format_amount(value)


def normalize_time(text: str, now: datetime | None = None) -> dict[str, str] | None:
    """Time expression as {"from", "to", "grain"} in China time."""
    value = parse_time(text, now)
    return None if value is None else value.as_entity_value()


def normalize_account_field(text: str, aliases: Mapping[str, str]) -> str | None:
    """Canonical account field (手机号 → phone) from the alias table."""
    key = unicodedata.normalize("NFKC", text).strip().lower()
    if key in ACCOUNT_FIELDS:
        return key
    return aliases.get(key)


def normalize_entity(
    entity: str,
    text: str,
    *,
    aliases: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Any:
    """Canonical value of an entity, or None when the text is not a valid value.

    Entity types without a canonical form keep their text.
    """
    if entity == "phone":
        return normalize_phone(text)
    if entity == "email":
        return normalize_email(text)
    if entity == "transaction_id":
        return normalize_transaction_id(text)
    if entity == "amount":
        return normalize_amount(text)
    if entity == "time":
        return normalize_time(text, now)
    if entity == "account_field":
        return normalize_account_field(text, aliases or {})
    return text
