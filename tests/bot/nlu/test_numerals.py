from decimal import Decimal

import pytest

from bot.nlu.numerals import chinese_to_int, format_amount, parse_amount, parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("五", 5),
        ("十", 10),
        ("十八", 18),
        ("二十", 20),
        ("一百零五", 105),
        ("一百五", 150),
        ("一千二", 1200),
        ("两千五百", 2500),
        ("三万五", 35000),
        ("一万零八百", 10800),
        ("一二三", 123),
        ("壹佰", 100),
        ("一亿", 100_000_000),
    ],
)
def test_chinese_numerals(text: str, expected: int) -> None:
    assert chinese_to_int(text) == expected


@pytest.mark.parametrize("text", ["", "五a", "块"])
def test_not_a_numeral(text: str) -> None:
    with pytest.raises(ValueError):
        chinese_to_int(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("五百块", "500.00"),
        ("500元", "500.00"),
        ("¥88", "88.00"),
        ("￥ 88", "88.00"),
        ("88.00元", "88.00"),
        ("RMB500", "500.00"),
        ("两千五", "2500.00"),
        ("1.5万", "15000.00"),
        ("三十八块五", "38.50"),
        ("两块三毛五", "2.35"),
        ("五毛", "0.50"),
        ("一块钱", "1.00"),
        ("100块钱", "100.00"),
        ("2,000元", "2000.00"),
        ("１２０元", "120.00"),  # full-width digits
        ("一万块", "10000.00"),
    ],
)
def test_amounts(text: str, expected: str) -> None:
    value = parse_amount(text)
    assert value is not None
    assert format_amount(value) == expected


@pytest.mark.parametrize("text", ["", "abc", "块钱", "很多钱", "一百亿亿元"])
def test_not_an_amount(text: str) -> None:
    assert parse_amount(text) is None


def test_parse_number_mixed() -> None:
    assert parse_number("3千") == Decimal(3000)
    assert parse_number("三点五") == Decimal("3.5")
    assert parse_number("") is None
