"""One access_token for every process: fetched once, replaced once when refused, on each
store the cluster may use (SQLite, PostgreSQL, Redis)."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.shared_state import SharedState
from bot.channels.wechat.errors import ApiError
from bot.channels.wechat.tokens import AccessTokens


class Platform:
    """Counts token fetches; each force_refresh makes a new token."""

    def __init__(self, delay: float = 0.2) -> None:
        self.fetches: list[bool] = []
        self.version = 1
        self.delay = delay

    async def fetch(self, force: bool) -> tuple[str, int]:
        self.fetches.append(force)
        await asyncio.sleep(self.delay)
        if force:
            self.version += 1
        return f"token-{self.version}", 7200


def _processes(state: SharedState, platform: Platform, count: int = 4) -> list[AccessTokens]:
    """Several processes' token caches over one shared store."""
    return [
        AccessTokens(state, "wxapp", platform.fetch, wait_seconds=10, poll_seconds=0.05) for _ in range(count)
    ]


def test_concurrent_processes_fetch_the_token_once(state: SharedState) -> None:
    platform = Platform()

    async def scenario() -> list[str]:
        return list(await asyncio.gather(*(t.get() for t in _processes(state, platform) * 2)))

    tokens = asyncio.run(scenario())
    assert set(tokens) == {"token-1"}
    assert platform.fetches == [False]


def test_a_refused_token_is_replaced_once_with_force_refresh(state: SharedState) -> None:
    """40001: the plain call hands the refused token back, so one forced refresh replaces it."""
    platform = Platform()

    async def scenario() -> tuple[str, list[str]]:
        processes = _processes(state, platform)
        first = await processes[0].get()
        replaced = await asyncio.gather(*(t.get(rejected=first) for t in processes))
        return first, list(replaced)

    first, replaced = asyncio.run(scenario())
    assert first == "token-1"
    assert set(replaced) == {"token-2"}
    assert platform.fetches == [False, False, True]


def test_an_expired_token_is_replaced_without_spending_a_forced_refresh(state: SharedState) -> None:
    """42001: a plain stable_token call already gives the new token (force_refresh is rationed)."""

    class Expiring(Platform):
        async def fetch(self, force: bool) -> tuple[str, int]:
            self.fetches.append(force)
            self.version += 1
            return f"token-{self.version - 1}", 7200

    platform = Expiring()

    async def scenario() -> list[str]:
        processes = _processes(state, platform)
        first = await processes[0].get()
        return list(await asyncio.gather(*(t.get(rejected=first) for t in processes)))

    assert set(asyncio.run(scenario())) == {"token-2"}
    assert platform.fetches == [False, False]


def test_a_failed_fetch_releases_the_lock(state: SharedState) -> None:
    calls: list[bool] = []

    async def failing(force: bool) -> tuple[str, int]:
        calls.append(force)
        if len(calls) == 1:
            raise ApiError(40013, "invalid appid")
        return "token-ok", 7200

    async def scenario() -> str:
        tokens = AccessTokens(state, "wxapp", failing, wait_seconds=2, poll_seconds=0.05)
        with pytest.raises(ApiError):
            await tokens.get()
        return await tokens.get()

    assert asyncio.run(scenario()) == "token-ok"


def test_a_stuck_refresh_elsewhere_ends_in_an_error_not_a_hang(state: SharedState) -> None:
    async def scenario() -> None:
        await state.claim("wechat:token-lock:wxapp", 30)  # another process holds the lock
        tokens = AccessTokens(state, "wxapp", Platform().fetch, wait_seconds=0.3, poll_seconds=0.05)
        await tokens.get()

    with pytest.raises(ApiError):
        asyncio.run(scenario())
