"""The Telegram channel's settings from the environment: off, on, or refused."""

from __future__ import annotations

import pytest

from bot.channels.telegram.settings import TelegramSettings, TelegramSettingsError
from tests.fakes.telegram_api import TOKEN
from tests.fakes.telegram_updates import SECRET

ON = {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET}


def test_no_token_means_off() -> None:
    assert TelegramSettings.from_env({}) is None
    assert TelegramSettings.from_env({"TELEGRAM_TOKEN": "  ", "TELEGRAM_WEBHOOK_SECRET": SECRET}) is None


def test_a_token_and_a_secret_turn_it_on_with_defaults() -> None:
    settings = TelegramSettings.from_env(ON)
    assert settings is not None
    assert settings.api_base == "https://api.telegram.org"
    assert settings.bot_id == "123456"
    assert settings.max_body_bytes == 256 * 1024 and settings.send_attempts == 3
    assert TOKEN in settings.secrets and SECRET in settings.secrets


def test_a_token_without_a_secret_refuses_to_start() -> None:
    with pytest.raises(TelegramSettingsError, match="TELEGRAM_WEBHOOK_SECRET"):
        TelegramSettings.from_env({"TELEGRAM_TOKEN": TOKEN})


@pytest.mark.parametrize("secret", ["short", "x" * 23, "x" * 257, "has space in it 0123456789", "密钥" * 20])
def test_weak_or_malformed_secrets_are_refused_without_echo(secret: str) -> None:
    with pytest.raises(TelegramSettingsError) as error:
        TelegramSettings.from_env({"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": secret})
    assert secret not in str(error.value)


@pytest.mark.parametrize(
    "token", ["abc", "987654", "987654:", "abc:ABCdefGhIJKlmNoPQRsTUVwxyZ", "1 2:" + "A" * 30]
)
def test_malformed_tokens_are_refused_without_echo(token: str) -> None:
    with pytest.raises(TelegramSettingsError) as error:
        TelegramSettings.from_env({"TELEGRAM_TOKEN": token, "TELEGRAM_WEBHOOK_SECRET": SECRET})
    assert token not in str(error.value)


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("http://127.0.0.1:8081/", "http://127.0.0.1:8081"),
        ("http://localhost:9000", "http://localhost:9000"),
        ("https://tg-proxy.example.com/api", "https://tg-proxy.example.com/api"),
        ("http://[::1]:8081", "http://[::1]:8081"),
    ],
)
def test_the_api_base_can_point_at_a_local_bot_api(base: str, expected: str) -> None:
    settings = TelegramSettings.from_env({**ON, "TELEGRAM_API_BASE": base})
    assert settings is not None and settings.api_base == expected


@pytest.mark.parametrize("base", ["http://api.telegram.org", "ftp://127.0.0.1", "127.0.0.1:8081", "https://"])
def test_the_token_never_travels_in_clear(base: str) -> None:
    with pytest.raises(TelegramSettingsError):
        TelegramSettings.from_env({**ON, "TELEGRAM_API_BASE": base})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEGRAM_MAX_BODY_BYTES", "12"),
        ("TELEGRAM_SEND_ATTEMPTS", "0"),
        ("TELEGRAM_RATE_LIMIT_PER_MINUTE", "x"),
    ],
)
def test_bad_numbers_are_refused(name: str, value: str) -> None:
    with pytest.raises(TelegramSettingsError, match=name):
        TelegramSettings.from_env({**ON, name: value})
