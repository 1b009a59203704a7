"""The app's access_token: one for every process, cached in the shared channel state and
fetched by whoever wins a claim (the refresh lock), so a cluster fetches it once.

Fetching a ``cgi-bin/token`` invalidates the previous one within minutes, so a per-process
cache (wechatpy's) makes instances log each other out. ``cgi-bin/stable_token`` does not
rotate in normal mode; a rejected token is replaced by one process (a plain call, then
``force_refresh`` only if that gives the refused token back), and the others pick the new
one up from the cache.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from bot.channels.shared_state import SharedState
from bot.channels.wechat.errors import ApiError

# A fetch gives (token, expires_in seconds); ``force`` asks for a new one.
Fetch = Callable[[bool], Awaitable[tuple[str, int]]]
LOCK_SECONDS = 20.0
EXPIRY_MARGIN_SECONDS = 300


class AccessTokens:
    """The cached access_token of one app, refreshed in one place."""

    def __init__(
        self,
        state: SharedState,
        app_id: str,
        fetch: Fetch,
        wait_seconds: float = 10.0,
        poll_seconds: float = 0.1,
    ) -> None:
        """``fetch`` asks the platform; ``wait_seconds`` bounds the wait for another process's fetch."""
        self._state = state
        self._fetch = fetch
        self._key = f"wechat:token:{app_id}"
        self._lock = f"wechat:token-lock:{app_id}"
        self._wait = wait_seconds
        self._poll = poll_seconds

    async def get(self, rejected: str | None = None) -> str:
        """A valid token: the cached one, unless it is ``rejected`` (the platform refused it),
        in which case the one process holding the lock fetches a new one.

        Raises:
            ApiError: the platform refused the credentials, or no token arrived in time.
        """
        deadline = time.monotonic() + self._wait
        while True:
            cached = await self._state.get(self._key)
            if cached and cached != rejected:
                return cached
            if await self._state.claim(self._lock, LOCK_SECONDS):
                try:
                    return await self._refresh(rejected)
                finally:
                    await self._state.delete(self._lock)
            if time.monotonic() >= deadline:
                raise ApiError(0, "no access_token: another process's refresh did not finish")
            await asyncio.sleep(self._poll)

    async def _refresh(self, rejected: str | None) -> str:
        cached = await self._state.get(self._key)  # refreshed while we waited for the lock
        if cached and cached != rejected:
            return cached
        # A plain stable_token call already gives a fresh token once the old one expired
        # (42001); force_refresh (20 a day, 30 s apart) only when it hands back the refused one.
        token, expires_in = await self._fetch(False)
        if rejected is not None and token == rejected:
            token, expires_in = await self._fetch(True)
        ttl = max(60.0, float(expires_in) - EXPIRY_MARGIN_SECONDS)
        await self._state.put(self._key, token, ttl)
        return token
