from bot.nlu.entity_merge import merge_entities, normalize_entities


def _e(entity: str, start: int, end: int, value: object = None, extractor: str = "x") -> dict:
    return {"entity": entity, "start": start, "end": end, "value": value, "extractor": extractor}


def test_rules_win_on_overlap_and_others_are_kept() -> None:
    rules = [_e("amount", 3, 7, extractor="rules")]
    diet = [_e("amount", 4, 7, extractor="diet"), _e("time", 0, 2, extractor="diet")]
    merged = merge_entities(rules, diet)
    assert [(e["entity"], e["extractor"]) for e in merged] == [("time", "diet"), ("amount", "rules")]


def test_normalize_reads_surface_text_and_drops_invalid_values() -> None:
    text = "昨天转了五百块给13800138000"
    entities = [
        _e("time", 0, 2, "昨天"),
        _e("amount", 4, 7, "五百块"),
        _e("phone", 8, 19, "13800138000"),
        _e("phone", 3, 4, "了"),  # a bad statistical guess
    ]
    result = normalize_entities(text, entities, aliases={})
    values = {e["entity"]: e["value"] for e in result}
    assert values["amount"] == "500.00"
    assert values["phone"] == "13800138000"
    assert values["time"]["grain"] == "day"
    assert len(result) == 3


def test_account_field_uses_synonym_value_or_surface() -> None:
    text = "我要改手机号码"
    mapped = normalize_entities(text, [_e("account_field", 3, 7, "phone")], aliases={})
    assert mapped[0]["value"] == "phone"
    by_alias = normalize_entities(
        text, [_e("account_field", 3, 7, "手机号码")], aliases={"手机号码": "phone"}
    )
    assert by_alias[0]["value"] == "phone"
