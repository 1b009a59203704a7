"""Masking of personal data: in text (pure functions with known answers) and in log records.

What is personal data is defined once, in :mod:`bot.pii`; this module only decides how each
kind is shown: 138****8000, z***@example.com, 6222 **** **** 0123, 1101**********1234,
****** for codes and secrets, *** for tokens. Sealed slot values (``actions/sealed.py``)
are ciphertext and stay as they are.

Logs: :func:`install_log_masking` masks every record a process logs (message, arguments,
exception text and traceback, stack, extra fields) before any handler writes it.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

from bot import pii

CODE_MASK = "******"
TOKEN_MASK = "***"
_STANDARD_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_MASKED_FLAG = "_pii_masked"


def mask_phone(phone: str) -> str:
    """138****8000 for a mainland mobile number (any formatting)."""
    digits = "".join(ch for ch in pii.fold(phone) if ch.isdigit())[-11:]
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) == 11 else "****"


def mask_email(email: str) -> str:
    """z***@example.com: the first character and the domain stay."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if local and domain else "***"


def mask_span(span: pii.Span, original: str) -> str:
    """How one piece of personal data is shown (``original``: the characters it covers)."""
    value = span.value
    if span.kind == "phone":
        return mask_phone(value)
    if span.kind == "email":
        return mask_email(value)
    if span.kind == "card":
        return f"{value[:4]} **** **** {value[-4:]}"
    if span.kind == "id_card":
        return f"{value[:4]}**********{value[-4:]}"
    if span.kind == "token":
        return TOKEN_MASK
    if span.kind == "sealed":
        return original
    return CODE_MASK


def mask_text(text: str) -> str:
    """Mask every piece of personal data found in a free text; the rest stays as typed.

    ID numbers (18 characters) and card numbers (16–19 digits) keep their first and last
    four digits; phone numbers become 138****8000; e-mail addresses z***@example.com; a
    one-time code, or a password after its keyword, becomes ******; tokens ***.
    """
    if not text:
        return text
    parts: list[str] = []
    position = 0
    for span in pii.scan(text):
        parts.append(text[position : span.start])
        parts.append(mask_span(span, text[span.start : span.end]))
        position = span.end
    parts.append(text[position:])
    return "".join(parts)


# --- logs ---------------------------------------------------------------------
_FORMATTER = logging.Formatter()


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a log record in place: message with its arguments, exception text and traceback,
    stack, and the string fields added with ``extra`` (set after the record is made)."""
    done = getattr(record, _MASKED_FLAG, None)
    if record.args or record.exc_info or done != (record.msg, record.exc_text, record.stack_info):
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: log what there is
            message = f"{record.msg} {record.args}"
        record.msg, record.args = mask_text(message), ()
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = _FORMATTER.formatException(record.exc_info)
            record.exc_info = None  # no formatter can print the raw traceback again
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        setattr(record, _MASKED_FLAG, (record.msg, record.exc_text, record.stack_info))
    for name, value in list(vars(record).items()):
        if name not in _STANDARD_RECORD_FIELDS and isinstance(value, str):
            setattr(record, name, mask_text(value))
    return record


class MaskingFilter(logging.Filter):
    """A logging filter that masks personal data in every record; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record (see :func:`mask_record`)."""
        mask_record(record)
        return True


class _MaskingRecordFactory:
    """Wraps the process's log record factory: every record is masked when it is made, so
    handlers added later (Sanic's, a file handler) never see raw values."""

    def __init__(self, inner: Callable[..., logging.LogRecord]) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(self.inner(*args, **kwargs))


def _print_masked(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    sys.stderr.write(mask_text("".join(traceback.format_exception(exc_type, exc, tb))))


def _masked_thread_hook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    sys.stderr.write(f"Exception in thread {args.thread.name if args.thread else '?'}:\n")
    _print_masked(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)


def _handlers() -> list[logging.Handler]:
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    return [handler for lg in loggers for handler in lg.handlers]


def install_log_masking() -> None:
    """Mask personal data in everything the process logs (idempotent).

    A masking filter goes on every handler there is (the root logger's and any other
    logger's); the record factory masks records made later, whatever handler writes them;
    uncaught exceptions (main thread and threads) are printed masked.
    """
    for handler in _handlers():
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _MaskingRecordFactory):
        logging.setLogRecordFactory(_MaskingRecordFactory(factory))
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = _print_masked
    if threading.excepthook is threading.__excepthook__:
        threading.excepthook = _masked_thread_hook
