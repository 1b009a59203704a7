"""Whole flows answered by typing, as users on WeChat must: button titles, loose synonyms and
option numbers, hints given before verification, two flows in one conversation, a wrong
start, and Traditional characters. Both servers run; effects are read in the sandbox."""

from __future__ import annotations

import re

import pytest

from actions.backend.sandbox import SandboxBackend
from tests.server.test_flows_http import Chat, _latest_code
from tests.servers import Servers

pytestmark = [pytest.mark.server, pytest.mark.usefixtures("fresh_sandbox")]


def sandbox(servers: Servers) -> SandboxBackend:
    return SandboxBackend(servers.sandbox_db)


def codes_sent(servers: Servers, destination: str) -> int:
    return sum("验证码" in m["body"] for m in sandbox(servers).outbox(destination))


def verify(chat: Chat, servers: Servers, phone: str = "13800138000") -> str:
    """Answer the identity step by typing the phone and the code read from the outbox."""
    reply = chat.say(phone)
    assert "验证码" in reply, reply
    return chat.say(_latest_code(servers, phone))


def tickets_now(servers: Servers) -> set[str]:
    return {t.ticket_id for t in sandbox(servers).tickets()}


# --- transaction failed ---------------------------------------------------------
def test_hints_given_before_verification_go_straight_to_the_answer(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("我昨天晚上给李娜转账没成功")
    reply = verify(chat, servers)
    assert "网络超时" in reply and "李娜" in reply
    assert "哪一笔" not in reply  # not asked again which one
    before = tickets_now(servers)
    reply = chat.say("还是不行")  # typed "还没有"
    assert "工单" in reply and "转接人工" in reply
    new = [t for t in sandbox(servers).tickets() if t.ticket_id not in before]
    assert len(new) == 1 and new[0].kind == "transaction" and "李娜" in new[0].summary
    assert "如果之后还需要帮助" in chat.say("不用了")


def test_a_transaction_picked_by_option_number_and_solved_by_typing(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("付款失败了")
    reply = verify(chat, servers)
    assert "哪一笔" in reply
    reply = chat.say("第二个")
    assert "余额不足" in reply and "京东" in reply
    assert "太好了" in chat.say("解决了")


def test_a_transaction_picked_by_its_payee_typed(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("有笔交易失败了")
    verify(chat, servers)
    reply = chat.say("美团外卖那笔")
    assert "重复请求" in reply
    assert "太好了" in chat.say("好了，明白了")


# --- update account info ----------------------------------------------------------
def test_a_new_value_given_first_is_not_asked_again(servers: Servers) -> None:
    chat = Chat(servers)
    reply = chat.say("我想把邮箱改成 typed2026@example.org")
    assert "验证" in reply
    reply = verify(chat, servers)
    assert "请确认" in reply and "t***@example.org" in reply and "请输入新的" not in reply
    reply = chat.say("确认修改")
    assert "修改成功" in reply
    assert sandbox(servers).get_account("U1001").email == "typed2026@example.org"


def test_field_by_number_and_a_refused_confirmation(servers: Servers) -> None:
    chat = Chat(servers)
    assert "哪一项" in chat.say("我要改个人资料")
    assert "验证身份" in chat.say("3")  # 昵称
    verify(chat, servers, "13912345678")
    assert "请确认" in chat.say("小娜娜")
    assert "没有做任何修改" in chat.say("先不改了")
    assert sandbox(servers).get_account("U1002").nickname != "小娜娜"


def test_a_nickname_of_unknown_words_and_a_change_of_mind(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("我想改昵称")
    verify(chat, servers, "13912345678")
    assert "请确认" in chat.say("追风少年2026")  # unknown words are the name, whatever the classifier guesses
    assert "没有做任何修改" in chat.say("确认... 啊不 先不改")  # the last decision counts
    assert sandbox(servers).get_account("U1002").nickname != "追风少年2026"


# --- security -----------------------------------------------------------------------
def test_lost_phone_freeze_by_typing(servers: Servers) -> None:
    chat = Chat(servers)
    assert "冻结" in chat.say("我手机丢了，怕钱被盗")
    assert "手机号或电子邮箱" in chat.say("马上冻结")
    reply = verify(chat, servers, "13700001111")
    assert "已为您冻结账户" in reply
    assert sandbox(servers).get_account("U1003").status == "frozen"
    assert any(t.priority == "urgent" and t.account_id == "U1003" for t in sandbox(servers).tickets())


# --- complaint ------------------------------------------------------------------------
def test_complaint_answered_by_numbers_and_titles(servers: Servers) -> None:
    chat = Chat(servers)
    assert "哪方面" in chat.say("我要投诉")
    assert "具体描述" in chat.say("2")  # 处理时效
    assert "什么时候" in chat.say("提交的问题三天了都没人处理")
    assert "证据" in chat.say("上周五")
    reply = chat.say("没有证据")
    ticket_id = re.search(r"T\d{12}", reply)
    assert ticket_id, reply
    summary = sandbox(servers).get_ticket(ticket_id[0]).summary
    assert "处理时效" in summary and "三天了都没人处理" in summary and "无" in summary


def test_complaint_details_in_the_first_message_are_not_asked_again(servers: Servers) -> None:
    chat = Chat(servers)
    reply = chat.say("我要投诉，昨天下午你们客服态度很差，还挂了我的电话")
    assert "证据" in reply and "哪方面" not in reply and "具体描述" not in reply
    reply = chat.say("有通话截图")
    ticket_id = re.search(r"T\d{12}", reply)
    assert ticket_id, reply
    summary = sandbox(servers).get_ticket(ticket_id[0]).summary
    assert "服务态度" in summary and "昨天下午" in summary and "截图" in summary


def test_a_category_typed_outside_its_question_does_not_start_a_complaint(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("我要投诉")
    chat.say("服务态度")
    reply = chat.say("客服说话很不耐烦")
    assert "什么时候" in reply and "哪方面" not in reply


# --- forgot password and contact ----------------------------------------------------------
def test_reset_link_not_received_and_resent_by_typing(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("密码忘了")
    assert "139****5678" in chat.say("13912345678")
    reply = chat.say("没有收到")
    assert "垃圾邮件" in reply and "重新发送" in reply
    sent = len(sandbox(servers).outbox("13912345678"))
    assert "已重新发送" in chat.say("再发一次")
    assert len(sandbox(servers).outbox("13912345678")) == sent + 1
    assert "太好了" in chat.say("收到了")


def test_a_phone_number_read_out_in_chinese_digits(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("密码忘了")
    reply = chat.say("幺三九 一二三四 五六七八")
    assert "139****5678" in reply and "一二三四" not in reply
    assert any("重置" in m["body"] for m in sandbox(servers).outbox("13912345678"))


def test_contact_support_then_a_person_by_typing(servers: Servers) -> None:
    chat = Chat(servers)
    assert "客服热线" in chat.say("怎么联系你们客服")
    reply = chat.say("好的，帮我转一下")
    assert "排队" in reply or "已为您登记留言" in reply  # a person, or a message when nobody is on duty


# --- two flows in one conversation ------------------------------------------------------------
def test_transaction_then_complaint_does_not_inherit_its_slots(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("昨晚转给李娜500块失败了")
    assert "网络超时" in verify(chat, servers)
    chat.say("解决了")
    reply = chat.say("我要投诉")
    assert "哪方面" in reply


def test_second_transaction_is_looked_up_afresh_and_verification_is_reused(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("昨晚给李娜转账失败了")
    assert "网络超时" in verify(chat, servers)
    chat.say("解决了")
    sent = codes_sent(servers, "13800138000")
    reply = chat.say("还有一笔，前天在京东付款2000也失败了")
    assert "余额不足" in reply and "网络超时" not in reply
    assert codes_sent(servers, "13800138000") == sent  # still verified: no second code


def test_two_account_changes_get_a_fresh_code_each(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("我要修改昵称")
    verify(chat, servers, "13912345678")
    chat.say("娜娜一号")
    assert "修改成功" in chat.say("确认")
    sent = codes_sent(servers, "13912345678")
    reply = chat.say("我还想改一下收货地址")
    assert "验证码" in reply and "请输入新的" not in reply
    assert codes_sent(servers, "13912345678") == sent + 1
    assert "请输入新的地址" in chat.say(_latest_code(servers, "13912345678"))


def test_reset_then_security_then_complaint(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("忘记登录密码了")
    assert "重置链接" in chat.say("zhangwei@example.com")
    chat.say("收到了")
    assert "双重验证" in chat.say("怎么让账户更安全")
    assert "哪方面" in chat.say("另外我要投诉你们")


# --- wrong starts and misunderstandings -----------------------------------------------------------
def test_a_wrong_start_is_left_and_the_topics_offered(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("我要投诉")
    reply = chat.say("我不是要投诉")
    assert "理解错了" in reply and "忘记密码" in chat.buttons()
    assert "不客气" in chat.say("谢谢")  # the complaint form is gone: no "continue?" question


def test_a_wrong_start_with_the_right_topic_switches(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("我要投诉")
    reply = chat.say("搞错了，不是投诉，是转账失败了")
    assert "验证身份" in reply


def test_thanks_in_the_middle_of_a_form_asks_whether_to_go_on(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("我要投诉")
    chat.say("处理时效")
    reply = chat.say("谢谢")
    assert "需要继续吗" in reply and "具体描述" not in reply
    assert "已为您取消" in chat.say("不用了")
    chat.say("我要投诉")
    chat.say("其他")
    chat.say("谢谢")
    assert "具体描述" in chat.say("继续")


@pytest.mark.parametrize("question", ["请问这样能解决", "请输入收到的 6 位数字验证码"])
def test_an_option_number_out_of_range_is_refused_and_nothing_is_lost(
    servers: Servers, question: str
) -> None:
    chat = Chat(servers)
    chat.say("昨天晚上给李娜转账500块失败了")
    reply = chat.say("13800138000")
    if question.startswith("请问"):
        reply = chat.say(_latest_code(servers, "13800138000"))
    assert "选9" not in reply
    reply = chat.say("选9")
    if question.startswith("请问"):
        assert "没有这个选项" in reply and "1 到 2" in reply and "解决" in reply
        assert "太好了" in chat.say("1")
    else:  # no options at the code question: the code is asked again, the form keeps its answers
        assert "验证码" in reply
        assert "网络超时" in chat.say(_latest_code(servers, "13800138000"))


# --- Traditional characters ----------------------------------------------------------------------
def test_traditional_users_are_answered_in_traditional(servers: Servers) -> None:
    chat = Chat(servers)
    reply = chat.say("我忘記密碼了，怎麼重設")
    assert "請告訴我" in reply and "请告诉我" not in reply
    reply = chat.say("13912345678")
    assert "139****5678" in reply and ("連結" in reply or "鏈接" in reply)
    reply = chat.say("1")  # a digit tells no script: the conversation stays Traditional
    assert "太好了" in reply and "還有其他" in reply


def test_traditional_transaction_flow_keeps_values_exact(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("昨天晚上給李娜轉賬失敗了")
    reply = chat.say("13800138000")
    assert "138****8000" in reply and "驗證碼" in reply
    reply = chat.say(_latest_code(servers, "13800138000"))
    assert "網路逾時" in reply or "網絡超時" in reply or "網路超時" in reply
    assert "500.00" in reply and "TX" in reply


def test_simplified_users_are_unaffected(servers: Servers) -> None:
    chat = Chat(servers)
    reply = chat.say("我忘记密码了")
    assert "请告诉我" in reply
