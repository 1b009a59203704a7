"""Chinese and Arabic numerals and money amounts (五百块 → 500.00)."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "壹": 1,
    "二": 2,
    "贰": 2,
    "两": 2,
    "三": 3,
    "叁": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
CHINESE_NUMERAL_CHARS = "".join([*_DIGITS, *_UNITS, *_BIG_UNITS])

_MAX_AMOUNT = Decimal("1000000000")
_CENT = Decimal("0.01")
_ARABIC_WITH_UNITS = re.compile(r"^(\d+(?:\.\d+)?)([十百千万亿萬億]*)$")
_CURRENCY_PREFIX = re.compile(r"^(?:¥|￥|rmb|cny|人民币)\s*", re.IGNORECASE)
_CURRENCY_SUFFIX = re.compile(r"\s*(?:rmb|cny|人民币|元人民币)$", re.IGNORECASE)
_DIGIT = rf"[{''.join(_DIGITS)}\d]"
_YUAN_JIAO_FEN = re.compile(
    rf"^(?P<yuan>.*?)(?:块钱?|元|圆|塊錢?|块人民币)"
    rf"(?:(?P<jiao>{_DIGIT})(?:毛|角)?(?:(?P<fen>{_DIGIT})分?)?)?钱?$"
)
_JIAO_ONLY = re.compile(rf"^(?P<jiao>{_DIGIT})(?:毛|角)钱?(?:(?P<fen>{_DIGIT})分?)?$")


def chinese_to_int(text: str) -> int:
    """Convert a Chinese numeral to an integer.

    Handles the colloquial forms users type (一千二 = 1200, 三万五 = 35000,
    十八 = 18, 一百零五 = 105) and digit sequences (一二三 = 123).

    Raises:
        ValueError: if the text is not a Chinese numeral.
    """
    if not text:
        raise ValueError("empty numeral")
    if len(text) > 1 and all(ch in _DIGITS for ch in text):
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total = section = number = 0
    last_unit = 1
    zero_seen = False
    for ch in text:
        if ch in _DIGITS:
            number = _DIGITS[ch]
            zero_seen = zero_seen or number == 0
        elif ch in _UNITS:
            unit = _UNITS[ch]
            if number == 0 and unit == 10:
                number = 1  # 十八 = 18
            section += number * unit
            number, last_unit, zero_seen = 0, unit, False
        elif ch in _BIG_UNITS:
            section += number
            total += (section or 1) * _BIG_UNITS[ch]
            section, number, last_unit, zero_seen = 0, 0, _BIG_UNITS[ch], False
        else:
            raise ValueError(f"not a Chinese numeral character: {ch!r}")
    if number and not zero_seen and last_unit >= 100:
        number *= last_unit // 10  # 一千二 = 1200, 三万五 = 35000
    return total + section + number


def parse_number(text: str) -> Decimal | None:
    """Parse a number written in Arabic digits, Chinese numerals or a mix (1.5万)."""
    text = unicodedata.normalize("NFKC", text).replace(",", "").strip()
    if not text:
        return None
    match = _ARABIC_WITH_UNITS.match(text)
    if match:
        value = Decimal(match.group(1))
        for unit in match.group(2):
            value *= _UNITS.get(unit) or _BIG_UNITS[unit]
        return value
    try:
        return Decimal(chinese_to_int(text))
    except ValueError:
        pass
    if "点" in text:  # 三点五万 is rare; 三点五 = 3.5
        whole, _, frac = text.partition("点")
        if whole and frac and all(ch in _DIGITS for ch in frac):
            try:
                fraction = "".join(str(_DIGITS[ch]) for ch in frac)
                return Decimal(f"{chinese_to_int(whole)}.{fraction}")
            except (ValueError, InvalidOperation):
                return None
    return None


def _digit(text: str | None) -> Decimal:
    if not text:
        return Decimal(0)
    return Decimal(_DIGITS[text]) if text in _DIGITS else Decimal(text)


def parse_amount(text: str) -> Decimal | None:
    """Parse a money amount in yuan, rounded to the cent.

    Accepts ¥88, 88.00元, 五百块, 两千五, 1.5万, 三十八块五 (38.50), 五毛 (0.50).
    Returns None when the text is not an amount or is out of range.
    """
    text = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    text = _CURRENCY_SUFFIX.sub("", _CURRENCY_PREFIX.sub("", text))
    if not text:
        return None
    value: Decimal | None
    match = _YUAN_JIAO_FEN.match(text)
    jiao_only = _JIAO_ONLY.match(text)
    if match:
        value = parse_number(match.group("yuan"))
        if value is None:
            return None
        value += _digit(match.group("jiao")) / 10 + _digit(match.group("fen")) / 100
    elif jiao_only:
        value = _digit(jiao_only.group("jiao")) / 10 + _digit(jiao_only.group("fen")) / 100
    else:
        value = parse_number(text)
    if value is None or value < 0 or value >= _MAX_AMOUNT:
        return None
    return value.quantize(_CENT)


def format_amount(value: Decimal) -> str:
    """Canonical text of an amount: two decimals, no grouping (500.00)."""
    return f"{value.quantize(_CENT):.2f}"
