"""Reading webhook bodies and the secret header (pure functions, known answers)."""

from __future__ import annotations

import json

import pytest

from bot.channels.telegram.updates import (
    ButtonPress,
    GroupMessage,
    Ignored,
    OtherMessage,
    TextMessage,
    UpdateError,
    chat_of,
    parse_body,
    parse_update,
    secret_matches,
    sender_of,
)
from tests.bad_inputs import bad_payloads
from tests.fakes.telegram_updates import SECRET, update

CHAT = 5550001


def test_the_secret_must_match_exactly() -> None:
    assert secret_matches(SECRET, SECRET)
    assert not secret_matches(None, SECRET)
    assert not secret_matches("", SECRET)
    assert not secret_matches(SECRET[:-1], SECRET)
    assert not secret_matches(SECRET + "x", SECRET)
    assert not secret_matches(SECRET.upper(), SECRET)
    assert not secret_matches("密钥\udcff", SECRET)  # undecodable header bytes: no crash
    assert not secret_matches(SECRET, "")  # no secret configured: nothing matches


def test_senders_are_namespaced_and_only_telegram_ones_map_back() -> None:
    assert sender_of(CHAT) == "telegram:5550001"
    assert chat_of("telegram:5550001") == CHAT
    assert chat_of("telegram:-1001234") == -1001234
    for other in (
        "rest:5550001",
        "widget:5550001",
        "5550001",
        "telegram:",
        "telegram:12a",
        "telegram:１２",
        "telegram:1" + "0" * 25,
        "telegram:--1",
    ):
        assert chat_of(other) is None, other


def test_a_private_text_is_a_turn() -> None:
    parsed = parse_update(update("text", CHAT, "我的转账失败了", update_id=7))
    assert parsed == TextMessage(7, CHAT, 101, "我的转账失败了")


def test_nul_characters_are_dropped_from_texts() -> None:
    parsed = parse_update(update("text", CHAT, "你\x00好"))
    assert isinstance(parsed, TextMessage) and parsed.text == "你好"


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "contact", "location", "empty_text"])
def test_private_messages_without_text_get_the_text_only_answer(kind: str) -> None:
    assert isinstance(parse_update(update(kind, CHAT)), OtherMessage)


def test_group_messages_are_not_turns() -> None:
    parsed = parse_update(update("group_text", CHAT, "我的验证码是 246810"))
    assert parsed == GroupMessage(parsed.update_id, -1001234567890)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("edited", "edited_message"),
        ("channel_post", "channel_post"),
        ("my_chat_member", "my_chat_member"),
        ("inline_query", "inline_query"),
        ("no_message", "unknown"),
        ("message_not_object", "malformed_message"),
        ("from_a_bot", "from_a_bot"),
    ],
)
def test_other_updates_are_ignored(kind: str, reason: str) -> None:
    parsed = parse_update(update(kind, CHAT))
    assert isinstance(parsed, Ignored) and parsed.kind == reason


def test_a_button_press_carries_its_chat_and_data() -> None:
    parsed = parse_update(update("callback", CHAT, "AbCdEfGhIjKlMnOp.1", update_id=9))
    assert parsed == ButtonPress(9, "4382bfdwdsb323b2d9", CHAT, "AbCdEfGhIjKlMnOp.1")
    without_message = parse_update(update("callback_without_message", CHAT, "x"))
    assert isinstance(without_message, ButtonPress) and without_message.chat_id == CHAT


def test_a_button_press_in_a_group_is_ignored() -> None:
    body = update("callback", CHAT, "x")
    body["callback_query"]["message"]["chat"] = {"id": -100200, "type": "supergroup"}
    assert isinstance(parse_update(body), Ignored)


@pytest.mark.parametrize(
    "body",
    [
        {"update_id": 1, "message": {"chat": {"id": "5550001", "type": "private"}, "text": "hi"}},
        {"update_id": 1, "message": {"chat": {"id": True, "type": "private"}, "text": "hi"}},
        {"update_id": 1, "message": {"chat": "private", "text": "hi"}},
        {"update_id": 1, "callback_query": {"id": 5, "from": {"id": 1}, "data": "x"}},
        {"update_id": 1, "callback_query": {"id": "q", "from": {"id": "1"}, "data": "x"}},
        {"update_id": 1, "callback_query": "x"},
        {"update_id": 1, "message": {"chat": {"id": 2**70, "type": "private"}, "text": "hi"}},
    ],
)
def test_malformed_parts_are_ignored_not_crashed_on(body: dict[str, object]) -> None:
    assert isinstance(parse_update(body), Ignored)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'{"update_id": 1',
        b"\xff\xfe\xfd",
        '{"update_id": 1, "x": "\udcff"}'.encode("utf-8", "surrogatepass"),
        b'\xef\xbb\xbf{"update_id": 1}',
        b"[" * 200_000,  # deeper than the JSON parser goes (RecursionError)
        b'{"update_id": ' + b"9" * 5000 + b"}",  # more digits than Python converts
    ],
)
def test_bodies_that_are_not_json_are_refused(body: bytes) -> None:
    with pytest.raises(UpdateError) as error:
        parse_body(body)
    assert error.value.code == "invalid_json"


@pytest.mark.parametrize(
    "data",
    [
        [],
        "update",
        42,
        None,
        {},
        {"update_id": "1"},
        {"update_id": True},
        {"update_id": 1.5},
        {"message": {"text": "hi"}},
    ],
)
def test_json_that_is_not_an_update_is_refused(data: object) -> None:
    with pytest.raises(UpdateError) as error:
        parse_body(json.dumps(data).encode())
    assert error.value.code == "invalid_update"


@pytest.mark.parametrize("name", sorted(bad_payloads()))
def test_the_shared_bad_input_corpus_is_refused(name: str) -> None:
    case = bad_payloads()[name]
    raw = case["raw"] if "raw" in case else json.dumps(case["body"])
    body = raw if isinstance(raw, bytes) else str(raw).encode("utf-8")
    with pytest.raises(UpdateError) as error:
        parse_body(body)
    assert error.value.code in ("invalid_json", "invalid_update")
    assert str(error.value) == error.value.code  # nothing of the body in the error
