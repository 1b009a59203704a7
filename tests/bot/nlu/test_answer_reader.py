"""The trained model reads replies in the context of the bot's question (the AnswerReader
graph component gets the conversation's tracker from Rasa)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.model

Parse = Callable[[str, str], dict[str, Any]]


def _intent(parse: dict[str, Any]) -> str:
    return str(parse["intent"]["name"])


@pytest.mark.parametrize(
    ("question", "text", "intent"),
    [
        ("ask_solved", "解决了", "affirm"),
        ("ask_solved", "还没有", "deny"),
        ("ask_solved", "好了好了", "affirm"),
        ("confirm_update", "确认修改", "affirm"),
        ("offer_human", "算了", "deny"),
        ("reset_received", "没收到", "not_received"),
        ("greet_topics", "2", "transaction_failed"),
    ],
)
def test_typed_button_titles_and_numbers_mean_the_button(
    parse_reply: Parse, question: str, text: str, intent: str
) -> None:
    result = parse_reply(question, text)
    assert _intent(result) == intent and result["answer"]["kind"] == "option"


def test_a_category_typed_in_the_complaint_form_is_the_category_not_a_new_complaint(
    parse_reply: Parse,
) -> None:
    result = parse_reply("complaint_category", "服务态度")
    assert _intent(result) == "inform"
    assert {"entity": "complaint_category", "value": "服务态度"}.items() <= result["entities"][0].items()


def test_an_answer_to_a_slot_is_inform_and_keeps_the_classifier_view(parse_reply: Parse) -> None:
    result = parse_reply("complaint_description", "客服态度很差，还挂了我的电话")
    assert _intent(result) == "inform"
    assert result["answer"] == {
        **result["answer"],
        "kind": "answer",
        "slot": "complaint_description",
    }
    assert result["answer"]["nlu_intent"] != "inform"


def test_without_a_question_the_classifier_decides(parse: Callable[[str], dict[str, Any]]) -> None:
    result = parse("解决了")
    assert "answer" not in result


def test_the_user_script_is_recorded(parse_reply: Parse, parse: Callable[[str], dict[str, Any]]) -> None:
    assert parse("我忘記密碼了")["script"] == "hant"
    assert parse("我忘记密码了")["script"] == "hans"
    assert parse_reply("ask_solved", "1")["script"] == "hans"
