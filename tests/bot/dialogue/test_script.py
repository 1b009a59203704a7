"""Which script the user writes, and replies in it (OpenCC), with values kept exact."""

from __future__ import annotations

import pytest

from bot.channels.options import numbered_options
from bot.dialogue.script import detect_script, fold, in_script
from bot.nlg import localize


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("密碼忘記了 要怎麼重設", "hant"),
        ("我的帳戶被盜了", "hant"),
        ("我嘅戶口俾人盜咗", "hk"),
        ("密码忘记了怎么重设", "hans"),
        ("13800138000", None),
        ("ok", None),
        ("好的", None),  # characters both scripts share tell nothing
    ],
)
def test_detect_script(text: str, script: str | None) -> None:
    assert detect_script(text) == script


def test_mixed_script_goes_by_the_majority() -> None:
    assert detect_script("我的賬戶密碼忘記了") == "hant"
    assert detect_script("我的账户密码忘记了啊 帳") == "hans"


def test_replies_in_traditional_keep_masked_values_and_numbers() -> None:
    reply = "验证码已发送至 138****8000，5 分钟内有效。工单 T202611250001，金额 500.00 元，z***@example.com"
    converted = in_script(reply, "hant")
    assert "驗證碼" in converted
    for exact in ("138****8000", "T202611250001", "500.00", "z***@example.com", "5 分"):
        assert exact in converted
    assert in_script(reply, "hans") == reply
    assert "發送" in in_script("已发送", "hk")


def test_fold_keeps_offsets() -> None:
    text = "密碼是１３８ＡＢ"
    assert fold(text) == "密码是138AB" and len(fold(text)) == len(text)


def test_localize_converts_text_and_titles_not_payloads() -> None:
    message = {
        "text": "请问这样能解决您的问题吗？",
        "buttons": [{"title": "还没有", "payload": '/inform{"complaint_category":"服务态度"}'}],
    }
    localize(message, "hant")
    assert message["text"] == "請問這樣能解決您的問題嗎？"
    assert message["buttons"][0] == {"title": "還沒有", "payload": '/inform{"complaint_category":"服务态度"}'}


def test_buttons_as_numbered_text() -> None:
    buttons = [{"title": "解决了", "payload": "/affirm"}, {"title": "还没有", "payload": "/deny"}]
    assert numbered_options("请问这样能解决您的问题吗？", buttons) == (
        "请问这样能解决您的问题吗？\n回复数字选择：1 解决了  2 还没有"
    )
    assert numbered_options("只有文字", []) == "只有文字"
