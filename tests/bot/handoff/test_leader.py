"""The expiry sweep on several Rasa servers: one leader at a time (a PostgreSQL advisory lock),
taken over when it goes, and every expired request told to its user exactly once."""

from __future__ import annotations

import asyncio
import functools
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.agent import Agent as RasaAgent
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy import create_engine, text

from bot.handoff.leader import AdvisoryLock, EveryServer, leadership_for, lock_namespace
from bot.handoff.service import HandoffService
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffStore
from tests.bot.handoff.conftest import FakeClock
from tests.bot.handoff.test_lifecycle import RecordingChannel

DEADLINE_SECONDS = 20.0
MAX_WAIT = 60


@functools.lru_cache(maxsize=1)
def _domain() -> Domain:
    return Domain.load("domain.yml")


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
def engines(pg_url: str) -> Iterator[list[Any]]:
    made = [create_engine(pg_url, future=True) for _ in range(2)]
    yield made
    for engine in made:
        engine.dispose()


def test_one_server_leads_until_it_lets_go(engines: list[Any]) -> None:
    first, second = AdvisoryLock(engines[0]), AdvisoryLock(engines[1])
    assert first.acquire() and first.held
    assert not second.acquire() and not second.held
    assert first.acquire()  # still the leader, round after round
    first.release()
    assert second.acquire()
    assert not first.acquire()
    second.release()


def test_a_leader_whose_connection_dies_is_replaced(engines: list[Any], pg_url: str) -> None:
    first, second = AdvisoryLock(engines[0]), AdvisoryLock(engines[1])
    assert first.acquire()
    with engines[1].connect() as admin:  # the leader's session is killed (a crash, a network cut)
        admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                " AND classid = CAST(:ns AS oid) AND pid <> pg_backend_pid()"
                " AND objid = CAST(hashtext(current_schema()) & 2147483647 AS oid)"
            ),
            {"ns": lock_namespace("handoff-expiry")},
        )
        admin.commit()
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not second.acquire():  # PostgreSQL releases the lock when the session has ended
        assert time.monotonic() < deadline, "the lock of a dead session was never released"
        time.sleep(0.05)
    assert not first.acquire() and not first.held  # noticed: no longer the leader
    second.release()
    assert first.acquire()
    first.release()


def test_sqlite_has_no_election(tmp_path: Any) -> None:
    store = HandoffStore(f"sqlite:///{tmp_path / 'handoff.db'}")
    leadership = leadership_for(store.engine)
    assert isinstance(leadership, EveryServer) and leadership.acquire()
    store.close()


class CountedLeadership:
    """An advisory lock that counts the rounds that asked for it."""

    def __init__(self, engine: Any) -> None:
        self.lock = AdvisoryLock(engine)
        self.rounds = 0

    def acquire(self) -> bool:
        self.rounds += 1
        return self.lock.acquire()

    def release(self) -> None:
        self.lock.release()


class CountingStore(HandoffStore):
    """The store, counting the sweeps made through it."""

    sweeps = 0

    def expire_pending(self, older_than_seconds: float) -> list[Any]:
        self.sweeps += 1
        return super().expire_pending(older_than_seconds)


@dataclass
class Server:
    """One Rasa server's handoff service, with its own channel; the tracker store is shared."""

    service: HandoffService
    store: CountingStore
    channel: RecordingChannel
    leadership: CountedLeadership
    app: Any

    @classmethod
    def start_on(cls, pg_url: str, clock: FakeClock, trackers: TrackerStore) -> Server:
        settings = HandoffSettings(db_url=pg_url, max_wait_seconds=MAX_WAIT, expiry_round_seconds=0.05)
        store = CountingStore(pg_url, clock=clock)
        leadership = CountedLeadership(store.engine)
        service = HandoffService(settings, store, leadership=leadership)
        channel = RecordingChannel()
        rasa = RasaAgent(domain=_domain(), tracker_store=trackers, lock_store=InMemoryLockStore())
        app = SimpleNamespace(ctx=SimpleNamespace(agent=rasa, input_channels=[channel]))
        return cls(service, store, channel, leadership, app)


def _expired_notices(tracker: Any) -> int:
    return sum(
        1
        for e in tracker.events
        if getattr(e, "text", None) and "留言" in e.text and (e.metadata or {}).get("role") == "system"
    )


def test_two_servers_tell_each_expired_request_once(pg_url: str) -> None:
    clock = FakeClock()
    trackers = InMemoryTrackerStore(_domain())
    seed = HandoffStore(pg_url, clock=clock)
    seed.create_schema()

    def wave(name: str, count: int) -> list[str]:
        senders = [f"widget:{name}{i:02d}" for i in range(count)]
        for sender in senders:
            seed.request_handoff(sender, "socketio", "normal", "交易失败", "话题：交易失败")
        return senders

    async def scenario() -> tuple[list[Server], list[str], list[str]]:
        servers = [Server.start_on(pg_url, clock, trackers) for _ in range(2)]
        for server in servers:
            await server.service.start(server.app)
        first = await asyncio.to_thread(wave, "a", 12)
        clock.advance(MAX_WAIT + 60)

        async def all_told(senders: list[str]) -> bool:
            told = {s for server in servers for s, _ in server.channel.sent}
            return set(senders) <= told

        await eventually(lambda: all_told(first), "the first wave to be told")
        await eventually(lambda: _after(min(s.leadership.rounds for s in servers) >= 5), "rounds on both")
        leader = next(s for s in servers if s.channel.sent)
        assert [s.store.sweeps > 0 for s in servers].count(True) == 1, "only the leader sweeps"
        # the leader goes; the other server takes the sweep over
        await leader.service.stop()
        second = await asyncio.to_thread(wave, "b", 8)
        clock.advance(MAX_WAIT + 60)
        await eventually(lambda: all_told(second), "the second wave to be told")
        survivor = next(s for s in servers if s is not leader)
        done = survivor.leadership.rounds
        await eventually(lambda: _after(survivor.leadership.rounds >= done + 5), "more rounds")
        await survivor.service.stop()
        return servers, first, second

    servers, first, second = asyncio.run(scenario())
    seed.close()
    told = Counter(s for server in servers for s, _ in server.channel.sent)
    assert told == Counter(first + second)  # each user exactly once, nobody else
    pushers = [{s for s, _ in server.channel.sent} for server in servers]
    assert any(set(first) <= p for p in pushers), "one leader told the whole first wave"
    assert any(set(second) <= p and not p & set(first) for p in pushers), "the other took over"
    for sender in first + second:
        tracker = asyncio.run(trackers.retrieve(sender))
        assert tracker is not None and _expired_notices(tracker) == 1
        assert not tracker.is_paused()


async def _after(value: bool) -> bool:
    return value
