"""Small shared state for the social channels: "seen this message", "this turn's reply",
"the access token", held where every instance of the server sees it.

A platform re-sends a message it thinks was not received (WeChat three times within 15 s,
Telegram until it gets a 200), and with several instances the retry may reach another
process. So "first time?" must be answered by one store for all of them: an atomic
set-if-absent with a time to live.

``CHANNEL_STATE_URL`` chooses the store: ``redis://…`` uses Redis (``SET NX PX``, the
cluster's choice); ``sqlite:///…`` or ``postgresql://…`` a SQL table (the embedded default is
``sqlite:///var/channel_state.db``). The same Redis (``shared_redis``) holds the rate limits
(``bot.ratelimit``) and the widget's de-duplication and identity bindings; without Redis
those stay in each process. Why not Rasa's lock store: it locks conversations, it
has no values with a time to live and no set-if-absent across processes for SQL.
SQL calls run in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Column, Float, MetaData, String, Table, Text, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.handoff.db import build_engine

DEFAULT_URL = "sqlite:///var/channel_state.db"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
MAX_KEY = 200

_metadata = MetaData()
_entries = Table(
    "channel_state",
    _metadata,
    Column("key", String(MAX_KEY), primary_key=True),
    Column("value", Text, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
)


class SharedState(Protocol):
    """Values with a time to live, shared by every instance."""

    async def claim(self, key: str, ttl: float, value: str = "") -> bool:
        """Set ``key`` if it is absent (or expired); True when this call set it."""

    async def get(self, key: str) -> str | None:
        """The value, or None when absent or expired."""

    async def put(self, key: str, value: str, ttl: float) -> None:
        """Set ``key`` whatever it held."""

    async def delete(self, key: str) -> None:
        """Remove ``key``."""


def _checked(key: str) -> str:
    if not key or len(key) > MAX_KEY:
        raise ValueError("a shared-state key is 1 to 200 characters")
    return key


class SqlState:
    """The SQL store: one row per key, expired rows replaced on claim and swept now and then."""

    def __init__(self, url: str) -> None:
        """Open (and create when missing) the table at ``url``."""
        parsed = url.split("///", 1)
        if url.startswith("sqlite:///") and len(parsed) == 2 and parsed[1] not in ("", ":memory:"):
            Path(parsed[1]).parent.mkdir(parents=True, exist_ok=True)
        self._engine: Engine = build_engine(url, connect_timeout=5)
        _metadata.create_all(self._engine)
        self._claims = 0

    def _claim(self, key: str, ttl: float, value: str) -> bool:
        now = time.time()
        with self._engine.begin() as db:
            try:
                db.execute(insert(_entries).values(key=key, value=value, expires_at=now + ttl))
                return True
            except IntegrityError:
                pass
        with self._engine.begin() as db:
            taken = db.execute(
                update(_entries)
                .where(_entries.c.key == key, _entries.c.expires_at <= now)
                .values(value=value, expires_at=now + ttl)
            )
            return bool(taken.rowcount)

    def _get(self, key: str) -> str | None:
        with self._engine.begin() as db:
            row = db.execute(
                select(_entries.c.value).where(_entries.c.key == key, _entries.c.expires_at > time.time())
            ).first()
        return None if row is None else str(row[0])

    def _put(self, key: str, value: str, ttl: float) -> None:
        expires = time.time() + ttl
        with self._engine.begin() as db:
            mine = update(_entries).where(_entries.c.key == key).values(value=value, expires_at=expires)
            done = db.execute(mine)
            if not done.rowcount:
                try:
                    with db.begin_nested():
                        db.execute(insert(_entries).values(key=key, value=value, expires_at=expires))
                except IntegrityError:  # set by another instance in between: ours is newer
                    db.execute(mine)

    def _delete(self, key: str) -> None:
        with self._engine.begin() as db:
            db.execute(delete(_entries).where(_entries.c.key == key))

    def _sweep(self) -> None:
        with self._engine.begin() as db:
            db.execute(delete(_entries).where(_entries.c.expires_at <= time.time()))

    async def claim(self, key: str, ttl: float, value: str = "") -> bool:
        """Set ``key`` if it is absent (or expired); True when this call set it."""
        self._claims += 1
        if self._claims % 500 == 0:
            await asyncio.to_thread(self._sweep)
        return await asyncio.to_thread(self._claim, _checked(key), ttl, value)

    async def get(self, key: str) -> str | None:
        """The value, or None when absent or expired."""
        return await asyncio.to_thread(self._get, _checked(key))

    async def put(self, key: str, value: str, ttl: float) -> None:
        """Set ``key`` whatever it held."""
        await asyncio.to_thread(self._put, _checked(key), value, ttl)

    async def delete(self, key: str) -> None:
        """Remove ``key``."""
        await asyncio.to_thread(self._delete, _checked(key))


class RedisState:
    """The Redis store (``redis.asyncio``): ``SET NX PX`` is the atomic claim."""

    def __init__(self, url: str, prefix: str = "wallet:channel:") -> None:
        """Connect lazily to ``url``."""
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._prefix = prefix

    @property
    def client(self) -> Any:
        """The ``redis.asyncio`` client (for other shared structures than keys: rate limits)."""
        return self._redis

    async def claim(self, key: str, ttl: float, value: str = "") -> bool:
        """Set ``key`` if it is absent (or expired); True when this call set it."""
        done = await self._redis.set(self._prefix + _checked(key), value, nx=True, px=max(1, int(ttl * 1000)))
        return bool(done)

    async def get(self, key: str) -> str | None:
        """The value, or None when absent or expired."""
        value = await self._redis.get(self._prefix + _checked(key))
        return None if value is None else value.decode("utf-8")

    async def put(self, key: str, value: str, ttl: float) -> None:
        """Set ``key`` whatever it held."""
        await self._redis.set(self._prefix + _checked(key), value, px=max(1, int(ttl * 1000)))

    async def delete(self, key: str) -> None:
        """Remove ``key``."""
        await self._redis.delete(self._prefix + _checked(key))


_stores: dict[str, SharedState] = {}


def configured_url(url: str | None = None) -> str:
    """``url``, else ``CHANNEL_STATE_URL``, else the embedded SQLite file."""
    return url or os.environ.get("CHANNEL_STATE_URL") or DEFAULT_URL


def is_redis_url(url: str) -> bool:
    """Whether the URL names a Redis server."""
    return url.startswith(REDIS_SCHEMES)


def shared_state(url: str | None = None) -> SharedState:
    """The store for ``url`` (default: ``CHANNEL_STATE_URL``, else the embedded SQLite file),
    one per URL in this process."""
    url = configured_url(url)
    if url not in _stores:
        _stores[url] = RedisState(url) if is_redis_url(url) else SqlState(url)
    return _stores[url]


def shared_redis(url: str | None = None) -> Any | None:
    """The ``redis.asyncio`` client of the shared state when it is Redis, else None (nothing
    connects here)."""
    url = configured_url(url)
    if not is_redis_url(url):
        return None
    store = shared_state(url)
    return store.client if isinstance(store, RedisState) else None
