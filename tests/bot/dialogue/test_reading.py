"""Typed replies read against the question the bot asked (pure: no model, no server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.dialogue.lexicon import load_lexicon, normalize
from bot.dialogue.questions import Question, options_of
from bot.dialogue.reading import Nlu, Reading, mentioned_option, read_reply

DOMAIN = yaml.safe_load(Path("domain.yml").read_text(encoding="utf-8"))
LEXICON = load_lexicon()
TRANSACTIONS = [
    {"title": "11月30日 21:03 转账 500.00 元 · 李娜", "payload": '/inform{"transaction_id":"TX1"}'},
    {"title": "11月29日 14:20 付款 2000.00 元 · 京东商城", "payload": '/inform{"transaction_id":"TX2"}'},
    {"title": "11月27日 12:41 付款 88.00 元 · 美团外卖", "payload": '/inform{"transaction_id":"TX4"}'},
]


def buttons_of(response: str) -> list[dict[str, Any]]:
    """A response's buttons as the bot sends them (template braces undoubled)."""
    buttons = DOMAIN["responses"][response][0].get("buttons") or []
    return [{**b, "payload": b["payload"].replace("{{", "{").replace("}}", "}")} for b in buttons]


def ask(response: str, form: str | None = None, slot: str | None = None, **slots: Any) -> Question:
    buttons = slots.pop("buttons", None)
    return Question(response, options_of(buttons or buttons_of(response)), form, slot, slots)


def read(text: str, question: Question, intent: str | None = None, **entities: Any) -> Reading:
    found = tuple({"entity": k, "value": v} for k, v in entities.items())
    return read_reply(text, question, Nlu(intent, found), LEXICON)


SOLVED = ask("utter_ask_solved")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("解决了", "affirm"),
        ("解決了", "affirm"),
        ("好了", "affirm"),
        ("可以了", "affirm"),
        ("没问题了", "affirm"),
        ("好的谢谢", "affirm"),
        ("还没有", "deny"),
        ("没解决", "deny"),
        ("还是不行", "deny"),
        ("還是不行", "deny"),
        ("还没有，钱还是没到账", "deny"),
        ("1", "affirm"),
        ("２", "deny"),
        ("第二个", "deny"),
        ("选1", "affirm"),
    ],
)
def test_solved_question_is_answered_whatever_the_classifier_says(text: str, intent: str) -> None:
    reading = read(text, SOLVED, "complaint")  # the classifier's wrong guess never decides
    assert reading.kind == "option" and reading.intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我要转人工", "request_human"),
        ("算了", "stop"),
        ("搞错了", "wrong_topic"),
        ("不是这个", "wrong_topic"),
    ],
)
def test_what_is_not_an_answer_goes_to_its_intent(text: str, intent: str) -> None:
    reading = read(text, SOLVED, "deny")
    assert reading.kind == "other" and reading.intent == intent


def test_a_new_problem_is_left_to_the_classifier() -> None:
    assert read("我的手机丢了，账户会不会被盗", SOLVED, "account_security").kind == "none"


@pytest.mark.parametrize("text", ["选9", "第七个", "3", "0"])
def test_option_numbers_out_of_range_are_refused(text: str) -> None:
    reading = read(text, SOLVED, "inform")
    assert reading.kind == "invalid_option" and reading.intent == "invalid_option"


@pytest.mark.parametrize(
    ("response", "text", "payload"),
    [
        ("utter_offer_human", "算了", "/deny"),
        ("utter_offer_human", "好", "/request_human"),
        ("utter_offer_human", "转人工吧", "/request_human"),
        ("utter_ask_confirm_update", "确认修改", "/affirm"),
        ("utter_ask_confirm_update", "不改了", "/deny"),
        ("utter_ask_confirm_update", "是的没错", "/affirm"),
        ("utter_ask_freeze_confirm", "马上冻结", "/affirm"),
        ("utter_ask_freeze_confirm", "先不冻结，我再想想", "/deny"),
        ("utter_ask_reset_received", "收到了", "/affirm"),
        ("utter_ask_reset_received", "没有", "/not_received"),
        ("utter_reset_not_received", "再发一次", "/affirm"),
        ("utter_reset_not_received", "不用了", "/deny"),
        ("utter_ask_continue_flow", "继续", "/affirm"),
        ("utter_ask_continue_flow", "不用了", "/stop"),
        ("utter_ask_complaint_category", "服务态度", '/inform{"complaint_category":"服务态度"}'),
        ("utter_ask_complaint_category", "态度太差了", '/inform{"complaint_category":"服务态度"}'),
        ("utter_ask_complaint_category", "5", '/inform{"complaint_category":"其他"}'),
        ("utter_ask_account_field", "邮箱", '/inform{"account_field":"email"}'),
        ("utter_ask_account_field", "电话号码", '/inform{"account_field":"phone"}'),
        ("utter_ask_account_field", "第四个", '/inform{"account_field":"address"}'),
    ],
)
def test_each_question_reads_its_own_words(response: str, text: str, payload: str) -> None:
    reading = read(text, ask(response), None)
    assert reading.kind == "option" and reading.payload == payload


def test_option_entities_come_from_the_payload() -> None:
    reading = read("邮箱吧", ask("utter_ask_account_field"))
    assert reading.entities == {"account_field": "email"}


@pytest.mark.parametrize(
    ("text", "amount", "transaction"),
    [("李娜那笔", None, "TX1"), ("500的那个", 500, "TX1"), ("京东的", None, "TX2"), ("88块那笔", 88, "TX4")],
)
def test_a_transaction_is_picked_by_what_the_user_remembers(text: str, amount: Any, transaction: str) -> None:
    question = ask("utter_ask_transaction_id", "transaction_form", "transaction_id", buttons=TRANSACTIONS)
    entities = {"amount": f"{amount}.00"} if amount else {}
    reading = read(text, question, "inform", **entities)
    assert reading.kind == "option" and reading.entities == {"transaction_id": transaction}


def test_88_at_a_list_of_transactions_is_an_amount_not_option_88() -> None:
    question = ask("utter_ask_transaction_id", "transaction_form", "transaction_id", buttons=TRANSACTIONS)
    assert read("88", question, "inform").entities == {"transaction_id": "TX4"}


@pytest.mark.parametrize(
    ("slot", "text", "intent", "kind"),
    [
        ("identity_code", "246810", "inform", "answer"),
        ("identity_code", "246 810", "nlu_fallback", "answer"),
        ("identity_code", "没收到", "not_received", "other"),
        ("identity_contact", "13800138000", "transaction_failed", "answer"),
        ("identity_contact", "１３８ ００１３ ８０００", "inform", "answer"),
        ("complaint_description", "客服态度很差，还挂了我的电话", "complaint", "answer"),
        ("complaint_description", "转账失败了三次你们也不管", "transaction_failed", "answer"),
        ("complaint_description", "谢谢", "thank", "none"),
        ("new_value", "小娜娜", "greet", "answer"),
        ("complaint_description", "我不是要投诉", "complaint", "other"),
        ("complaint_description", "你们客服电话多少？", "contact_support", "none"),
        ("complaint_time", "不记得了", "deny", "answer"),
    ],
)
def test_a_slot_question_takes_values_and_leaves_the_rest(
    slot: str, text: str, intent: str, kind: str
) -> None:
    form = "complaint_form" if slot.startswith("complaint") else "transaction_form"
    question = Question("utter_ask_" + slot, (), form, slot, {"account_field": "nickname"})
    assert read(text, question, intent).kind == kind


def test_a_correction_with_the_right_topic_starts_that_topic() -> None:
    question = Question("utter_ask_complaint_description", (), "complaint_form", "complaint_description", {})
    reading = read("我不是要投诉，是转账失败了", question, "transaction_failed")
    assert reading.kind == "other" and reading.intent == "transaction_failed"


def test_a_correction_is_read_even_when_nothing_was_asked() -> None:
    assert read("不是这个", Question(), "deny").intent == "wrong_topic"
    assert read("解决了", Question(), "complaint").kind == "none"  # no question: the classifier decides


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "？？？"])
def test_content_free_replies_are_left_to_the_fallback(text: str) -> None:
    assert read(text, SOLVED, "nlu_fallback").kind == "none"


def test_a_long_paste_to_a_choice_is_not_understood_rather_than_a_new_topic() -> None:
    reading = read("我想说一下" * 200, SOLVED, "complaint")
    assert reading.kind == "other" and reading.intent == "nlu_fallback"
    free = Question("utter_ask_complaint_description", (), "complaint_form", "complaint_description", {})
    assert read("我想说一下" * 200, free, "complaint").kind == "answer"  # a long description is an answer


def test_rating_reads_scores_and_words() -> None:
    buttons = [{"title": f"{n} 分", "payload": f'/rate_service{{"satisfaction":"{n}"}}'} for n in range(1, 6)]
    question = Question(None, options_of(buttons))
    assert read("4分", question).entities == {"satisfaction": "4"}
    assert read("四分", question).entities == {"satisfaction": "4"}
    assert read("5", question).entities == {"satisfaction": "5"}
    assert read("非常满意", question).entities == {"satisfaction": "5"}
    assert read("10分", question).kind in ("invalid_option", "none")


def test_a_first_message_names_its_complaint_category() -> None:
    question = ask("utter_ask_complaint_category")
    assert mentioned_option("我要投诉，客服态度太差还挂我电话", question, LEXICON).entities == {  # type: ignore[union-attr]
        "complaint_category": "服务态度"
    }
    assert mentioned_option("我要投诉", question, LEXICON) is None


def test_normalize_folds_width_script_case_and_punctuation() -> None:
    assert normalize("解決了！！") == "解决了"
    assert normalize(" ＯＫ ") == "ok"


@pytest.mark.parametrize("text", ["嗯……這個 ok 😅 ¿qué? مرحبا 那个", "这个", "那个吧"])
def test_chatter_never_confirms_a_change(text: str) -> None:
    reading = read(text, ask("utter_ask_confirm_update", "update_form", "confirm_update"), "stop")
    assert reading.kind != "option"


def test_the_classifier_alone_never_ends_a_flow() -> None:
    question = Question("utter_ask_identity_code", (), "transaction_form", "identity_code", {})
    assert read("嗯……這個 ok 😅", question, "stop").intent == "nlu_fallback"
    assert read("不想弄了", question, "stop").intent == "stop"  # the words of leaving do


@pytest.mark.parametrize("intent", ["affirm", "deny"])
def test_the_classifier_alone_never_picks_a_yes_or_a_no(intent: str) -> None:
    """Chatter that merely contains "ok" is not "解决了", whatever the classifier says."""
    reading = read("嗯……這個 ok 😅 ¿qué? مرحبا 那个", SOLVED, intent)
    assert reading.kind == "other" and reading.intent == "nlu_fallback"
    assert read("可以了，谢谢", SOLVED, intent).payload == "/affirm"  # its own words do


@pytest.mark.parametrize(
    ("field", "text", "intent", "kind"),
    [
        # the classifier's guess on a name it does not know
        ("nickname", "钱包小能手", "request_human", "answer"),
        ("nickname", "叫我 Ada_Lee 就好", "greet", "answer"),
        ("nickname", "我转账一直失败怎么办", "transaction_failed", "none"),  # a new problem, not a name
        ("address", "我的账号好像被人盗了", "account_security", "none"),
        ("address", "上海市浦东新区世纪大道100号", "update_account_info", "answer"),  # the form's own topic
        ("address", "你是真人还是机器人", "bot_challenge", "none"),
    ],
)
def test_a_value_in_words_is_never_another_problem(field: str, text: str, intent: str, kind: str) -> None:
    question = Question("utter_ask_new_value", (), "update_form", "new_value", {"account_field": field})
    assert read(text, question, intent).kind == kind


def test_a_time_question_leaves_a_new_problem_to_the_classifier() -> None:
    question = Question("utter_ask_complaint_time", (), "complaint_form", "complaint_time", {})
    assert read("我账户被盗了，帮我冻结一下", question, "account_security").kind == "none"
    assert read("大概是月初的时候", question, "complaint").kind == "answer"


@pytest.mark.parametrize("text", ["算了，不重置了", "算了不改了", "算了 不冻结了"])
def test_leaving_words_lead_a_longer_reply(text: str) -> None:
    question = Question("utter_ask_reset_contact", (), "password_reset_form", "reset_contact", {})
    reading = read(text, question, "stop")
    assert (reading.kind, reading.intent) == ("other", "stop")


def test_not_received_inside_a_problem_is_that_problem() -> None:
    offer = ask("utter_contact_support")
    assert read("付款失败了，商家说没收到钱", offer, "transaction_failed").kind == "none"
    code = Question("utter_ask_identity_code", (), "password_reset_form", "identity_code", {})
    assert read("验证码还没收到呢", code, "not_received").intent == "not_received"


def test_a_score_out_of_range_is_refused() -> None:
    buttons = [{"title": f"{n} 分", "payload": f'/rate_service{{"satisfaction":"{n}"}}'} for n in range(1, 6)]
    question = Question(None, options_of(buttons))
    assert read("7分", question, "rate_service").kind == "invalid_option"
    assert read("3分", question, "rate_service").entities == {"satisfaction": "3"}


def test_a_reply_that_opens_another_matter_is_left_to_the_classifier() -> None:
    form, slot = "complaint_form", "complaint_description"
    description = Question("utter_ask_complaint_description", (), form, slot, {})
    assert read("我又遇到个问题，支付密码忘了", description, "forgot_password").kind == "none"
    assert read("还有个问题", description, "contact_support").kind == "answer"  # nothing said after it
    assert read("客服说还有个问题要核实，就不管了", description, "complaint").kind == "answer"


def test_a_question_s_own_words_for_a_no_without_a_button() -> None:
    resend = ask("utter_reset_not_received")  # buttons 重新发送 and 转人工: no button for "no"
    reading = read("不用重发了", resend, "deny")
    assert (reading.intent, reading.option) == ("deny", None)
    assert read("重发吧", resend, "affirm").option == 1


@pytest.mark.parametrize(
    ("text", "option"),
    [("快帮我冻上，我怕钱被转走", 1), ("先别冻，我再想想", 2), ("我不想冻结，还是先等等", None)],
)
def test_an_option_named_in_a_short_first_clause(text: str, option: int | None) -> None:
    question = ask("utter_ask_freeze_confirm", "security_form", "freeze_confirm")
    reading = read(text, question, "account_security")
    assert reading.option == option


@pytest.mark.parametrize(
    ("text", "transaction"),
    [
        ("29号那笔", "TX2"),
        ("11月27那个", "TX4"),
        ("11/27 中午那个", "TX4"),
        ("是30日晚上的", "TX1"),
        ("付款给京东那笔", "TX2"),
    ],
)
def test_a_transaction_is_picked_by_its_day_or_its_kind(text: str, transaction: str) -> None:
    question = ask("utter_ask_transaction_id", "transaction_form", "transaction_id", buttons=TRANSACTIONS)
    reading = read(text, question, "inform")
    assert reading.kind == "option" and reading.entities == {"transaction_id": transaction}
    # a kind two transactions share picks neither
    assert read("付款那笔", question, "inform").kind != "option"


@pytest.mark.parametrize(
    ("text", "payload"),
    [("2…不对，是第一个", "/affirm"), ("选1 哦不 选2", "/deny"), ("解决了，不对不对，还没有", "/deny")],
)
def test_a_change_of_mind_in_one_reply_counts_the_last_choice(text: str, payload: str) -> None:
    reading = read(text, SOLVED, "affirm")
    assert reading.kind == "option" and reading.payload == payload


def test_a_bare_correction_is_not_a_change_of_mind() -> None:
    assert read("不对", SOLVED, "deny").payload == "/deny"


@pytest.mark.parametrize("text", ["木有", "还木有", "没得"])
def test_colloquial_no(text: str) -> None:
    assert read(text, SOLVED, "not_received").payload == "/deny"


def test_a_description_quoting_a_wrong_answer_is_the_description() -> None:
    question = ask("utter_ask_complaint_description", "complaint_form", "complaint_description")
    long = read("我问了好几遍，客服每次都答非所问", question, "wrong_topic")
    assert long.kind == "answer"
    assert read("答非所问", question, "wrong_topic").intent == "wrong_topic"
    category = ask("utter_ask_complaint_category", "complaint_form", "complaint_category")
    switch = read("搞错了，不是投诉，是转账失败了", category, "transaction_failed")
    assert switch.kind == "other" and switch.intent == "transaction_failed"


def test_wanting_to_go_no_further_stops_a_form() -> None:
    question = ask("utter_ask_complaint_time", "complaint_form", "complaint_time")
    assert read("这个我真的不想继续了", question, "inform").intent == "stop"


def test_every_word_of_the_lexicon_is_text() -> None:
    """YAML reads a bare yes, no, y, n or 88 as a boolean or a number: such a word never matched."""
    raw = yaml.safe_load(Path("bot/dialogue/answers.yml").read_text(encoding="utf-8"))

    def lists(value: Any) -> list[list[Any]]:
        if isinstance(value, dict):
            return [found for v in value.values() for found in lists(v)]
        return [value] if isinstance(value, list) else []

    words = [w for found in lists({k: v for k, v in raw.items() if k != "yes_no"}) for w in found]
    assert words and all(isinstance(w, str) for w in words)
    assert {"yes", "y"} <= set(LEXICON.yes) and {"no", "n"} <= set(LEXICON.no)


@pytest.mark.parametrize(("text", "payload"), [("no", "/deny"), ("No thanks", "/deny"), ("yes", "/affirm")])
def test_english_yes_and_no(text: str, payload: str) -> None:
    question = ask("utter_ask_confirm_update", "update_form", "confirm_update")
    assert read(text, question, "inform").payload == payload


@pytest.mark.parametrize("text", ["应该是第二个吧", "好像是第二个", "第二个吧应该", "呃 應該是第二個"])
def test_a_hedged_option_number(text: str) -> None:
    assert read(text, SOLVED, "inform").payload == "/deny"


@pytest.mark.parametrize(("text", "score"), [("⭐⭐⭐⭐⭐", "5"), ("★★★", "3"), ("⭐️⭐️", "2")])
def test_a_rating_typed_as_stars(text: str, score: str) -> None:
    buttons = [{"title": f"{n} 分", "payload": f'/rate_service{{"satisfaction":"{n}"}}'} for n in range(1, 6)]
    reading = read(text, ask("utter_rating", buttons=buttons), "nlu_fallback")
    assert reading.kind == "option" and reading.entities == {"satisfaction": score}


@pytest.mark.parametrize("text", ["好吧 拜拜", "好的，再见", "嗯嗯 bye"])
def test_a_goodbye_after_a_short_acknowledgement_leaves(text: str) -> None:
    """The last clause leaves when only an acknowledgement leads it; a request before it does not."""
    topics = ask("utter_out_of_scope")
    assert read(text, topics, "goodbye").intent == "goodbye"
    assert read("帮我看看那个转账怎么回事 拜拜", topics, "goodbye").intent != "goodbye"


def test_an_option_s_whole_title_anywhere_beats_a_loose_word_of_another() -> None:
    categories = ask("utter_ask_complaint_category", "complaint_form", "complaint_category")
    picked = read("转账失败了没人处理，这个算交易问题吧", categories, "complaint")
    assert picked.payload == '/inform{"complaint_category":"交易问题"}'
    denied = read("等了三天没人处理我的转账，不是交易问题是处理时效", categories, "complaint")
    assert denied.payload == '/inform{"complaint_category":"处理时效"}'


def test_a_description_of_what_an_agent_did_is_a_description() -> None:
    """The classifier's request_human on a long description does not refuse it; words asking for a
    person still do."""
    description = ask("utter_ask_complaint_description", "complaint_form", "complaint_description")
    told = read("问了好几遍退款的事 她直接把我对话关了", description, "request_human")
    assert (told.kind, told.how) == ("answer", "free")
    assert read("给我转人工，不想描述了", description, "request_human").intent == "request_human"
    assert not read("找个真人", description, "request_human").is_answer


def test_a_category_told_in_a_sentence_is_the_one_it_names() -> None:
    categories = ask("utter_ask_complaint_category", "complaint_form", "complaint_category")
    told = read("一个问题拖了两个星期都没人管", categories, "complaint")
    assert told.payload == '/inform{"complaint_category":"处理时效"}'
    # two categories named: the words are the answer, as typed
    both = read("转账拖了三天都没到账", categories, "complaint")
    assert (both.kind, both.payload) == ("answer", None)


@pytest.mark.parametrize(
    ("field", "text", "intent", "kind"),
    [
        ("nickname", "追风少年2026", "goodbye", "answer"),  # the classifier's guess on unknown words
        ("address", "广东省深圳市南山区科技园南区18栋1201", "goodbye", "answer"),
        ("nickname", "改天吧不弄了", "stop", "stop"),  # said with its words
        ("nickname", "不想起名字", "stop", "nlu_fallback"),  # a negation: not a name, asked again
    ],
)
def test_a_value_is_not_refused_on_the_classifier_s_leaving_alone(
    field: str, text: str, intent: str, kind: str
) -> None:
    question = Question("utter_ask_new_value", (), "update_form", "new_value", {"account_field": field})
    reading = read(text, question, intent)
    assert reading.kind == kind if kind == "answer" else (reading.kind, reading.intent) == ("other", kind)


@pytest.mark.parametrize(
    ("response", "text", "payload"),
    [
        ("utter_ask_confirm_update", "确认... 啊不 先不改", "/deny"),
        ("utter_ask_freeze_confirm", "先不冻吧……不行还是冻上", "/affirm"),
        ("utter_ask_solved", "好了...等下 又不行了", "/deny"),
        ("utter_contact_support", "还是转人工吧... 算了不用了", "/deny"),
    ],
)
def test_the_last_decision_of_a_reply_is_the_answer(response: str, text: str, payload: str) -> None:
    reading = read(text, ask(response))
    assert reading.kind == "option" and reading.payload == payload


def test_a_correction_that_names_only_the_denied_topic_leaves() -> None:
    received = ask("utter_ask_reset_received")  # asked after the flow, no form
    assert read("我不是要改密码，搞错了", received, "forgot_password").intent == "wrong_topic"
    field = ask("utter_ask_account_field", "update_form", "account_field")
    assert read("点错了，不是要改信息", field, "update_account_info").intent == "wrong_topic"
    # a problem stated besides the denied one is started
    assert read("我不是要改密码，是转账失败了", received, "transaction_failed").intent == "transaction_failed"


def test_an_option_is_picked_by_the_one_value_the_classifier_found() -> None:
    field = ask("utter_ask_account_field", "update_form", "account_field")
    reading = read("改邮件地址", field, "update_account_info", account_field="email")
    assert reading.kind == "option" and reading.entities == {"account_field": "email"}
    both = (
        {"entity": "account_field", "value": "email"},
        {"entity": "account_field", "value": "phone"},
    )
    assert read_reply("两个都要改", field, Nlu("update_account_info", both), LEXICON).kind != "option"


def test_a_transaction_is_picked_by_an_amount_in_chinese_numerals() -> None:
    question = ask("utter_ask_transaction_id", "transaction_form", "transaction_id", buttons=TRANSACTIONS)
    assert read("八十八那笔", question, "inform").entities == {"transaction_id": "TX4"}
    assert read("两千块那个", question, "inform").entities == {"transaction_id": "TX2"}


def test_another_problem_at_a_question_asked_inside_a_form_is_that_problem() -> None:
    question = ask("utter_ask_continue_flow", "complaint_form", "complaint_description")
    assert read("我忘了密码，先帮我找回", question, "forgot_password").kind == "none"
    assert read("继续", question, "affirm").payload == "/affirm"
    # a value of a structured slot is still its answer, whatever the classifier says
    offer = ask("utter_offer_human_in_flow", "transaction_form", "identity_code")
    assert read("验证码是 736 204", offer, "account_security").kind == "answer"
    # the form's own question still takes a description that names a problem
    description = Question(
        "utter_ask_complaint_description", (), "complaint_form", "complaint_description", {}
    )
    assert read("转账失败了三次你们也不管", description, "transaction_failed").kind == "answer"


@pytest.mark.parametrize("text", ["还没", "还没呢"])
def test_not_yet_is_not_received(text: str) -> None:
    assert read(text, ask("utter_ask_reset_received"), "deny").payload == "/not_received"


def test_a_request_for_another_problem_is_not_a_description() -> None:
    description = Question(
        "utter_ask_complaint_description", (), "complaint_form", "complaint_description", {}
    )
    assert read("先帮我重置一下密码", description, "forgot_password").kind == "none"
    assert read("帮我查查客服为什么挂我电话", description, "complaint").kind == "answer"  # the form's own
    assert read("转账失败了三次你们也不管", description, "transaction_failed").kind == "answer"  # a narrative
