"""Assignment: presence, round robin under capacity, the unanswered timer, the told places;
and, through the leader's round in a running console, the notices users get."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.handoff.errors import InvalidInput, NotFound
from bot.handoff.expiry import expiry_round
from bot.handoff.store import HandoffStore
from tests.bot.handoff.conftest import FakeClock
from tests.bot.handoff.console_server import Console, running_console


def _online(store: HandoffStore, username: str, capacity: int | None = None, status: str = "online") -> int:
    agent = store.add_agent(username, username.title(), "password-123")
    store.create_session(agent.id, 3600)
    store.assignment.set_status(agent.id, status, capacity)
    return agent.id


def _waiting(store: HandoffStore, count: int) -> list[int]:
    return [store.request_handoff(f"rest:u{n}", "rest", "normal", "其他", "").id for n in range(count)]


def test_round_robin_takes_turns_and_respects_capacities(store: HandoffStore, clock: FakeClock) -> None:
    a = _online(store, "agent_a", capacity=1)
    clock.advance(1)
    b = _online(store, "agent_b", capacity=2)
    _online(store, "agent_c", status="busy")  # on duty, but no new conversations
    _online(store, "agent_d", status="away")
    waiting = _waiting(store, 5)
    given = store.assignment.assign_round_robin(default_capacity=3)
    assert [(g.handoff.id, g.agent_id) for g in given] == [(waiting[0], a), (waiting[1], b), (waiting[2], b)]
    assert {h.id for h in store.queue()} == set(waiting[3:])  # nobody has room left
    assert store.agent_load()[a] == 1 and store.agent_load()[b] == 2
    assert [e.action for e in store.audit_log(3)] == ["assign"] * 3
    store.resolve(waiting[0], a, "")
    (next_one,) = store.assignment.assign_round_robin(default_capacity=3)
    assert (next_one.handoff.id, next_one.agent_id) == (waiting[3], a)
    taken = store.take(waiting[4], b)  # taking by hand still works, beyond round robin
    assert taken.assigned_agent_id == b


def test_away_agents_are_off_duty_and_busy_ones_are_not(store: HandoffStore) -> None:
    away, busy = _online(store, "agent_a", status="away"), _online(store, "agent_b", status="busy")
    assert [a.id for a in store.agents_on_duty()] == [busy]
    store.assignment.set_status(away, "online")
    assert {a.id for a in store.agents_on_duty()} == {away, busy}
    with pytest.raises(InvalidInput):
        store.assignment.set_status(away, "asleep")
    with pytest.raises(InvalidInput):
        store.assignment.set_status(away, "online", 0)
    with pytest.raises(NotFound):
        store.assignment.set_status(999, "online")


def test_an_unanswered_assignment_goes_back_and_then_to_the_next_agent(
    store: HandoffStore, clock: FakeClock
) -> None:
    a = _online(store, "agent_a")
    clock.advance(1)
    b = _online(store, "agent_b")
    (first, second) = _waiting(store, 2)
    given = store.assignment.assign_round_robin(3)
    assert [g.agent_id for g in given] == [a, b]
    clock.advance(60)
    store.assignment.answered(second, b)  # b replied; a did not
    assert store.assignment.requeue_unanswered(minutes=5) == []
    clock.advance(5 * 60)
    for agent_id in (a, b):
        store.touch_agent(agent_id)
    (back,) = store.assignment.requeue_unanswered(minutes=5)
    assert back.id == first and back.status == "pending" and back.assigned_agent_id is None
    assert store.audit_log(1)[0].action == "unanswered"
    assert store.get(second).assigned_agent_id == b  # answered: stays
    (again,) = store.assignment.assign_round_robin(3)
    assert (again.handoff.id, again.agent_id) == (first, b)  # the next agent, not a again
    assert store.assignment.requeue_unanswered(minutes=5) == []


def test_places_are_reported_only_when_they_change(store: HandoffStore) -> None:
    first, second, third = _waiting(store, 3)
    for place, handoff_id in enumerate((first, second, third), start=1):
        store.assignment.told(handoff_id, place)  # as the request told each user
    assert store.assignment.place_changes() == []
    store.cancel(first)
    changes = store.assignment.place_changes()
    assert [(c.handoff.id, c.position) for c in changes] == [(second, 1), (third, 2)]
    assert store.assignment.place_changes() == []


def test_the_leaders_round_assigns_requeues_and_tells_places_live(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_console(
            tmp_path, assignment="round_robin", agent_capacity=1, unanswered_minutes=1
        ) as console:
            await _round(console)

    asyncio.run(main())


async def _round(console: Console) -> None:
    service, app = console.app.ctx.handoff, console.app
    agent, _ = await console.agent("xiaowang", "小王")
    await console.db(console.store.assignment.set_status, agent.id, "online")
    users = [f"widget:{n:016x}" for n in range(3)]
    handoffs = [await console.waiting_user(u, "socketio") for u in users]
    for place, handoff in enumerate(handoffs, start=1):
        await console.db(console.store.assignment.told, handoff.id, place)
    await expiry_round(service, app)
    sent = console.channels["socketio"].sent
    assert (users[0], "人工客服 小王 已接入，请问有什么可以帮您？") in [(s, m["text"]) for s, m in sent]
    places = [(s, m["text"]) for s, m in sent if "排队进度" in m["text"]]
    assert places == [
        (users[1], "排队进度更新：您现在排在第 1 位，预计还需等待约 3 分钟。"),
        (users[2], "排队进度更新：您现在排在第 2 位，预计还需等待约 6 分钟。"),
    ]
    assert (await console.db(console.store.get, handoffs[0].id)).assigned_agent_id == agent.id
    sent.clear()
    await expiry_round(service, app)
    assert sent == []  # nothing changed: nothing told
    # the agent never answers: a minute later the conversation goes back to the queue
    from sqlalchemy import update

    from bot.handoff.schema import assignments

    def age() -> None:
        from bot.handoff.db import utcnow

        with console.store.engine.begin() as conn:
            conn.execute(update(assignments).values(assigned_at=utcnow().replace(year=2020)))

    await console.db(age)
    await expiry_round(service, app)
    texts = [(s, m["text"]) for s, m in sent]
    assert (users[0], "抱歉让您久等了，刚才的客服暂时无法回复，正在为您转接其他客服，请稍候。") in texts
    back = await console.db(console.store.get, handoffs[0].id)
    assert back.status == "assigned" or back.status == "pending"
    assert back.assigned_agent_id != agent.id  # never back to the agent who did not answer
