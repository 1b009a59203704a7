"""Entities and their canonical values, through the whole trained pipeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

Parse = Callable[[str], dict[str, Any]]


def _values(result: dict[str, Any], entity: str) -> list[Any]:
    return [e["value"] for e in result["entities"] if e["entity"] == entity]


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("我的手机号是138 0013 8000", "phone", "13800138000"),
        ("注册邮箱是LiNa@Example.cn", "email", "lina@example.cn"),
        ("转了五百块没到账", "amount", "500.00"),
        ("付了三十八块五", "amount", "38.50"),
        ("交易号TX202611242103001一直失败", "transaction_id", "TX202611242103001"),
        ("我想改一下收货地址", "account_field", "address"),
        ("换绑手机号码", "account_field", "phone"),
    ],
)
def test_entity_value(parse: Parse, text: str, entity: str, value: str) -> None:
    assert value in _values(parse(text), entity)


def test_time_is_a_range(parse: Parse) -> None:
    [value] = _values(parse("昨天晚上转账失败了"), "time")
    assert set(value) == {"from", "to", "grain"}
    assert value["grain"] == "part_of_day"


def test_no_entity_in_plain_request(parse: Parse) -> None:
    assert parse("我忘记密码了")["entities"] == []


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我忘记密码了", "forgot_password"),
        ("payment failed 了", "transaction_failed"),
        ("客服电话是多少", "contact_support"),
        ("转人工", "request_human"),
        ("我要投诉你们", "complaint"),
        ("手机丢了怎么办", "account_security"),
    ],
)
def test_core_examples(parse: Parse, text: str, intent: str) -> None:
    assert parse(text)["intent"]["name"] == intent
