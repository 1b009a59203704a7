"""The console's login, throttled per username, per client address and for everybody together.

Every limit is checked before any password work, so a refused attempt costs one indexed count
query and no argon2. Failed logins are counted in the store (shared by every Rasa server and
surviving a restart) under keys that are digests, so what was typed is never stored. How many
logins one server checks at once is capped as well: the attempt beyond the cap is refused
without touching the database, which keeps a flood from queueing work in the pools.
"""

from __future__ import annotations

import hashlib

from bot.handoff.agents import MAX_PASSWORD, AgentStore
from bot.handoff.errors import Throttled
from bot.handoff.hasher import Hasher
from bot.handoff.models import Agent
from bot.handoff.passwords import needs_rehash
from bot.handoff.settings import LoginLimits
from bot.handoff.workers import Pool

GLOBAL_KEY = "login:all"


def throttle_key(kind: str, value: str) -> str:
    """The key under which failures of one username or address are counted (a digest)."""
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"{kind}:{digest}"


class LoginThrottle:
    """Checks the limits, verifies the password outside the event loop and counts the failures."""

    def __init__(self, store: AgentStore, limits: LoginLimits, sql: Pool, hashing: Hasher) -> None:
        """Bind the throttle to the store, its limits, the SQL pool and the hasher."""
        self._store = store
        self._limits = limits
        self._sql = sql
        self._hashing = hashing
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        """Logins being checked right now by this server."""
        return self._in_flight

    def windows(self, username: str, address: str) -> dict[str, float]:
        """The keys of one attempt and the window each is counted in."""
        limits = self._limits
        return {
            throttle_key("user", username.strip().lower()): limits.window_seconds,
            throttle_key("addr", address): limits.window_seconds,
            GLOBAL_KEY: limits.global_window_seconds,
        }

    async def login(self, username: str, password: str, address: str) -> Agent | None:
        """The agent if the username and password are right, None if they are not (counted).

        Raises:
            Throttled: a limit is reached (nothing was verified or counted); its
                ``retry_after`` says in how many seconds to try again.
            StoreUnavailable: the database failed.
        """
        limits = self._limits
        if self._in_flight >= limits.concurrent:
            raise Throttled("too many logins at once", retry_after=1)
        self._in_flight += 1
        try:
            windows = self.windows(username, address)
            user_key, address_key = list(windows)[:2]
            counts = await self._sql.run(self._store.failure_counts, windows)
            if counts[GLOBAL_KEY] >= limits.global_failures:
                raise Throttled("too many failed logins", retry_after=limits.global_window_seconds)
            if counts[user_key] >= limits.per_username or counts[address_key] >= limits.per_address:
                raise Throttled("too many failed logins", retry_after=limits.window_seconds)
            agent = await self._authenticate(username, password)
            if agent is None:
                await self._sql.run(self._store.record_failed_logins, list(windows))
            else:
                await self._sql.run(self._store.clear_failed_logins, user_key)
            return agent
        finally:
            self._in_flight -= 1

    async def _authenticate(self, username: str, password: str) -> Agent | None:
        """``AgentStore.authenticate`` in steps: SQL in the pool, argon2 in the hasher."""
        if len(password) > MAX_PASSWORD:
            password = ""
        found = await self._sql.run(self._store.credentials, username)
        if found is None:
            await self._hashing.burn(password)  # an unknown username costs the same
            return None
        if not password or not await self._hashing.verify(found.password_hash, password) or not found.active:
            return None
        if needs_rehash(found.password_hash):
            await self._sql.run(self._store.replace_hash, found.agent_id, await self._hashing.hash(password))
        return await self._sql.run(self._store.get_agent, found.agent_id)
