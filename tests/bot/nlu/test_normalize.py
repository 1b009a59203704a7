import pytest

from bot.nlu.normalize import (
    normalize_account_field,
    normalize_email,
    normalize_entity,
    normalize_phone,
    normalize_transaction_id,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 13800138000", "13800138000"),
        ("008613912345678", "13912345678"),
        ("１３８００１３８０００", "13800138000"),
        ("1380 013 8000", "13800138000"),
        ("13800-138-000", "13800138000"),
        ("138.0013.8000", "13800138000"),
        ("（+86）13700001111", "13700001111"),
        ("+86 139-1234-5678", "13912345678"),
        ("139\u200b1234\u200b5678", "13912345678"),  # zero-width spaces
        ("一三八零零一三八零零零", "13800138000"),  # read out in Chinese digits
        ("幺三九 一二三四 五六七八", "13912345678"),  # 幺: the spoken 1
        ("138零零13八000", "13800138000"),  # mixed
        ("一三八零零一三八零零", None),  # ten digits
        ("12800138000", None),  # no mobile prefix 12
        ("1380013800", None),  # ten digits
        ("138001380001", None),
        ("手机13800138000", None),  # more than the number
        ("13800138000@163.com", None),  # an e-mail address
    ],
)
def test_phone(text: str, expected: str | None) -> None:
    assert normalize_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ZhangWei@Example.com", "zhangwei@example.com"),
        ("lina@example.cn", "lina@example.cn"),
        ("zhang.wei+cs@mail.qq.com", "zhang.wei+cs@mail.qq.com"),
        ("wang_qiang@corp.mail.example.com", "wang_qiang@corp.mail.example.com"),
        ("ＺｈａｎｇＷｅｉ＠Ｅｘａｍｐｌｅ．ｃｏｍ", "zhangwei@example.com"),
        (" lina@example.cn ", "lina@example.cn"),
        ("lina@example", None),
        ("@example.com", None),
        ("not an email", None),
    ],
)
def test_email(text: str, expected: str | None) -> None:
    assert normalize_email(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TX202611242103001", "TX202611242103001"),
        ("tx202611242103001", "TX202611242103001"),
        ("TX123", None),
        ("AB202611242103001", None),
    ],
)
def test_transaction_id(text: str, expected: str | None) -> None:
    assert normalize_transaction_id(text) == expected


def test_account_field() -> None:
    aliases = {"手机号": "phone", "收货地址": "address"}
    assert normalize_account_field("手机号", aliases) == "phone"
    assert normalize_account_field("Email", aliases) == "email"  # already canonical
    assert normalize_account_field("身份证", aliases) is None


def test_entity_dispatch() -> None:
    assert normalize_entity("amount", "五百块") == "500.00"
    assert normalize_entity("amount", "很多") is None
    assert normalize_entity("payee", "京东商城") == "京东商城"
    value = normalize_entity("time", "昨天晚上")
    assert isinstance(value, dict) and value["grain"] == "part_of_day"
