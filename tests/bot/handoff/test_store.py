"""The handoff lifecycle in the SQL store, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bot.handoff.errors import Conflict, InvalidInput, NotFound
from bot.handoff.models import Agent
from bot.handoff.store import HandoffStore
from bot.masking import mask_text
from tests.bad_inputs import bad_messages
from tests.bot.handoff.conftest import FakeClock

PASSWORD = "correct horse"


@pytest.fixture
def staff(store: HandoffStore) -> dict[str, Agent]:
    return {
        "wang": store.add_agent("xiaowang", "小王", PASSWORD),
        "li": store.add_agent("xiaoli", "小李", PASSWORD),
        "boss": store.add_agent("zhuguan", "主管", PASSWORD, role="supervisor"),
    }


def request(store: HandoffStore, sender: str = "u1", priority: str = "normal") -> Any:
    return store.request_handoff(sender, "rest", priority, "交易失败", "话题：交易失败；用户说：钱没到")


def test_lifecycle_from_request_to_rating(store: HandoffStore, staff: dict[str, Agent]) -> None:
    wang, li = staff["wang"], staff["li"]
    handoff = request(store)
    assert handoff.status == "pending" and handoff.reference == "H20261125-0001"
    assert handoff.created_at.tzinfo is not None and handoff.created_at.utcoffset().total_seconds() == 0
    assert store.position(handoff.id) == 1 and store.active_for("u1") == handoff

    taken = store.take(handoff.id, wang.id)
    assert (taken.status, taken.assigned_agent_id, taken.assigned_agent_name) == ("assigned", wang.id, "小王")
    assert store.position(handoff.id) == 0 and store.assigned_to(wang.id) == [taken]
    assert store.agent_load() == {wang.id: 1, li.id: 0, staff["boss"].id: 0}

    moved = store.transfer(handoff.id, wang.id, li.id)
    assert moved.assigned_agent_name == "小李" and store.assigned_to(wang.id) == []

    done = store.resolve(handoff.id, li.id, "已退款")
    assert (done.status, done.note) == ("resolved", "已退款") and done.closed_at is not None
    assert store.active_for("u1") is None and store.latest_for("u1") == done and store.active() == []

    assert store.record_satisfaction("u1", 5) is True
    assert store.record_satisfaction("u1", 1) is False  # rated already
    assert store.get(handoff.id).satisfaction == 5


def test_hand_back_returns_the_conversation_to_the_bot(store: HandoffStore, staff: dict[str, Agent]) -> None:
    handoff = request(store)
    store.take(handoff.id, staff["wang"].id)
    back = store.hand_back(handoff.id, staff["wang"].id)
    assert back.status == "returned" and back.closed_at is not None and store.active_for("u1") is None
    assert store.record_satisfaction("u1", 4) is False  # only resolved handoffs are rated


def test_request_twice_returns_the_same_active_handoff(store: HandoffStore, staff: dict[str, Agent]) -> None:
    first = request(store)
    assert store.request_handoff("u1", "widget", "urgent", "投诉", "again") == first
    store.take(first.id, staff["wang"].id)
    assert store.request_handoff("u1", "widget", "urgent", "投诉", "again").id == first.id
    store.hand_back(first.id, staff["wang"].id)
    second = request(store)
    assert second.id != first.id and second.reference == "H20261125-0002"


def test_queue_orders_by_priority_then_age(store: HandoffStore, clock: FakeClock) -> None:
    ids = {}
    for sender, priority in [("a", "normal"), ("b", "high"), ("c", "urgent"), ("d", "high"), ("e", "normal")]:
        ids[sender] = request(store, sender, priority).id
        clock.advance(10)
    assert [h.sender_id for h in store.queue()] == ["c", "b", "d", "a", "e"]
    assert [store.position(ids[s]) for s in "abcde"] == [4, 2, 1, 3, 5]
    store.cancel(ids["c"])
    assert store.position(ids["b"]) == 1 and store.position(ids["c"]) == 0


def test_cancel_and_leave_message_only_while_pending(store: HandoffStore, staff: dict[str, Agent]) -> None:
    waiting = request(store, "u1")
    assert store.cancel(waiting.id).status == "cancelled"
    with pytest.raises(Conflict):
        store.cancel(waiting.id)
    note = request(store, "u2")
    left = store.leave_message(note.id)
    assert left.status == "message_left" and re.fullmatch(r"H\d{8}-\d{4,}", left.reference)
    served = request(store, "u3")
    store.take(served.id, staff["wang"].id)
    for operation in (store.cancel, store.leave_message):
        with pytest.raises(Conflict):
            operation(served.id)


def test_expiry_turns_old_pending_handoffs_into_messages(
    store: HandoffStore, clock: FakeClock, staff: dict[str, Agent]
) -> None:
    old, served = request(store, "old"), request(store, "served")
    store.take(served.id, staff["wang"].id)
    clock.advance(500)
    recent = request(store, "recent")
    clock.advance(200)
    expired = store.expire_pending(600)
    assert [h.id for h in expired] == [old.id] and expired[0].status == "message_left"
    assert store.get(recent.id).status == "pending" and store.get(served.id).status == "assigned"
    assert store.expire_pending(600) == []
    assert store.audit_log(1)[0].action == "expire"


def _at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together; each result or exception."""
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        barrier.wait()
        try:
            return work(i)
        except Exception as error:
            return error

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_exactly_one_agent_wins_a_take_race(store: HandoffStore, other_store: HandoffStore) -> None:
    agents = [store.add_agent(f"agent{i}", f"客服{i}", PASSWORD) for i in range(8)]
    handoff = request(store)
    stores = [store, other_store]  # two processes share the database
    results = _at_once(8, lambda i: stores[i % 2].take(handoff.id, agents[i].id))
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1 and all(isinstance(r, Conflict) for r in results if r not in winners)
    assert store.get(handoff.id).assigned_agent_id == winners[0].assigned_agent_id
    assert [e.action for e in store.audit_log()].count("take") == 1


def test_simultaneous_requests_of_one_sender_make_one_handoff(
    store: HandoffStore, other_store: HandoffStore
) -> None:
    stores = [store, other_store]
    results = _at_once(8, lambda i: request(stores[i % 2], "u1"))
    assert len({h.id for h in results}) == 1 and len(store.active()) == 1


def test_only_the_assigned_agent_or_a_supervisor_acts(store: HandoffStore, staff: dict[str, Agent]) -> None:
    wang, li, boss = staff["wang"], staff["li"], staff["boss"]
    handoff = request(store)
    store.take(handoff.id, wang.id)
    with pytest.raises(Conflict):
        store.take(handoff.id, li.id)
    for attempt in (
        lambda: store.hand_back(handoff.id, li.id),
        lambda: store.resolve(handoff.id, li.id, "x"),
        lambda: store.transfer(handoff.id, li.id, li.id),
        lambda: store.hand_back(handoff.id, li.id, supervisor=True),  # the flag alone is not the role
        lambda: store.transfer(handoff.id, wang.id, wang.id),  # already with that agent
    ):
        with pytest.raises(Conflict):
            attempt()
    assert store.transfer(handoff.id, boss.id, li.id, supervisor=True).assigned_agent_id == li.id
    with pytest.raises(Conflict):
        store.transfer(handoff.id, boss.id, wang.id)  # without supervisor=True the boss is an agent
    assert store.resolve(handoff.id, boss.id, "主管结案", supervisor=True).status == "resolved"
    with pytest.raises(Conflict):
        store.hand_back(handoff.id, boss.id, supervisor=True)  # not assigned any more


def test_disabled_agents_cannot_take_or_receive(store: HandoffStore, staff: dict[str, Agent]) -> None:
    wang, li = staff["wang"], staff["li"]
    handoff = request(store)
    store.set_agent_active("xiaoli", False)
    with pytest.raises(Conflict):
        store.take(handoff.id, li.id)
    store.take(handoff.id, wang.id)
    with pytest.raises(Conflict):
        store.transfer(handoff.id, wang.id, li.id)
    store.set_agent_active("xiaowang", False)
    with pytest.raises(Conflict):
        store.resolve(handoff.id, wang.id, "")
    assert store.get(handoff.id).status == "assigned"


def test_audit_entries_are_written_in_order(store: HandoffStore, staff: dict[str, Agent]) -> None:
    wang, li = staff["wang"], staff["li"]
    handoff = request(store)
    store.audit(wang.id, "login", None)
    store.take(handoff.id, wang.id)
    store.transfer(handoff.id, wang.id, li.id)
    store.audit(li.id, "reply", handoff.id, "x" * 3000)
    store.resolve(handoff.id, li.id, "ok")
    entries = store.audit_log()
    assert [e.action for e in entries[:5]] == ["resolve", "reply", "transfer", "take", "login"]
    assert entries[2].detail == "to xiaoli" and entries[2].agent_name == "小王"
    assert entries[1].handoff_id == handoff.id and len(entries[1].detail) == 2000
    assert [e.id for e in entries] == sorted((e.id for e in entries), reverse=True)
    assert len(store.audit_log(limit=2)) == 2
    with pytest.raises(NotFound):
        store.audit(999, "login", None)
    with pytest.raises(NotFound):
        store.audit(wang.id, "reply", 999)


def test_version_grows_with_every_change(store: HandoffStore, staff: dict[str, Agent]) -> None:
    seen = [store.version()]
    handoff = request(store)
    seen.append(store.version())
    request(store)  # the same active handoff: nothing changed
    store.queue()
    store.get(handoff.id)
    seen.append(store.version())
    store.take(handoff.id, staff["wang"].id)
    seen.append(store.version())
    store.resolve(handoff.id, staff["wang"].id, "")
    seen.append(store.version())
    store.record_satisfaction("u1", 3)
    seen.append(store.version())
    assert seen[0] < seen[1] == seen[2] < seen[3] < seen[4] < seen[5]


def test_another_process_sees_every_change(store: HandoffStore, other_store: HandoffStore) -> None:
    handoff = request(other_store)
    assert store.queue() == [handoff] and store.version() == other_store.version()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sender_id": ""},
        {"sender_id": "x" * 256},
        {"channel": ""},
        {"priority": "asap"},
        {"priority": "URGENT"},
        {"topic": "话" * 65},
        {"summary": "长" * 4001},
        {"summary": None},
    ],
)
def test_bad_requests_are_refused(store: HandoffStore, kwargs: dict[str, Any]) -> None:
    values = {"sender_id": "u1", "channel": "rest", "priority": "normal", "topic": "t", "summary": "s"}
    with pytest.raises(InvalidInput):
        store.request_handoff(**{**values, **kwargs})
    assert store.active() == []


@pytest.mark.parametrize("name", sorted(bad_messages()))
def test_bad_message_corpus_is_stored_masked_or_refused(store: HandoffStore, name: str) -> None:
    text = bad_messages()[name]
    try:
        handoff = store.request_handoff("u1", "rest", "normal", "其他", text)
    except InvalidInput:
        assert len(text) > 4000 or "\x00" in text  # NUL: PostgreSQL cannot store it, refused on both
        return
    assert store.get(handoff.id).summary == mask_text(text)  # verbatim, but personal data masked


@pytest.mark.parametrize("score", [0, 6, -1, True, "5", 2.5, None])
def test_scores_outside_one_to_five_are_refused(store: HandoffStore, score: Any) -> None:
    with pytest.raises(InvalidInput):
        store.record_satisfaction("u1", score)


def test_resolve_notes_are_limited(store: HandoffStore, staff: dict[str, Agent]) -> None:
    handoff = request(store)
    store.take(handoff.id, staff["wang"].id)
    with pytest.raises(InvalidInput):
        store.resolve(handoff.id, staff["wang"].id, "长" * 2001)
    assert store.resolve(handoff.id, staff["wang"].id, "长" * 2000).note == "长" * 2000


def test_unknown_ids_are_not_found(store: HandoffStore, staff: dict[str, Agent]) -> None:
    wang = staff["wang"]
    handoff = request(store)
    for attempt in (
        lambda: store.get(999),
        lambda: store.position(999),
        lambda: store.take(999, wang.id),
        lambda: store.take(handoff.id, 999),
        lambda: store.cancel(999),
        lambda: store.leave_message(999),
        lambda: store.hand_back(999, wang.id),
        lambda: store.resolve(999, wang.id, ""),
    ):
        with pytest.raises(NotFound):
            attempt()
    store.take(handoff.id, wang.id)
    with pytest.raises(NotFound):
        store.transfer(handoff.id, wang.id, 999)
    assert store.active_for("nobody") is None and store.latest_for("nobody") is None
    assert store.record_satisfaction("nobody", 5) is False


def test_a_request_kept_while_the_store_was_down_is_recorded_as_a_message(
    store: HandoffStore, staff: dict[str, Agent]
) -> None:
    left = store.record_message("u1", "rest", "high", "账户安全", "话题：账户安全", "kept")
    assert (left.status, left.priority, left.reference.startswith("H")) == ("message_left", "high", True)
    assert left.closed_at is not None and store.queue() == [] and store.active_for("u1") is None
    assert store.request_handoff("u1", "rest", "normal", "其他", "").status == "pending"  # not in the way
    newest = store.audit_log()[0]
    assert (newest.action, newest.handoff_id, newest.detail) == ("leave_message", left.id, "kept")
    with pytest.raises(InvalidInput):
        store.record_message("u1", "rest", "soon", "其他", "")
