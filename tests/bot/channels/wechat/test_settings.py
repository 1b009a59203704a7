"""The channel's settings from the environment: off without a token, fail fast on bad values."""

from __future__ import annotations

import logging

import pytest

from bot.channels.wechat.settings import WeChatSettings, WeChatSettingsError

ENV = {
    "WECHAT_TOKEN": "wallet-token",
    "WECHAT_APP_ID": "wx0123456789abcdef",
    "WECHAT_APP_SECRET": "secret-value",
}
KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


def test_without_a_token_the_channel_is_off() -> None:
    assert WeChatSettings.load({}, {}) is None
    assert WeChatSettings.load(None, {"WECHAT_TOKEN": "  ", "WECHAT_APP_ID": "x"}) is None


def test_plaintext_mode_defaults() -> None:
    settings = WeChatSettings.load({}, ENV)
    assert settings is not None
    assert not settings.safe_mode
    assert settings.api_base == "https://api.weixin.qq.com"
    assert (settings.reply_budget_seconds, settings.timestamp_window_seconds) == (4.0, 300)
    assert settings.max_body_bytes == 64 * 1024


def test_safe_mode_rotation_and_overrides() -> None:
    env = {
        **ENV,
        "WECHAT_ENCODING_AES_KEY": KEY,
        "WECHAT_PREVIOUS_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "WECHAT_API_BASE": "http://127.0.0.1:8099/",
        "WECHAT_REPLY_BUDGET_SECONDS": "2.5",
        "WECHAT_API_TIMEOUT_SECONDS": "3",
    }
    settings = WeChatSettings.load({"max_message_chars": 500, "rate_limit_per_minute": 5}, env)
    assert settings is not None and settings.safe_mode
    assert settings.api_base == "http://127.0.0.1:8099"
    assert (settings.reply_budget_seconds, settings.api_timeout_seconds) == (2.5, 3.0)
    assert (settings.max_message_chars, settings.rate_limit_per_minute) == (500, 5)


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"WECHAT_APP_ID": ""}, "WECHAT_APP_ID"),
        ({"WECHAT_APP_SECRET": ""}, "WECHAT_APP_SECRET"),
        ({"WECHAT_TOKEN": "has space"}, "WECHAT_TOKEN"),
        ({"WECHAT_ENCODING_AES_KEY": "short"}, "WECHAT_ENCODING_AES_KEY"),
        ({"WECHAT_ENCODING_AES_KEY": KEY[:-1] + "!"}, "WECHAT_ENCODING_AES_KEY"),
        ({"WECHAT_PREVIOUS_AES_KEY": KEY}, "WECHAT_PREVIOUS_AES_KEY"),
        ({"WECHAT_API_BASE": "ftp://api.example"}, "WECHAT_API_BASE"),
        ({"WECHAT_API_BASE": "https://user:pw@api.example"}, "WECHAT_API_BASE"),
        ({"WECHAT_API_BASE": "https://api.example/?x=1"}, "WECHAT_API_BASE"),
        ({"WECHAT_REPLY_BUDGET_SECONDS": "5"}, "WECHAT_REPLY_BUDGET_SECONDS"),
        ({"WECHAT_REPLY_BUDGET_SECONDS": "soon"}, "WECHAT_REPLY_BUDGET_SECONDS"),
        ({"WECHAT_API_TIMEOUT_SECONDS": "0"}, "WECHAT_API_TIMEOUT_SECONDS"),
    ],
)
def test_bad_values_stop_the_start_naming_the_setting_not_its_value(
    change: dict[str, str], names: str
) -> None:
    with pytest.raises(WeChatSettingsError) as error:
        WeChatSettings.load({}, {**ENV, **change})
    assert names in str(error.value) or "EncodingAESKey" in str(error.value)
    for value in change.values():
        if len(value) > 6:
            assert value not in str(error.value)


def test_plain_http_to_another_host_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        WeChatSettings.load({}, {**ENV, "WECHAT_API_BASE": "http://api.example"})
    assert "plain http" in caplog.text
