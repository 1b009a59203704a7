"""Messages left: each has its row (SLA, ticket, masked contact), and is answered once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.handoff.errors import Conflict, InvalidInput, NotFound
from bot.handoff.store import HandoffStore
from tests.bot.handoff.conftest import FakeClock


def _agent(store: HandoffStore, username: str = "xiaowang") -> int:
    return store.add_agent(username, "小王", "password-123").id


def test_every_way_of_leaving_a_message_opens_one_with_its_due_time(
    store: HandoffStore, clock: FakeClock
) -> None:
    store.message_sla_hours = 8
    nobody = store.request_handoff("rest:a", "rest", "normal", "交易失败", "话题：交易失败")
    store.leave_message(nobody.id)  # no agent on duty
    kept = store.record_message("rest:b", "rest", "high", "投诉", "库存请求")  # kept while the store was down
    waited = store.request_handoff("socketio:c", "socketio", "normal", "其他", "")
    clock.advance(700)
    assert [h.id for h in store.expire_pending(600)] == [waited.id]  # waited too long
    listed = store.messages.listed()
    assert {m.handoff.id for m in listed} == {nobody.id, kept.id, waited.id}
    by_id = {m.handoff.id: m for m in listed}
    assert by_id[nobody.id].due_at == nobody.created_at + timedelta(hours=8)
    assert by_id[waited.id].due_at == waited.created_at + timedelta(seconds=700, hours=8)
    assert listed[0].handoff.id in (nobody.id, kept.id)  # the earliest due first
    assert all(m.open and m.ticket_id is None for m in listed)


def test_a_ticket_and_a_contact_are_attached_masked(store: HandoffStore) -> None:
    left = store.record_message("rest:a", "rest", "normal", "其他", "")
    assert store.messages.awaiting_ticket("rest:a").id == left.id
    store.messages.attach_ticket(left.id, "T202611250001", "13800138000", "phone")
    message = store.messages.get(left.id)
    assert (message.ticket_id, message.contact, message.contact_kind) == (
        "T202611250001",
        "138****8000",
        "phone",
    )
    assert store.messages.awaiting_ticket("rest:a") is None
    assert store.audit_log(5)[0].action == "message_ticket"
    with pytest.raises(InvalidInput):
        store.messages.attach_ticket(left.id, "T1", None, "fax")
    with pytest.raises(NotFound):
        store.messages.attach_ticket(999999, "T1", None, "none")


def test_a_message_is_answered_once_and_audited(store: HandoffStore) -> None:
    agent, other = _agent(store), _agent(store, "laoli")
    left = store.record_message("rest:a", "rest", "normal", "其他", "")
    done = store.messages.answer(left.id, agent, "callback", "已电话联系 13800138000，问题已解决")
    assert not done.open and done.answer_kind == "callback" and done.answered_by_name == "小王"
    assert "13800138000" not in (done.answer_note or "") and "138****8000" in (done.answer_note or "")
    with pytest.raises(Conflict):
        store.messages.answer(left.id, other, "channel", "您好")
    assert store.audit_log(1)[0].action == "message_called_back"
    assert store.messages.listed() == [] and [m.handoff.id for m in store.messages.listed(answered=True)] == [
        left.id
    ]
    with pytest.raises(InvalidInput):
        store.messages.answer(left.id, agent, "telepathy")
    with pytest.raises(NotFound):
        store.messages.answer(123456, agent, "callback", "")
