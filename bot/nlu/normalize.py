"""Canonical entity values: pure functions, one per entity type.

Phone numbers and e-mail addresses are read by the one grammar of personal data
(``bot.pii``), the same that masks them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot import pii
from bot.nlu.numerals import format_amount, parse_amount
from bot.nlu.timeparse import parse_time

ACCOUNT_FIELDS = ("phone", "email", "nickname", "address")

_TRANSACTION_ID = re.compile(r"^TX\d{12,18}$")


def normalize_phone(text: str) -> str | None:
    """Mainland mobile number as 11 digits (+86 138-0013-8000, １３８…, 138.0013.8000 → 13800138000)."""
    return pii.phone_value(text)


def normalize_email(text: str) -> str | None:
    """Lower-cased e-mail address (full-width ＠ and letters too), or None when it is not one."""
    return pii.email_value(text)


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
