"""Splitting texts at Telegram's 4096 characters (UTF-16 code units)."""

from __future__ import annotations

import pytest

from bot.channels.telegram.splitting import MAX_UNITS, split_text, units


def _same_text(pieces: list[str], text: str) -> bool:
    return "".join(pieces).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")


def test_a_short_text_is_one_piece() -> None:
    assert split_text("  您好，请问有什么可以帮您？ \n") == ["您好，请问有什么可以帮您？"]
    assert split_text("") == [] and split_text(" \n ") == []


def test_units_count_astral_characters_twice() -> None:
    assert units("你好") == 2 and units("😀") == 2 and units("a😀b") == 4


def test_long_chinese_is_cut_after_a_sentence_within_the_limit() -> None:
    text = "我的转账失败了，钱被扣了但是对方没收到。" * 400  # 8000 characters
    pieces = split_text(text)
    assert len(pieces) == 2
    assert all(units(p) <= MAX_UNITS for p in pieces)
    assert pieces[0].endswith("。")
    assert "".join(pieces) == text


def test_paragraphs_are_preferred_to_sentences() -> None:
    first, second = "第一段。" * 900, "第二段。" * 900
    pieces = split_text(f"{first}\n\n{second}")
    assert pieces == [first, second]


def test_emoji_are_measured_in_utf16_and_never_cut_in_half() -> None:
    text = "😀" * 3000  # 6000 units, no break anywhere
    pieces = split_text(text)
    assert [units(p) for p in pieces] == [4096, 1904]
    assert "".join(pieces) == text


def test_a_text_without_breaks_is_cut_hard() -> None:
    text = "a" * 10000
    pieces = split_text(text)
    assert [len(p) for p in pieces] == [4096, 4096, 1808]


@pytest.mark.parametrize("limit", [2, 5, 17, 100])
def test_every_piece_fits_whatever_the_limit(limit: int) -> None:
    text = "转账 失败😀了。\n新的一行 " * 50
    pieces = split_text(text, limit)
    assert all(0 < units(p) <= limit for p in pieces)
    assert _same_text(pieces, text)


def test_a_break_near_the_start_does_not_make_a_tiny_piece() -> None:
    text = "短。" + "长" * 5000
    pieces = split_text(text)
    assert units(pieces[0]) == MAX_UNITS
