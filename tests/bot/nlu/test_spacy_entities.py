"""Rule-based entities of the spaCy pipeline built from data/patterns and data/dict."""

from pathlib import Path

import pytest
from spacy.language import Language

from bot.nlu.entity_merge import normalize_entities
from bot.nlu.spacy_entities import build_pipeline, field_aliases, read_patterns

PATTERNS = read_patterns(Path("data/patterns"))


@pytest.fixture(scope="module")
def nlp() -> Language:
    return build_pipeline(PATTERNS, sorted(Path("data/dict").glob("*")))


def _entities(nlp: Language, text: str) -> list[tuple[str, str, object]]:
    doc = nlp(text)
    raw = [
        {"entity": s.label_, "start": s.start_char, "end": s.end_char, "value": s.ent_id_ or s.text}
        for s in doc.ents
    ]
    normalized = normalize_entities(text, raw, aliases=field_aliases(PATTERNS))
    return [(e["entity"], text[e["start"] : e["end"]], e["value"]) for e in normalized]


@pytest.mark.parametrize(
    ("text", "span", "value"),
    [
        ("我的手机号是13800138000", "13800138000", "13800138000"),
        ("号码 138 0013 8000 收不到短信", "138 0013 8000", "13800138000"),
        ("手机138-0013-8000", "138-0013-8000", "13800138000"),
        ("+86 13912345678 这个号", "+86 13912345678", "13912345678"),
        ("号码+86 139 1234 5678", "+86 139 1234 5678", "13912345678"),
    ],
)
def test_phone(nlp: Language, text: str, span: str, value: str) -> None:
    assert ("phone", span, value) in _entities(nlp, text)


@pytest.mark.parametrize(
    ("text", "span", "value"),
    [
        ("邮箱是ZhangWei@Example.com", "ZhangWei@Example.com", "zhangwei@example.com"),
        ("发到 zhang.wei@mail.qq.com 吧", "zhang.wei@mail.qq.com", "zhang.wei@mail.qq.com"),
    ],
)
def test_email(nlp: Language, text: str, span: str, value: str) -> None:
    assert ("email", span, value) in _entities(nlp, text)


@pytest.mark.parametrize(
    ("text", "span", "value"),
    [
        ("转了五百块没到账", "五百块", "500.00"),
        ("付款¥88失败", "¥88", "88.00"),
        ("充值1000元扣了钱", "1000元", "1000.00"),
        ("两千五百元的转账", "两千五百元", "2500.00"),
        ("三十八块五的咖啡", "三十八块五", "38.50"),
        ("提现1.5万没到", "1.5万", "15000.00"),
    ],
)
def test_amount(nlp: Language, text: str, span: str, value: str) -> None:
    assert ("amount", span, value) in _entities(nlp, text)


@pytest.mark.parametrize(
    ("text", "span", "grain"),
    [
        ("昨天晚上转账失败", "昨天晚上", "part_of_day"),
        ("前天下午三点付的款", "前天下午三点", "hour"),
        ("11月20号那笔", "11月20号", "day"),
        ("五天前充值的", "五天前", "day"),
        ("上礼拜五付的", "上礼拜五", "day"),
        ("21:03转的", "21:03", "minute"),
        ("刚才付款失败", "刚才", "recent"),
    ],
)
def test_time(nlp: Language, text: str, span: str, grain: str) -> None:
    found = [e for e in _entities(nlp, text) if e[0] == "time"]
    assert [(s, v["grain"]) for _, s, v in found] == [(span, grain)]  # type: ignore[index]


def test_transaction_id(nlp: Language) -> None:
    assert ("transaction_id", "tx202611242103001", "TX202611242103001") in _entities(
        nlp, "交易号tx202611242103001查一下"
    )


@pytest.mark.parametrize(
    ("text", "span", "value"),
    [
        ("我想换绑手机号码", "手机号码", "phone"),
        ("修改一下邮箱", "邮箱", "email"),
        ("昵称能改吗", "昵称", "nickname"),
        ("收货地址填错了", "收货地址", "address"),
        ("update my Email", "Email", "email"),
    ],
)
def test_account_field(nlp: Language, text: str, span: str, value: str) -> None:
    assert ("account_field", span, value) in _entities(nlp, text)


@pytest.mark.parametrize("text", ["我们一块去吃饭", "密码忘了", "你好", "", "😀😀", "转人工"])
def test_no_false_entities(nlp: Language, text: str) -> None:
    assert [e for e in _entities(nlp, text) if e[0] != "account_field"] == []
