"""The console's live updates: changes, keep-alives, and the end when the session ends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from bot.handoff.errors import StoreUnavailable
from bot.handoff.live import PING, SESSION_ENDED, UNAVAILABLE, Snapshot, changed_event, stream_changes
from bot.handoff.store import HandoffStore
from tests.bot.handoff.conftest import FakeClock


def run(rounds: Iterable[Any], ping_seconds: float = 15.0) -> tuple[str, list[str]]:
    """Run the loop over scripted rounds (a Snapshot, None, or an exception to raise)."""
    sent: list[str] = []
    script = iter(rounds)

    async def send(text: str) -> None:
        sent.append(text)

    async def poll() -> Snapshot | None:
        step = next(script)
        if isinstance(step, Exception):
            raise step
        return step

    async def no_wait(seconds: float) -> None:
        return None

    ended = asyncio.run(stream_changes(send, poll, interval=1.0, ping_seconds=ping_seconds, sleep=no_wait))
    return ended, sent


def test_changes_are_sent_and_the_stream_ends_with_the_session() -> None:
    ended, sent = run([Snapshot(1, {7: 3}), Snapshot(1, {7: 3}), Snapshot(2, {7: 4}), None])
    assert ended == "session_ended"
    assert sent == [changed_event(1, [7]), changed_event(2, [7]), SESSION_ENDED]


def test_keep_alives_when_nothing_changes() -> None:
    ended, sent = run([Snapshot(1)] * 4 + [None], ping_seconds=2)
    assert sent == [changed_event(1, []), PING, SESSION_ENDED] and ended == "session_ended"


def test_a_store_that_is_down_ends_the_stream() -> None:
    ended, sent = run([Snapshot(1), StoreUnavailable("down")])
    assert ended == "unavailable" and sent[-1] == UNAVAILABLE


def test_the_session_is_checked_every_round(store: HandoffStore, clock: FakeClock) -> None:
    """Against the store: the stream of a session that expires mid-way ends in the next round."""
    agent = store.add_agent("xiaowang", "小王", "password-123")
    token = store.create_session(agent.id, ttl_seconds=300)
    sent: list[str] = []
    rounds = 0

    async def send(text: str) -> None:
        sent.append(text)

    async def poll() -> Snapshot | None:
        nonlocal rounds
        rounds += 1
        if store.session_agent(token) is None:
            return None
        return Snapshot(store.version())

    async def minute(seconds: float) -> None:
        clock.advance(60)

    assert asyncio.run(stream_changes(send, poll, sleep=minute)) == "session_ended"
    assert rounds == 6 and sent[-1] == SESSION_ENDED  # 5 live minutes, then the expiry is seen
