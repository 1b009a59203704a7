"""Masking: known answers for text, and log records masked whatever handler writes them."""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Iterator

import pytest

from bot.masking import MaskingFilter, install_log_masking, mask_email, mask_phone, mask_record, mask_text
from bot.nlu.normalize import normalize_email, normalize_phone


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的手机号13800138000", "我的手机号138****8000"),
        ("+86 138-0013-8000 收不到", "138****8000 收不到"),
        ("１３８００１３８０００", "138****8000"),
        ("手机 1380 013 8000", "手机 138****8000"),
        ("13800-138-000", "138****8000"),
        ("138.0013.8000。", "138****8000。"),
        ("邮箱 zhangwei@example.com", "邮箱 z***@example.com"),
        ("邮箱ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ，谢谢", "邮箱z***@example.com，谢谢"),
        ("wang_qiang@corp.example.com", "w***@corp.example.com"),
        ("身份证110101199003071234", "身份证1101**********1234"),
        ("身份证11010119900307123X", "身份证1101**********123X"),
        ("卡号6222021234567890123", "卡号6222 **** **** 0123"),
        ("卡号 6222 0212 3456 7890", "卡号 6222 **** **** 7890"),
        ("验证码是 482913", "验证码是 ******"),
        ("验证码 246 810", "验证码 ******"),
        ("246 810", "******"),
        ("13800138000 246810", "138****8000 ******"),
        ("我的密码：Abc12345!", "我的密码：******"),
        ("Authorization: Bearer abc-123.def_456", "Authorization: Bearer ***"),
        ("转账500元失败", "转账500元失败"),
        ("充值100000元", "充值100000元"),
        ("交易号TX202611242103001", "交易号TX202611242103001"),
        ("password reset please", "password reset please"),
        ("", ""),
    ],
)
def test_mask_text(text: str, expected: str) -> None:
    assert mask_text(text) == expected


def test_mask_single_values() -> None:
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("１３８００１３８０００") == "138****8000"
    assert mask_phone("123") == "****"
    assert mask_email("lina@example.cn") == "l***@example.cn"
    assert mask_email("nonsense") == "***"


def test_masking_is_idempotent() -> None:
    text = "手机13800138000，邮箱zhangwei@example.com，卡6222021234567890123，验证码246810"
    assert mask_text(mask_text(text)) == mask_text(text)


@pytest.mark.parametrize(
    "text", ["１３８００１３８０００", "1380 013 8000", "13800-138-000", "138.0013.8000", "+86 139 1234 5678"]
)
def test_a_phone_is_masked_exactly_when_it_is_recognized(text: str) -> None:
    phone = normalize_phone(text)
    assert phone is not None and mask_text(text) == f"{phone[:3]}****{phone[-4:]}"
    assert normalize_phone("12800138000") is None and mask_text("12800138000") == "12800138000"


def test_an_email_is_masked_exactly_when_it_is_recognized() -> None:
    assert normalize_email("ＺｈａｎｇＷｅｉ＠Ｅｘａｍｐｌｅ．ｃｏｍ") == "zhangwei@example.com"
    assert mask_text("ＺｈａｎｇＷｅｉ＠Ｅｘａｍｐｌｅ．ｃｏｍ") == "z***@example.com"
    assert normalize_email("lina@example") is None and mask_text("lina@example") == "lina@example"


# --- logs ------------------------------------------------------------------------
@pytest.fixture()
def restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """install_log_masking changes process-wide state: put it back after the test."""
    factory = logging.getLogRecordFactory()
    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)
    monkeypatch.setattr(threading, "excepthook", threading.__excepthook__)
    yield
    logging.setLogRecordFactory(factory)


def _logger(name: str, *filters: logging.Filter) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s %(where)s"))
    for f in filters:
        handler.addFilter(f)
    logger = logging.getLogger(name)
    logger.handlers, logger.propagate = [handler], False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_logging_filter_masks_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.masking")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="test.masking"):
        logger.info("user said %s", "手机13912345678")
    assert "139****5678" in caplog.text
    assert "13912345678" not in caplog.text


def test_exceptions_tracebacks_stacks_and_extras_are_masked() -> None:
    logger, stream = _logger("test.masking.exc", MaskingFilter())
    try:
        raise ValueError("bad contact 13800138000 / zhangwei@example.com")
    except ValueError:
        logger.exception("failed for %s", "验证码 246810", extra={"where": "卡6222021234567890123"})
    logger.info("stack", stack_info=True, extra={"where": "13912345678"})
    out = stream.getvalue()
    assert "ValueError: bad contact 138****8000 / z***@example.com" in out
    assert "Traceback" in out and "验证码 ******" in out and "6222 **** **** 0123" in out
    for raw in ("13800138000", "zhangwei@example.com", "246810", "6222021234567890123", "13912345678"):
        assert raw not in out


def test_a_record_with_a_broken_format_is_still_logged_masked() -> None:
    record = logging.makeLogRecord({"msg": "%s %s", "args": ("13800138000",)})
    assert "138****8000" in mask_record(record).getMessage()


def test_install_log_masking_is_idempotent(restored: None) -> None:
    handler = logging.StreamHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        install_log_masking()
        install_log_masking()
        assert sum(isinstance(f, MaskingFilter) for f in handler.filters) == 1
    finally:
        root.removeHandler(handler)


def test_handlers_added_after_the_install_write_masked_records(restored: None) -> None:
    install_log_masking()
    logger, stream = _logger("test.masking.late")  # no filter: the record factory masked it
    try:
        raise RuntimeError("手机13800138000")
    except RuntimeError:
        logger.error("user %s", "lina@example.cn", exc_info=True, extra={"where": "-"})
    out = stream.getvalue()
    assert "13800138000" not in out and "lina@example.cn" not in out
    assert "138****8000" in out and "l***@example.cn" in out


def test_uncaught_exceptions_are_printed_masked(restored: None, capsys: pytest.CaptureFixture[str]) -> None:
    install_log_masking()
    try:
        raise KeyError("13800138000")
    except KeyError as error:
        sys.excepthook(type(error), error, error.__traceback__)
    err = capsys.readouterr().err
    assert "138****8000" in err and "13800138000" not in err
