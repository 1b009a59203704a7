"""Masking of personal data in text: phone, e-mail, card and ID numbers, codes.

Pure functions with known answers; used for replies, log records and stored text.
"""

from __future__ import annotations

import logging
import re

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")
_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{4})((?:[ -]?\d){8,11})([ -]?\d{4})(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])([A-Za-z0-9._%+-]*)(@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_CODE = re.compile(
    r"((?:验证码|校验码|动态码|密码|口令|code|password|pwd)\s*(?:是|为|:|：)?\s*)([0-9A-Za-z!@#$%^&*._+=-]{4,})",
    re.IGNORECASE,
)


def mask_phone(phone: str) -> str:
    """138****8000 for a mainland mobile number (any formatting)."""
    digits = re.sub(r"\D", "", phone)[-11:]
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) == 11 else "****"


def mask_email(email: str) -> str:
    """z***@example.com: the first character and the domain stay."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if local and domain else "***"


def mask_text(text: str) -> str:
    """Mask every piece of personal data found in a free text.

    ID numbers (18 characters) and card numbers (16–19 digits) keep their first
    and last four digits; phone numbers become 138****8000; e-mail addresses
    z***@example.com; a code or password that follows its keyword becomes ******.
    """
    text = _ID_NUMBER.sub(lambda m: f"{m[1][:4]}**********{m[3]}", text)
    text = _CARD.sub(lambda m: f"{m[1]} **** **** {m[3].strip(' -')}", text)
    text = _PHONE.sub(lambda m: f"{m[1]}****{m[3]}", text)
    text = _EMAIL.sub(lambda m: f"{m[1]}***{m[3]}", text)
    return _CODE.sub(lambda m: f"{m[1]}******", text)


class MaskingFilter(logging.Filter):
    """A logging filter that masks personal data in every record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message by its masked form; never drops a record."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        record.msg, record.args = mask_text(message), None
        return True


def install_log_masking() -> None:
    """Mask personal data in everything the process logs (idempotent).

    The filter goes on the root logger's handlers, so records propagated from
    any library's logger are masked before they are written.
    """
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
