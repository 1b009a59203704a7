"""Only an explicit stop ends the wait for a person; the words come from cancel.yml."""

from __future__ import annotations

from typing import Any

import pytest

from bot.handoff.cancel import build_words, is_explicit_cancel, load_words
from tests.bad_inputs import bad_messages

WORDS = load_words()


@pytest.mark.parametrize(
    "text",
    [
        "不用了",
        "不等了",
        "取消转人工",
        "不转人工了",
        "不等了！",
        "算了 不用了",
        "好的，不用了，谢谢",
        "我不等了",
        "那就不用了吧",
        "等太久了，不等了",
        "不等了，我自己打电话",
        "不轉人工了",  # Traditional
        "不等了。。。😤",
        " 不用了 ",
        "/stop",  # the queue notice's button
    ],
)
def test_explicit_stops_cancel(text: str) -> None:
    assert is_explicit_cancel(text, None, WORDS)


@pytest.mark.parametrize(
    "text",
    [
        "不",
        "不是",
        "不是我操作的",
        "不，不是我操作的",
        "不是我转的账",
        "没有",
        "算了",
        "不行",
        "取消",
        "我的银行卡不用了",
        "原来的手机号不用了，想换绑",
        "不用了吗",
        "我没说不用了",
        "还要等多久",
        "/deny",
        "/stop_waiting",
        "",
    ],
)
def test_denials_and_other_messages_do_not_cancel(text: str) -> None:
    assert not is_explicit_cancel(text, None, WORDS)


def test_the_button_chosen_by_number_or_title_cancels() -> None:
    chosen: dict[str, Any] = {"kind": "option", "payload": "/stop", "question": "utter_handoff_queued"}
    assert is_explicit_cancel("1", chosen, WORDS)
    other_question = {**chosen, "question": "utter_ask_continue_flow"}
    assert not is_explicit_cancel("2", other_question, WORDS)
    assert not is_explicit_cancel("1", {"payload": "/deny", "question": "utter_handoff_queued"}, WORDS)
    assert not is_explicit_cancel("1", None, WORDS)


@pytest.mark.parametrize("name", sorted(bad_messages()))
def test_the_bad_input_corpus_never_cancels_and_never_raises(name: str) -> None:
    assert not is_explicit_cancel(bad_messages()[name], None, WORDS)


def test_long_messages_and_non_text_are_not_cancels() -> None:
    assert not is_explicit_cancel("不用了" + "，" * 300, None, WORDS)
    assert not is_explicit_cancel(None, None, WORDS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "data", [{}, {"phrases": ["不等了"]}, {"phrases": [], "button": {"title": "x", "payload": "/x"}}]
)
def test_incomplete_word_files_fail_fast(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        build_words(data)


def test_the_button_is_defined_in_the_data_file() -> None:
    assert (
        WORDS.button == {"title": "不等了", "payload": "/stop"} and WORDS.question == "utter_handoff_queued"
    )
