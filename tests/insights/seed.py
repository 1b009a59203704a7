"""A seeded set of conversations whose figures are known in advance (docs/insights.md lists
them), written through the real masking SQL tracker store.

Two China days, 2026-11-20 and 2026-11-21; eleven conversations on four channels:

| conv | day | channel | what happens |
|---|---|---|---|
| A  | 1 | widget   | a low-confidence question answered; contained, truly contained |
| B  | 1 | wechat   | password reset form completed; the same user is back at 20:00: not truly contained |
| B2 | 1 | wechat   | B's user again; contained, truly contained |
| C  | 1 | widget   | verified U1001, transaction form left at identity_code; U1001 back on Telegram |
| D  | 1 | telegram | U1001 asks for a person: wait 60 s, first reply 90 s, resolved 400 s, rates 5 (小王) |
| E  | 2 | widget   | 2 fallbacks, a person: wait 300 s (老李→小王), reply 360 s, resolved 1000 s, rates 3 |
| F  | 2 | rest     | complaint form completed, a person: nobody on duty, message left, answered 2 h later |
| G  | 2 | widget   | asks for a person, waits too long: expired into a message, never answered |
| H  | 2 | wechat   | update form, "不是这个" after a misread answer: left at account_field; contained |
| I  | 2 | widget   | a person: wait 30 s, first reply 45 s (小王), handed back |
| J  | 2 | telegram | a person: wait 120 s, first reply 150 s, resolved 600 s (老李), rates 2 typed |
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.handoff.models import CHINA_TZ
from bot.handoff.notices import notice
from bot.handoff.transcript import agent_message, system_notice
from bot.tracker_store import MaskingSQLTrackerStore

DAY1, DAY2 = "2026-11-20", "2026-11-21"


def at(day: str, clock: str) -> float:
    """Unix seconds of a China day and time."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=CHINA_TZ).timestamp()


class Script:
    """Events of one sender, each a given number of seconds after the previous mark."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.events: list[Event] = []
        self.now = 0.0

    def _add(self, event: Event, t: float | None) -> None:
        if t is not None:
            self.now = t
        event.timestamp = self.now
        self.events.append(event)

    def start(self, t: float) -> Script:
        self._add(ActionExecuted("action_session_start"), t)
        self._add(SessionStarted(), None)
        self._add(ActionExecuted("action_listen"), None)
        return self

    def user(
        self,
        text: str,
        intent: str,
        confidence: float = 0.99,
        t: float | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> Script:
        event = UserUttered(
            text,
            {"name": intent, "confidence": confidence},
            entities or [],
            input_channel=self.channel,
        )
        self._add(event, t)
        return self

    def action(self, name: str, t: float | None = None) -> Script:
        self._add(ActionExecuted(name), t)
        return self

    def bot(self, text: str, utter: str, t: float | None = None) -> Script:
        self._add(BotUttered(text, {}, {"utter_action": utter}), t)
        return self

    def slot(self, name: str, value: Any) -> Script:
        self._add(SlotSet(name, value), None)
        return self

    def loop(self, name: str | None) -> Script:
        self._add(ActiveLoop(name), None)
        return self

    def paused(self) -> Script:
        self._add(ConversationPaused(), None)
        return self

    def notice(self, name: str, t: float, **values: str) -> Script:
        self._add(system_notice(notice(name, **values)), t)
        return self

    def agent(self, text: str, name: str, t: float) -> Script:
        self._add(agent_message(text, name), t)
        return self

    def resolved(self, t: float) -> Script:
        self.notice("resolved", t)
        self.notice("rate", t)
        self._add(ConversationResumed(), t)
        self._add(ActionExecuted("action_listen"), t)
        return self

    def resumed(self, name: str, t: float, **values: str) -> Script:
        self.notice(name, t, **values)
        self._add(ConversationResumed(), t)
        self._add(ActionExecuted("action_listen"), t)
        return self

    def rate(self, text: str, score: int, t: float) -> Script:
        entity = {"entity": "satisfaction", "value": str(score), "start": 0, "end": len(text)}
        self.user(text, "rate_service", 1.0, t, [entity])
        self.action("action_record_satisfaction")
        self.bot("感谢您的评价！", "utter_rating_thanks")
        self.action("action_listen")
        return self

    def handoff(self, t: float, queued: bool = True, reference: str = "") -> Script:
        self.action("action_handoff", t)
        if queued:
            self.bot("已为您转接人工客服，您前面还有 0 位。", "utter_handoff_queued")
            self.paused()
        else:
            self.bot(f"已为您登记留言，编号 {reference}。", "utter_handoff_message_left")
            self.action("action_listen")
        return self


def conversations() -> Iterator[tuple[str, Script]]:
    """The seeded senders and their events."""
    a = Script("socketio").start(at(DAY1, "10:00:00"))
    a.user("你好", "greet", 0.98).action("utter_greet").bot("您好！", "utter_greet").action("action_listen")
    a.user("客服电话多少", "contact_support", 0.62).action("utter_contact_support")
    a.bot("客服热线 400-820-8820。", "utter_contact_support").action("action_listen")
    a.user("好的，谢谢", "thank", 0.97, at(DAY1, "10:02:00")).action("utter_thank").action("action_listen")
    yield "widget:a1", a

    b = Script("wechat").start(at(DAY1, "11:00:00"))
    b.user("忘记密码了", "forgot_password", 0.97).action("action_start_flow").action("password_reset_form")
    b.loop("password_reset_form").slot("requested_slot", "reset_contact").action("action_listen")
    b.user("13800138000", "inform", 0.99, at(DAY1, "11:01:00")).action("password_reset_form")
    b.slot("reset_contact", "13800138000").slot("requested_slot", None).loop(None)
    b.action("action_send_password_reset").bot("重置链接已发送。", "utter_reset_sent").action("action_listen")
    b.start(at(DAY1, "20:00:00"))  # the same user comes back the same evening: B2
    b.user("在吗", "greet", 0.93).action("utter_greet").action("action_listen")
    b.user("再见", "goodbye", 0.99, at(DAY1, "20:01:00")).action("utter_goodbye").action("action_listen")
    yield "wechat:b1", b

    c = Script("socketio").start(at(DAY1, "12:00:00"))
    c.user("转账失败了", "transaction_failed", 0.96).slot("account_id", "U1001")
    c.action("action_start_flow").action("transaction_form").loop("transaction_form")
    c.slot("requested_slot", "identity_contact").action("action_listen")
    c.user("13800138000", "inform", 0.99, at(DAY1, "12:01:00")).action("transaction_form")
    c.slot("requested_slot", "identity_code").action("action_listen")
    c.user("算了", "stop", 0.99, at(DAY1, "12:02:00")).action("action_deactivate_loop").loop(None)
    c.slot("requested_slot", None).action("action_flow_cancelled").action("action_listen")
    yield "widget:c1", c

    d = Script("telegram").start(at(DAY1, "18:00:00"))
    d.user("转人工", "request_human", 0.99).slot("account_id", "U1001")
    d.handoff(at(DAY1, "18:00:10"))
    d.user("我的账户被锁了 13800138000", "account_security", 0.9, at(DAY1, "18:00:30"))
    d.notice("taken", at(DAY1, "18:01:10"), agent="小王")
    d.agent("您好，我来帮您看看。", "小王", at(DAY1, "18:01:40"))
    d.resolved(at(DAY1, "18:06:50"))
    rating = [{"entity": "satisfaction", "value": "5", "start": 0, "end": 1}]
    d.user('/rate_service{"satisfaction":"5"}', "rate_service", 1.0, at(DAY1, "18:07:00"), rating)
    d.action("action_record_satisfaction").bot("感谢您的评价！", "utter_rating_thanks")
    d.action("action_listen")
    yield "telegram:c2", d

    e = Script("socketio").start(at(DAY2, "09:00:00"))
    e.user("嗯嗯那个东西怎么弄", "nlu_fallback", 0.31).action("action_wallet_fallback")
    e.bot("抱歉，我没太明白。", "utter_clarify").action("action_listen")
    e.user("就是那个啊", "nlu_fallback", 0.28, at(DAY2, "09:01:00")).action("action_wallet_fallback")
    e.bot("需要为您转人工吗？", "utter_offer_human").action("action_listen")
    e.user("好的", "affirm", 0.99, at(DAY2, "09:02:00")).handoff(at(DAY2, "09:02:00"))
    e.user("我的转账一直没到账", "transaction_failed", 0.95, at(DAY2, "09:03:00"))
    e.notice("taken", at(DAY2, "09:07:00"), agent="老李")
    e.agent("您好，请稍等。", "老李", at(DAY2, "09:08:00"))
    e.notice("transferred", at(DAY2, "09:08:40"), agent="小王")
    e.agent("我来处理。", "小王", at(DAY2, "09:09:00"))
    e.resolved(at(DAY2, "09:18:40"))
    e.rate("3 分", 3, at(DAY2, "09:19:00"))
    yield "widget:e1", e

    f = Script("rest").start(at(DAY2, "10:00:00"))
    f.user("我要投诉", "complaint", 0.97).action("action_start_flow").action("complaint_form")
    f.loop("complaint_form")
    steps = ("complaint_category", "complaint_description", "complaint_time", "complaint_evidence")
    for n, slot in enumerate(steps):
        f.slot("requested_slot", slot).action("action_listen")
        f.user(f"回答{n}", "inform", 0.99, at(DAY2, f"10:0{n + 1}:00")).action("complaint_form")
    f.slot("requested_slot", None).loop(None).action("action_submit_complaint")
    f.bot("需要为您转人工吗？", "utter_offer_human").action("action_listen")
    f.user("要", "affirm", 0.99, at(DAY2, "10:06:00")).handoff(at(DAY2, "10:06:00"), False, "H20261121-0003")
    f.agent("您好，我们收到了您的留言。", "小王", at(DAY2, "12:06:00"))
    yield "rest:f1", f

    g = Script("socketio").start(at(DAY2, "11:00:00"))
    g.user("人工", "request_human", 0.99).handoff(at(DAY2, "11:00:05"))
    g.user("人呢", "request_human", 0.8, at(DAY2, "11:03:00"))
    g.resumed("expired", at(DAY2, "11:10:05"), reference="H20261121-0004")
    yield "widget:g1", g

    h = Script("wechat").start(at(DAY2, "12:00:00"))
    h.user("改一下信息", "update_account_info", 0.92).action("action_start_flow").action("update_form")
    h.loop("update_form").slot("requested_slot", "account_field").action("action_listen")
    h.user("手机号吧", "inform", 0.9, at(DAY2, "12:01:00")).action("update_form").action("action_listen")
    h.user("不是这个", "wrong_topic", 1.0, at(DAY2, "12:02:00")).action("action_deactivate_loop").loop(None)
    h.slot("requested_slot", None).action("utter_wrong_topic").action("action_listen")
    yield "wechat:h1", h

    i = Script("socketio").start(at(DAY2, "13:00:00"))
    i.user("人工客服", "request_human", 0.99).handoff(at(DAY2, "13:00:00"))
    i.user("退款什么时候到", "transaction_failed", 0.88, at(DAY2, "13:00:10"))
    i.notice("taken", at(DAY2, "13:00:30"), agent="小王")
    i.agent("您好。", "小王", at(DAY2, "13:00:45"))
    i.resumed("handed_back", at(DAY2, "13:03:20"))
    yield "widget:i1", i

    j = Script("telegram").start(at(DAY2, "14:00:00"))
    j.user("转人工", "request_human", 0.99).handoff(at(DAY2, "14:00:00"))
    j.user("想投诉一下", "complaint", 0.9, at(DAY2, "14:00:20"))
    j.notice("taken", at(DAY2, "14:02:00"), agent="老李")
    j.agent("您好，请讲。", "老李", at(DAY2, "14:02:30"))
    j.resolved(at(DAY2, "14:10:00"))
    j.rate("不太满意", 2, at(DAY2, "14:11:00"))
    yield "telegram:j1", j


def domain() -> Domain:
    return Domain.load("domain.yml")


def tracker_store(path: Path, dom: Domain | None = None) -> MaskingSQLTrackerStore:
    """The project's tracker store on a SQLite file."""
    return MaskingSQLTrackerStore(domain=dom or domain(), dialect="sqlite", db=str(path))


async def seed(store: MaskingSQLTrackerStore) -> None:
    """Write every seeded conversation through the tracker store."""
    for sender_id, script in conversations():
        tracker = DialogueStateTracker(sender_id, store.domain.slots)
        for event in script.events:
            tracker.update(event)
        await store.save(tracker)
