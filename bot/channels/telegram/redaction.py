"""The bot token never reaches a log: it is part of every Bot API URL
(``https://api.telegram.org/bot<token>/sendMessage``), so an aiohttp error, a debug line or a
traceback can carry it.

:func:`redact` removes the secrets from a text (pure). :func:`install_redaction` wraps the
process's log record factory, outside the personal-data masking of :mod:`bot.masking`, so
every record made afterwards (message, arguments, exception text) is redacted before any
handler sees it. The channel's own errors are built from redacted texts too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

REDACTED = "<redacted>"
_lock = threading.Lock()
_FORMATTER = logging.Formatter()


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (longest first) replaced by ``<redacted>``."""
    for secret in sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


class _RedactingFactory:
    """Makes records through ``inner``, then redacts their message and exception text."""

    def __init__(self, inner: Callable[..., logging.LogRecord]) -> None:
        self.inner = inner
        self.secrets: frozenset[str] = frozenset()

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        if not self.secrets:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: log what there is
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message, self.secrets), ()
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = _FORMATTER.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return record


def install_redaction(secrets: Iterable[str]) -> None:
    """Redact ``secrets`` from every log record made from now on (idempotent, additive)."""
    with _lock:
        factory = logging.getLogRecordFactory()
        if not isinstance(factory, _RedactingFactory):
            factory = _RedactingFactory(factory)
            logging.setLogRecordFactory(factory)
        factory.secrets = factory.secrets | {s for s in secrets if s}
