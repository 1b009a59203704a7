"""The NLU's entities include what the grammar of personal data finds (bot/nlu/entity_merge.py)."""

from __future__ import annotations

from typing import Any

from bot.nlu.entity_merge import GRAMMAR_EXTRACTOR, grammar_entities, normalize_entities


def _e(entity: str, start: int, end: int, value: object = None) -> dict[str, Any]:
    return {"entity": entity, "start": start, "end": end, "value": value, "extractor": "DIETClassifier"}


def _found(text: str, entities: list[dict[str, Any]]) -> list[tuple[str, str, object, str]]:
    result = normalize_entities(text, entities, aliases={})
    return [(e["entity"], text[e["start"] : e["end"]], e["value"], e["extractor"]) for e in result]


def test_a_phone_no_extractor_found_is_added() -> None:
    text = "手机 1380 013 8000，邮箱 ｌｉｎａ＠ｅｘａｍｐｌｅ．ｃｎ"
    assert _found(text, []) == [
        ("phone", "1380 013 8000", "13800138000", GRAMMAR_EXTRACTOR),
        ("email", "ｌｉｎａ＠ｅｘａｍｐｌｅ．ｃｎ", "lina@example.cn", GRAMMAR_EXTRACTOR),
    ]


def test_a_valid_extracted_entity_is_kept() -> None:
    text = "我的手机号是13800138000"
    assert _found(text, [_e("phone", 6, 17, "13800138000")]) == [
        ("phone", "13800138000", "13800138000", "DIETClassifier")
    ]


def test_a_partial_or_wrong_kind_guess_gives_way_to_the_grammar() -> None:
    text = "号码 138.0013.8000"
    partial = [_e("phone", 3, 11, "138.0013")]  # not a phone: dropped, the grammar's span added
    assert _found(text, partial) == [("phone", "138.0013.8000", "13800138000", GRAMMAR_EXTRACTOR)]
    text = "转给13912345678"
    amount = [_e("amount", 2, 13, "13912345678")]  # an "amount" that is a phone number
    assert _found(text, amount) == [("phone", "13912345678", "13912345678", GRAMMAR_EXTRACTOR)]


def test_only_phones_and_emails_become_entities() -> None:
    assert grammar_entities("验证码 246810，卡号6222021234567890123") == []


def test_a_phone_read_out_in_chinese_digits_is_a_phone_not_an_amount() -> None:
    text = "手机号是一三八零零一三八零零零"
    amount = [_e("amount", 4, 15, "13800138000.00")]  # what the amount reader makes of the digits
    assert _found(text, amount) == [("phone", "一三八零零一三八零零零", "13800138000", GRAMMAR_EXTRACTOR)]
