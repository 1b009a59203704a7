"""The grammar of personal data: known answers for every kind, offsets, overlaps, values."""

from __future__ import annotations

import pytest

from bot import pii


def _found(text: str) -> list[tuple[str, str, str]]:
    return [(s.kind, text[s.start : s.end], s.value) for s in pii.scan(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13800138000", [("phone", "13800138000", "13800138000")]),
        ("１３８００１３８０００", [("phone", "１３８００１３８０００", "13800138000")]),
        ("打 1380 013 8000", [("phone", "1380 013 8000", "13800138000")]),
        ("13800-138-000。", [("phone", "13800-138-000", "13800138000")]),
        ("138.0013.8000", [("phone", "138.0013.8000", "13800138000")]),
        ("+86 138-0013-8000 收不到", [("phone", "+86 138-0013-8000", "13800138000")]),
        ("008613912345678", [("phone", "008613912345678", "13912345678")]),
        ("（+86）13700001111", [("phone", "（+86）13700001111", "13700001111")]),
        ("手机１３９　１２３４　５６７８", [("phone", "１３９　１２３４　５６７８", "13912345678")]),
        ("138\u200b0013\u200b8000", [("phone", "138\u200b0013\u200b8000", "13800138000")]),
        ("12800138000", []),  # no mobile prefix 12
        ("1380013800", []),  # ten digits
        ("138001380001", []),  # twelve
        ("01380013800", []),  # inside a longer number
    ],
)
def test_phone(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("邮箱ZhangWei@Example.com吧", [("email", "ZhangWei@Example.com", "zhangwei@example.com")]),
        ("zhang.wei+cs@mail.qq.com.", [("email", "zhang.wei+cs@mail.qq.com", "zhang.wei+cs@mail.qq.com")]),
        (
            "wang_qiang@corp.example.com",
            [("email", "wang_qiang@corp.example.com", "wang_qiang@corp.example.com")],
        ),
        ("ｌｉｎａ＠ｅｘａｍｐｌｅ．ｃｎ", [("email", "ｌｉｎａ＠ｅｘａｍｐｌｅ．ｃｎ", "lina@example.cn")]),
        ("13800138000@163.com", [("email", "13800138000@163.com", "13800138000@163.com")]),  # longest wins
        ("lina@example", []),
        ("@example.com", []),
    ],
)
def test_email(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("卡号6222021234567890123", [("card", "6222021234567890123", "6222021234567890123")]),
        ("6222 0212 3456 7890", [("card", "6222 0212 3456 7890", "6222021234567890")]),
        ("6222-0212-3456-7890-123", [("card", "6222-0212-3456-7890-123", "6222021234567890123")]),
        ("身份证110101199003071234", [("id_card", "110101199003071234", "110101199003071234")]),
        ("11010119900307123x", [("id_card", "11010119900307123x", "11010119900307123X")]),
        ("110101 19900307 1234", [("id_card", "110101 19900307 1234", "110101199003071234")]),
        ("622202123456789", []),  # 15 digits: neither
        ("TX202611242103001", []),  # a transaction number
    ],
)
def test_cards_and_id_numbers(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize(
    ("text", "value", "keyed"),
    [
        ("验证码是 482913", "482913", True),
        ("验证码：246 810", "246810", True),
        ("驗證碼 719204", "719204", True),
        ("your code is 582031", "582031", True),
        ("动态码【663920】", "663920", True),
        ("246810", "246810", False),
        ("246 810", "246810", False),
        ("24-68-10", "246810", False),
        ("５８３９１２", "583912", False),
        ("收到了，447120", "447120", False),
        ("13800138000 246810", "246810", False),
    ],
)
def test_code(text: str, value: str, keyed: bool) -> None:
    codes = pii.find(text, "code")
    assert [(c.value, c.keyed) for c in codes] == [(value, keyed)]


@pytest.mark.parametrize(
    "text",
    [
        "转账100000元",
        "付款 ¥246810",
        "金额246810.00",
        "1 246 810 000",
        "TX202611",
        "共 246810 rmb",
        "2468101",
    ],
)
def test_numbers_that_are_not_codes(text: str) -> None:
    assert pii.find(text, "code") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("我的密码是 Abc12345 安全吗", "Abc12345"),
        ("我的密码：abcdef", "abcdef"),
        ("password: hunter2!", "hunter2!"),
        ("pwd=s3cret", "s3cret"),
        ("支付密码123456", "123456"),
        ("验证码是 4829", "4829"),  # not six digits: not a code, still a secret
    ],
)
def test_secret(text: str, value: str) -> None:
    assert [s.value for s in pii.find(text, "secret")] == [value]


@pytest.mark.parametrize(
    "text",
    [
        "password reset please",
        "我忘记密码了",
        "密码是什么",
        "my password is wrong",
        "password!!!",
        "password_reset_form",  # names of the domain are not a keyword and its value
        "utter_invalid_code_format",
        "action_resend_password_reset",
    ],
)
def test_words_after_password_are_not_secrets(text: str) -> None:
    assert pii.scan(text) == []


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("Authorization: Bearer server-test-rest-token", "server-test-rest-token"),
        (
            "t=eyJzdWIiOiJVMTAwMSIsImV4cCI6MTc5MDAwMzYwMH0.ArVzOusGTRlM9T_XjJI9oiJYA_s0s2ucc-Wn1858ucY.",
            "eyJzdWIiOiJVMTAwMSIsImV4cCI6MTc5MDAwMzYwMH0.ArVzOusGTRlM9T_XjJI9oiJYA_s0s2ucc-Wn1858ucY",
        ),
        ("https://x.example/reset?token=Zk3x9QpL2mN8vB7c&a=1", "Zk3x9QpL2mN8vB7c"),
    ],
)
def test_token(text: str, token: str) -> None:
    assert [s.value for s in pii.find(text, "token")] == [token]


def test_identity_tokens_of_bot_identity_are_tokens() -> None:
    from bot.identity import sign_identity

    token = sign_identity("U1001", "secret", now=0)
    assert pii.whole(token, "token") == token
    assert pii.scan("the bearer of this note") == []


def test_a_sealed_value_is_recognized_and_nothing_inside_it() -> None:
    from cryptography.fernet import Fernet

    token = Fernet(Fernet.generate_key()).encrypt(b"sms:13800138000").decode()
    sealed = pii.SEALED_PREFIX + token
    assert pii.is_sealed(sealed)
    assert [s.kind for s in pii.scan(f"slot {sealed} 13800138000")] == ["sealed", "phone"]
    assert not pii.is_sealed(pii.SEALED_PREFIX + "gAAAAA" + "A" * 80)  # not a Fernet token's length
    assert not pii.is_sealed("sms:13800138000") and not pii.is_sealed(None)


def test_offsets_point_into_the_typed_text() -> None:
    text = "号码：１３８ ００１３ ８０００，邮箱ｚ＠ｅｘａｍｐｌｅ．ｃｏｍ"
    spans = pii.scan(text)
    assert [text[s.start : s.end] for s in spans] == [
        "１３８ ００１３ ８０００",
        "ｚ＠ｅｘａｍｐｌｅ．ｃｏｍ",
    ]
    folded, origin = pii.nfkc("ａ\u200bｂ")
    assert folded == "ab" and origin == [0, 2]


def test_whole_text_values() -> None:
    assert pii.phone_value(" +86 138-0013-8000 ") == "13800138000"
    assert pii.phone_value("手机13800138000") is None
    assert pii.email_value("ZhangWei@Example.com") == "zhangwei@example.com"
    assert pii.email_value("13800138000") is None
