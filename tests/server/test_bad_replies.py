"""Every question of every flow answered cleanly when the reply is empty, emoji only, a long
paste, an option number out of range or mixed scripts; the form keeps what it has, and the
right answer typed afterwards still goes on."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.bad_inputs import bad_messages
from tests.server.test_flows_http import Chat, _latest_code
from tests.servers import Servers

pytestmark = [pytest.mark.server, pytest.mark.usefixtures("fresh_sandbox")]

PASTE = ("这是我从别处复制过来的一大段文字，和问题没什么关系。" * 40)[:1000]
BAD = {
    "empty": bad_messages()["empty"],
    "emoji_only": bad_messages()["emoji_only"],
    "mixed_scripts": bad_messages()["mixed_scripts_chatter"],
    "option_out_of_range": "选9",
    "paste": PASTE,
}
Step = Callable[[Chat, Servers], str]


def says(text: str) -> Step:
    return lambda chat, servers: chat.say(text)


def code_for(phone: str) -> Step:
    return lambda chat, servers: chat.say(_latest_code(servers, phone))


# question: (steps that reach it, the right answer, what the reply to it shows)
QUESTIONS: dict[str, tuple[list[Step], Step, str]] = {
    "reset_contact": ([says("忘记密码了")], says("13912345678"), "139****5678"),
    "reset_received": ([says("忘记密码了"), says("13912345678")], says("收到了"), "太好了"),
    "identity_contact": ([says("转账失败了")], says("13800138000"), "138****8000"),
    "identity_code": (
        [says("昨晚给李娜转账失败了"), says("13800138000")],
        code_for("13800138000"),
        "网络超时",
    ),
    "transaction_pick": (
        [says("付款失败了"), says("13800138000"), code_for("13800138000")],
        says("1"),
        "查到了",
    ),
    "ask_solved": (
        [says("昨晚给李娜转账失败了"), says("13800138000"), code_for("13800138000")],
        says("解决了"),
        "太好了",
    ),
    "account_field": ([says("我要修改账户信息")], says("邮箱"), "验证身份"),
    "new_value": (
        [says("我要改邮箱"), says("13800138000"), code_for("13800138000")],
        says("fresh-mail@example.org"),
        "f***@example.org",
    ),
    "confirm_update": (
        [says("我要改邮箱"), says("13800138000"), code_for("13800138000"), says("fresh-mail@example.org")],
        says("先不改了"),
        "没有做任何修改",
    ),
    "freeze_confirm": ([says("我的账号被盗了")], says("暂不冻结"), "加急安全工单"),
    "complaint_category": ([says("我要投诉")], says("服务态度"), "具体描述"),
    "complaint_description": (
        [says("我要投诉"), says("服务态度")],
        says("客服很不耐烦地挂了电话"),
        "什么时候",
    ),
    "complaint_time": (
        [says("我要投诉"), says("服务态度"), says("客服很不耐烦地挂了电话")],
        says("昨天下午"),
        "证据",
    ),
    "complaint_evidence": (
        [says("我要投诉"), says("服务态度"), says("客服很不耐烦地挂了电话"), says("昨天下午")],
        says("没有"),
        "工单号",
    ),
}
# Free-text questions: a paste or a mixed-script sentence may really be the answer there.
FREE_TEXT = {"complaint_category", "complaint_description", "complaint_time", "complaint_evidence"}


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_bad_replies_to_every_question_lose_nothing(servers: Servers, question: str) -> None:
    path, answer, shown = QUESTIONS[question]
    chat = Chat(servers)
    for step in path:
        step(chat, servers)
    for name, text in BAD.items():
        if name in ("paste", "mixed_scripts") and question in FREE_TEXT:
            continue
        reply = chat.say(text)
        assert reply.strip(), f"no reply to {name} at {question}"
        assert "系统繁忙" not in reply and "Traceback" not in reply
    assert shown in answer(chat, servers)
