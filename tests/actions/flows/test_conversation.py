"""Starting a flow clean, a wrong start, an option that does not exist, a clarifying question,
and "谢谢" in the middle of a form (no model, no server)."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.flows.conversation import (
    FLOW_SLOTS,
    ActionAskContinueFlow,
    ActionFlowCancelled,
    ActionRepeatQuestion,
    ActionStartFlow,
    ActionWalletFallback,
)
from actions.flows.hints import flow_messages
from tests.actions.conftest import responses, slots

pytestmark = pytest.mark.anyio

SOLVED_BUTTONS = [{"title": "解决了", "payload": "/affirm"}, {"title": "还没有", "payload": "/deny"}]
SOLVED = "请问这样能解决您的问题吗？"
Buttons = list[dict[str, Any]]


def bot(
    text: str, response: str | None = None, buttons: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "event": "bot",
        "text": text,
        "data": {"buttons": buttons},
        "metadata": {"utter_action": response} if response else {},
    }


def user(
    text: str, intent: str, ranking: list[tuple[str, float]] | None = None, **extra: Any
) -> dict[str, Any]:
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": [],
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking or []],
        **extra,
    }
    return {"event": "user", "text": text, "parse_data": parse}


def make_tracker(events: list[dict[str, Any]], form: str | None = None, **slot_values: Any) -> Tracker:
    latest = next(e["parse_data"] for e in reversed(events) if e["event"] == "user")
    return Tracker(
        "u1",
        slot_values,
        latest,
        events,
        False,
        None,
        {"name": form} if form else {},
        "action_listen",
    )


async def test_a_flow_starts_clean_but_keeps_the_verification(dispatcher: CollectingDispatcher) -> None:
    tracker = make_tracker(
        [user("我要投诉", "complaint")], account_id="U1001", transaction_id="TX1", complaint_category="其他"
    )
    events = await ActionStartFlow().run(dispatcher, tracker, {})
    values = slots(events)
    assert values["transaction_id"] is None and values["complaint_category"] is None
    assert "account_id" not in values and "verified_by" not in values
    assert values["flow_name"] == "投诉登记"
    assert set(FLOW_SLOTS) <= set(values)


async def test_a_wrong_start_says_so_and_offers_the_topics(dispatcher: CollectingDispatcher) -> None:
    events = await ActionFlowCancelled().run(
        dispatcher, make_tracker([user("我不是要投诉", "wrong_topic")]), {}
    )
    assert responses(dispatcher) == ["utter_wrong_topic_cancelled", "utter_topic_menu"]
    assert slots(events)["complaint_category"] is None


async def test_continue_question_names_the_flow(dispatcher: CollectingDispatcher) -> None:
    tracker = make_tracker([user("谢谢", "thank")], form="complaint_form", flow_name="投诉登记")
    await ActionAskContinueFlow().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_ask_continue_flow"
    assert dispatcher.messages[0]["flow_name"] == "投诉登记"


async def test_an_option_that_does_not_exist_asks_the_question_again(
    dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = [
        bot(SOLVED, "utter_ask_solved", SOLVED_BUTTONS),
        user("选9", "invalid_option"),
    ]
    result = await ActionRepeatQuestion().run(dispatcher, make_tracker(events), domain)
    assert dispatcher.messages[0]["response"] == "utter_invalid_option"
    assert dispatcher.messages[0]["option_count"] == 2
    assert result == [{"event": "followup", "timestamp": None, "name": "utter_ask_solved"}]


async def test_a_dynamic_question_is_sent_again_as_it_was(
    dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    buttons = [{"title": "忘记密码", "payload": "/forgot_password"}, {"title": "都不是", "payload": "/deny"}]
    events = [bot("我想确认一下", "utter_clarify_topic", buttons), user("第5个", "invalid_option")]
    await ActionRepeatQuestion().run(dispatcher, make_tracker(events), domain)
    assert dispatcher.messages[1]["buttons"] == buttons and dispatcher.messages[1]["text"] == "我想确认一下"


async def test_no_options_to_choose(dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    events = [bot("请输入验证码", "utter_ask_identity_code"), user("选9", "invalid_option")]
    result = await ActionRepeatQuestion().run(
        dispatcher, make_tracker(events, form="transaction_form"), domain
    )
    assert responses(dispatcher) == ["utter_no_options"] and result == []


async def test_an_ambiguous_first_message_gets_the_two_likeliest_topics(
    dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    ranking = [("nlu_fallback", 0.5), ("forgot_password", 0.41), ("account_security", 0.38), ("greet", 0.1)]
    events = await ActionWalletFallback().run(
        dispatcher, make_tracker([user("登不上去了", "nlu_fallback", ranking)]), domain
    )
    message = dispatcher.messages[0]
    assert message["response"] == "utter_clarify_topic"
    assert [b["payload"] for b in message["buttons"]] == ["/forgot_password", "/account_security", "/deny"]
    assert slots(events)["next_step"] == "clarify"


async def test_a_misunderstood_reply_to_a_question_asks_it_again(
    dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = [
        bot(SOLVED, "utter_ask_solved", SOLVED_BUTTONS),
        user("😀", "nlu_fallback"),
    ]
    result = await ActionWalletFallback().run(dispatcher, make_tracker(events), domain)
    assert responses(dispatcher) == ["utter_not_understood_in_flow"]
    assert {"event": "followup", "timestamp": None, "name": "utter_ask_solved"} in result


def test_flow_messages_start_at_the_flow_and_skip_identity_answers() -> None:
    events = [
        user("之前的问题", "contact_support"),
        user("昨晚给李娜转账失败了", "transaction_failed"),
        {"event": "action", "name": "action_start_flow"},
        user("138****8000", "inform", answer={"kind": "answer", "slot": "identity_contact"}),
        user("是500块那笔", "inform", answer={"kind": "answer", "slot": "transaction_id"}),
    ]
    texts = [m["text"] for m in flow_messages(make_tracker(events))]
    assert texts == ["昨晚给李娜转账失败了", "是500块那笔"]
