"""The bot token and the webhook secret never reach a log record."""

from __future__ import annotations

import logging

import pytest

from bot.channels.telegram.redaction import REDACTED, install_redaction, redact
from bot.masking import install_log_masking
from tests.fakes.telegram_api import TOKEN

SECRET_HALF = TOKEN.split(":", 1)[1]


def test_redact_replaces_every_secret_longest_first() -> None:
    url = f"https://api.telegram.org/bot{TOKEN}/sendMessage"
    assert redact(url, [TOKEN, SECRET_HALF]) == f"https://api.telegram.org/bot{REDACTED}/sendMessage"
    assert redact(f"key={SECRET_HALF}", [TOKEN, SECRET_HALF]) == f"key={REDACTED}"
    assert redact("nothing here", [TOKEN]) == "nothing here"
    assert redact("abc", ["", "a"]) == "abc"  # too short to be a secret: never replaced


def test_records_are_redacted_in_messages_arguments_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    install_log_masking()
    install_redaction([TOKEN, SECRET_HALF])
    log = logging.getLogger("tests.telegram.redaction")
    with caplog.at_level(logging.INFO):
        log.info("calling %s", f"https://api.telegram.org/bot{TOKEN}/getMe")
        try:
            raise RuntimeError(f"Cannot connect to https://api.telegram.org/bot{TOKEN}/sendMessage")
        except RuntimeError:
            log.exception("send failed for 13800138000")
    text = caplog.text
    assert TOKEN not in text and SECRET_HALF not in text
    assert REDACTED in text and "138****8000" in text and "13800138000" not in text
