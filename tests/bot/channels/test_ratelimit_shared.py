"""Rate limits shared by every instance through Redis (a Lua script over a sorted set):
atomic under concurrency from several clients, sliding, per name and key, and kept in the
process while Redis is down. Real Redis; without it these tests skip (fail with CI=true)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from redis.asyncio import Redis

from bot.channels import shared_state
from bot.channels.rest import GuardedRestInput
from bot.ratelimit import PREFIX, RateLimiter, RedisRateLimiter, rate_limiter
from tests.bot.channels.conftest import REDIS_URL, _unreachable
from tests.bot.channels.test_socketio_redis import _free_port

DEADLINE_SECONDS = 10.0


@pytest.fixture
def redis_url() -> Iterator[str]:
    try:
        probe = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        probe.ping()
    except redis.RedisError as error:
        _unreachable("Redis", type(error).__name__)
    yield REDIS_URL
    for key in probe.scan_iter(f"{PREFIX}test-*"):
        probe.delete(key)
    probe.close()


def _name() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def _instances(url: str, name: str, limit: int, window: float, count: int = 2) -> list[RedisRateLimiter]:
    """The same limit as ``count`` Rasa servers see it: each its own Redis client."""
    return [RedisRateLimiter(Redis.from_url(url), name, limit, window) for _ in range(count)]


def test_instances_share_one_limit_under_concurrency(redis_url: str) -> None:
    async def scenario() -> list[bool]:
        limiters = _instances(redis_url, _name(), 7, 60)
        calls = [limiters[i % 2].admit("rest:flooder") for i in range(40)]
        return list(await asyncio.gather(*calls))

    admitted = asyncio.run(scenario())
    assert admitted.count(True) == 7  # not 7 per instance, and not one more under a race


def test_keys_and_names_are_counted_apart(redis_url: str) -> None:
    async def scenario() -> tuple[list[bool], bool, bool]:
        name = _name()
        first, second = _instances(redis_url, name, 2, 60)
        (other,) = _instances(redis_url, _name(), 2, 60, count=1)
        used = [await first.admit("a"), await second.admit("a"), await first.admit("a")]
        return used, await second.admit("b"), await other.admit("a")

    used, other_key, other_name = asyncio.run(scenario())
    assert used == [True, True, False]
    assert other_key and other_name


def test_the_window_slides(redis_url: str) -> None:
    async def scenario() -> tuple[list[bool], float]:
        (limiter,) = _instances(redis_url, _name(), 2, 0.5, count=1)
        start = time.monotonic()
        used = [await limiter.admit("k") for _ in range(3)]
        while not await limiter.admit("k"):  # admitted again once the first events leave the window
            assert time.monotonic() - start < DEADLINE_SECONDS, "the window never slid"
            await asyncio.sleep(0.05)
        return used, time.monotonic() - start

    used, waited = asyncio.run(scenario())
    assert used == [True, True, False]
    assert waited >= 0.45  # not before the window has passed (Redis's clock, not ours)


def test_refused_attempts_do_not_extend_the_wait(redis_url: str) -> None:
    async def scenario() -> float:
        (limiter,) = _instances(redis_url, _name(), 1, 0.5, count=1)
        assert await limiter.admit("k")
        start = time.monotonic()
        while not await limiter.admit("k"):  # hammering meanwhile
            assert time.monotonic() - start < DEADLINE_SECONDS, "a flood locked the key out for good"
            await asyncio.sleep(0.01)
        return time.monotonic() - start

    assert asyncio.run(scenario()) < DEADLINE_SECONDS


def test_long_keys_are_hashed_and_still_limited(redis_url: str) -> None:
    async def scenario() -> tuple[list[bool], list[Any]]:
        name = _name()
        (limiter,) = _instances(redis_url, name, 1, 60, count=1)
        key = "rest:" + "长" * 500
        used = [await limiter.admit(key), await limiter.admit(key), await limiter.admit(key + "x")]
        client = Redis.from_url(redis_url)
        stored = [k async for k in client.scan_iter(f"{PREFIX}{name}:*")]
        await client.close()
        return used, stored

    used, stored = asyncio.run(scenario())
    assert used == [True, False, True]
    assert len(stored) == 2 and all(len(k) < 120 for k in stored)
    assert all(b"\xe9\x95\xbf" not in k for k in stored)  # the key's text is not stored


def test_keys_expire_with_their_window(redis_url: str) -> None:
    async def scenario() -> int:
        name = _name()
        (limiter,) = _instances(redis_url, name, 3, 30, count=1)
        await limiter.admit("k")
        client = Redis.from_url(redis_url)
        ttl = await client.pttl(f"{PREFIX}{name}:k")
        await client.close()
        return int(ttl)

    assert 0 < asyncio.run(scenario()) <= 30_000


def test_while_redis_is_down_the_limit_holds_in_the_process(caplog: pytest.LogCaptureFixture) -> None:
    down = f"redis://127.0.0.1:{_free_port()}/0"

    async def scenario() -> list[bool]:
        limiter = RedisRateLimiter(Redis.from_url(down, socket_connect_timeout=1), _name(), 3, 60)
        return [await limiter.admit("k") for _ in range(5)]

    assert asyncio.run(scenario()) == [True, True, True, False, False]
    assert caplog.text.count("Redis unavailable") == 1  # said once, not once per message


def test_the_factory_follows_channel_state_url(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_state, "_stores", {})  # no client of another test's event loop
    monkeypatch.delenv("CHANNEL_STATE_URL", raising=False)
    assert isinstance(rate_limiter(5, 60, "rest"), RateLimiter)
    monkeypatch.setenv("CHANNEL_STATE_URL", "sqlite:///var/channel_state.db")
    assert isinstance(rate_limiter(5, 60, "rest"), RateLimiter)
    monkeypatch.setenv("CHANNEL_STATE_URL", redis_url)
    assert isinstance(rate_limiter(5, 60, "rest"), RedisRateLimiter)
    with pytest.raises(ValueError):
        rate_limiter(0, 60, "rest")


def test_two_rest_channels_share_the_limit(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The REST channel of two instances (as configured from CHANNEL_STATE_URL) refuses together."""
    monkeypatch.setattr(shared_state, "_stores", {})
    monkeypatch.setenv("CHANNEL_STATE_URL", redis_url)
    sender = f"rest:{uuid.uuid4().hex}"

    async def scenario() -> list[bool]:
        channels = [GuardedRestInput(rate_limit=3, token="t") for _ in range(2)]
        limiters = [c._limiter for c in channels]
        assert all(isinstance(limiter, RedisRateLimiter) for limiter in limiters)
        return [await limiters[i % 2].admit(sender) for i in range(6)]

    assert asyncio.run(scenario()) == [True, True, True, False, False, False]
