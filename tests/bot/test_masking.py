import logging

import pytest

from bot.masking import MaskingFilter, mask_email, mask_phone, mask_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的手机号13800138000", "我的手机号138****8000"),
        ("+86 138-0013-8000 收不到", "138****8000 收不到"),
        ("邮箱 zhangwei@example.com", "邮箱 z***@example.com"),
        ("身份证110101199003071234", "身份证1101**********1234"),
        ("卡号6222021234567890123", "卡号6222 **** **** 0123"),
        ("卡号 6222 0212 3456 7890", "卡号 6222 **** **** 7890"),
        ("验证码是 482913", "验证码是 ******"),
        ("我的密码：Abc12345!", "我的密码：******"),
        ("转账500元失败", "转账500元失败"),
        ("交易号TX202611242103001", "交易号TX202611242103001"),
        ("", ""),
    ],
)
def test_mask_text(text: str, expected: str) -> None:
    assert mask_text(text) == expected


def test_mask_single_values() -> None:
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("123") == "****"
    assert mask_email("lina@example.cn") == "l***@example.cn"
    assert mask_email("nonsense") == "***"


def test_logging_filter_masks_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.masking")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="test.masking"):
        logger.info("user said %s", "手机13912345678")
    assert "139****5678" in caplog.text
    assert "13912345678" not in caplog.text


def test_install_log_masking_is_idempotent() -> None:
    from bot.masking import install_log_masking

    handler = logging.StreamHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        install_log_masking()
        install_log_masking()
        assert sum(isinstance(f, MaskingFilter) for f in handler.filters) == 1
    finally:
        root.removeHandler(handler)
