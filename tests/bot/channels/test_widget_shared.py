"""The widget's per-session state on several instances: a resent message is handled once and a
session stays bound to its first signed-in user whichever instance the socket reaches (Redis),
each process keeps its own in the embedded default, and a Redis outage degrades to the
process's memory instead of switching the checks off."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
import redis

from bot.channels import shared_state
from bot.channels.shared_state import RedisState
from bot.channels.widget_dedupe import LocalDedupe, SharedDedupe, message_dedupe
from bot.channels.widget_identity import IdentityBindings, SharedIdentityBindings, identity_bindings
from tests.bot.channels.conftest import REDIS_URL, _unreachable
from tests.bot.channels.test_socketio_redis import _free_port

SESSION = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def redis_url() -> Iterator[str]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        _unreachable("Redis", type(error).__name__)
    yield REDIS_URL


def _instance_state(url: str, prefix: str) -> RedisState:
    """One instance's view of the shared state (its own client, the deployment's prefix)."""
    return RedisState(url, prefix=prefix)


def test_a_message_resent_to_another_instance_is_handled_once(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"

    async def scenario() -> list[bool]:
        a = SharedDedupe(_instance_state(redis_url, prefix))
        b = SharedDedupe(_instance_state(redis_url, prefix))
        return [
            await a.first_time(SESSION, "m-1"),
            await b.first_time(SESSION, "m-1"),  # the widget reconnected to B and resent it
            await b.first_time(SESSION, "m-2"),
            await a.first_time("fedcba9876543210fedcba9876543210", "m-1"),  # another session's m-1
        ]

    assert asyncio.run(scenario()) == [True, False, True, True]


def test_concurrent_resends_are_handled_once(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"

    async def scenario() -> list[bool]:
        instances = [SharedDedupe(_instance_state(redis_url, prefix)) for _ in range(3)]
        return list(await asyncio.gather(*(instances[i % 3].first_time(SESSION, "m-9") for i in range(12))))

    assert asyncio.run(scenario()).count(True) == 1


def test_a_session_stays_bound_to_its_user_on_every_instance(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"

    async def scenario() -> list[bool]:
        a = SharedIdentityBindings(_instance_state(redis_url, prefix))
        b = SharedIdentityBindings(_instance_state(redis_url, prefix))
        return [
            await a.admits(SESSION, None),  # not signed in: binds nothing
            await a.admits(SESSION, "U1001"),
            await b.admits(SESSION, "U1002"),  # another account on the other instance: refused
            await b.admits(SESSION, "U1001"),
            await b.admits(SESSION, None),
        ]

    assert asyncio.run(scenario()) == [True, True, False, True, True]


def test_the_first_of_two_racing_users_wins(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"

    async def scenario() -> list[bool]:
        a = SharedIdentityBindings(_instance_state(redis_url, prefix))
        b = SharedIdentityBindings(_instance_state(redis_url, prefix))
        return list(await asyncio.gather(a.admits(SESSION, "U1001"), b.admits(SESSION, "U1002")))

    assert sorted(asyncio.run(scenario())) == [False, True]


def test_a_redis_outage_falls_back_to_the_process(caplog: pytest.LogCaptureFixture) -> None:
    down = RedisState(f"redis://127.0.0.1:{_free_port()}/0")

    async def scenario() -> list[bool]:
        dedupe, bindings = SharedDedupe(down), SharedIdentityBindings(down)
        return [
            await dedupe.first_time(SESSION, "m-1"),
            await dedupe.first_time(SESSION, "m-1"),
            await bindings.admits(SESSION, "U1001"),
            await bindings.admits(SESSION, "U1002"),
        ]

    assert asyncio.run(scenario()) == [True, False, True, False]
    assert "shared state unavailable" in caplog.text


def test_the_factories_follow_channel_state_url(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_state, "_stores", {})
    monkeypatch.delenv("CHANNEL_STATE_URL", raising=False)
    assert isinstance(message_dedupe(), LocalDedupe) and isinstance(identity_bindings(), IdentityBindings)
    monkeypatch.setenv("CHANNEL_STATE_URL", redis_url)
    assert isinstance(message_dedupe(), SharedDedupe)
    assert isinstance(identity_bindings(), SharedIdentityBindings)
