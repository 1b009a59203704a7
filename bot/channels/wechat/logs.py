"""Webhook URLs without their query in Sanic's own log lines: the query holds the unsigned
``openid`` (an identifier) and the signatures. Sanic writes the whole URL in its access log
(``rasa run`` keeps it on) and in "Request: … stopped" when WeChat drops a connection."""

from __future__ import annotations

import logging
import re

_WEBHOOK_QUERY = re.compile(r"(/webhooks/wechat/webhook)\?[^\s\"']*")
SANIC_LOGGERS = ("sanic.access", "sanic.root", "sanic.error")


def redact(text: str) -> str:
    """The text with the query of every webhook URL replaced by ``…``."""
    return _WEBHOOK_QUERY.sub(r"\1?…", text)


class WebhookUrlFilter(logging.Filter):
    """Redacts webhook URLs in a record's message and in the access log's ``request`` field;
    never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place."""
        line = getattr(record, "request", None)
        if isinstance(line, str):
            record.request = redact(line)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler
            return True
        if "/webhooks/wechat/webhook?" in message:
            record.msg, record.args = redact(message), ()
        return True


def redact_webhook_urls() -> None:
    """Install :class:`WebhookUrlFilter` on Sanic's loggers (idempotent)."""
    for name in SANIC_LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(f, WebhookUrlFilter) for f in target.filters):
            target.addFilter(WebhookUrlFilter())
