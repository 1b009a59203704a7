"""Sliding-window rate limits per key (a sender, a session, an IP address).

``rate_limiter(limit, window, name)`` is what channels use (``await limiter.admit(key)``):
in memory in the embedded default, in Redis when ``CHANNEL_STATE_URL`` is a Redis URL, so
that several Rasa servers behind a load balancer count one user's messages together. The
Redis window is a sorted set per key, checked and recorded by one Lua script (atomic, with
Redis's own clock, so instances with skewed clocks agree). If Redis fails, the limit is
kept in this process until Redis answers again (a guard never switches off, and never
refuses everybody because a cache is down).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from bot.channels.shared_state import shared_redis

logger = logging.getLogger(__name__)
PREFIX = "wallet:rate:"
MAX_PLAIN_KEY = 120
WARN_EVERY_SECONDS = 60.0

# KEYS[1] the key's window; ARGV: window (µs), limit, a unique member. 1 = admitted.
SLIDING_WINDOW = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
return 1
"""


class Limiter(Protocol):
    """A rate limit the channels await."""

    async def admit(self, key: str) -> bool:
        """Record an event for ``key`` and say whether it is within the limit."""


class RateLimiter:
    """Allow at most ``limit`` events per ``window`` seconds for each key, in this process.

    Keys that have been idle for a whole window are forgotten, so memory stays
    bounded by the number of recently active keys.
    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        """Create a limiter; ``clock`` is injectable for tests."""
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self._limit = limit
        self._window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._last_sweep = clock()

    @property
    def limit(self) -> int:
        """Events allowed per window."""
        return self._limit

    @property
    def window(self) -> float:
        """The window, in seconds."""
        return self._window

    def allow(self, key: str) -> bool:
        """Record an event for ``key`` and say whether it is within the limit."""
        now = self._clock()
        self._sweep(now)
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self._window:
            events.popleft()
        if len(events) >= self._limit:
            return False
        events.append(now)
        return True

    async def admit(self, key: str) -> bool:
        """``allow``, awaitable like the shared limiter."""
        return self.allow(key)

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < self._window:
            return
        self._last_sweep = now
        for key in [k for k, v in self._events.items() if not v or v[-1] <= now - self._window]:
            del self._events[key]


class RedisRateLimiter:
    """The same limit, counted in Redis for every instance (``name`` keeps limits apart)."""

    def __init__(self, redis: Any, name: str, limit: int, window: float) -> None:
        """Bind the limiter to a ``redis.asyncio`` client; nothing connects before ``admit``."""
        self._local = RateLimiter(limit, window)  # validates; used while Redis fails
        self._script = redis.register_script(SLIDING_WINDOW)
        self._prefix = f"{PREFIX}{name}:"
        self._args = (max(1, int(window * 1_000_000)), limit)
        self._warned_at = -WARN_EVERY_SECONDS

    def _key(self, key: str) -> str:
        if len(key) > MAX_PLAIN_KEY:
            key = "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return self._prefix + key

    async def admit(self, key: str) -> bool:
        """Record an event for ``key`` in Redis and say whether it is within the limit."""
        try:
            admitted = await self._script(keys=[self._key(key)], args=[*self._args, uuid.uuid4().hex])
        except Exception as error:  # any failure of the cache: count here meanwhile
            now = time.monotonic()
            if now - self._warned_at >= WARN_EVERY_SECONDS:
                self._warned_at = now
                reason = type(error).__name__
                logger.warning("rate limit: Redis unavailable (%s), counting in this process", reason)
            return self._local.allow(key)
        return bool(admitted)


def rate_limiter(limit: int, window: float, name: str, url: str | None = None) -> Limiter:
    """The limiter for a channel: shared in Redis when ``url`` (default ``CHANNEL_STATE_URL``)
    is a Redis URL, else in this process.

    Raises:
        ValueError: ``limit`` below 1 or ``window`` not positive.
    """
    redis = shared_redis(url)
    if redis is None:
        return RateLimiter(limit, window)
    return RedisRateLimiter(redis, name, limit, window)
