"""Login throttling per username, per address and for everybody, before any argon2 work."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bot.handoff.errors import Throttled
from bot.handoff.hasher import ThreadHasher
from bot.handoff.settings import LoginLimits
from bot.handoff.store import HandoffStore
from bot.handoff.throttle import LoginThrottle, throttle_key
from bot.handoff.workers import Pool
from tests.bot.handoff.conftest import FakeClock, OffLoopOnly

PASSWORD = "correct horse"


class CountingHasher(ThreadHasher):
    """Real argon2 in threads, counting every verification (known and unknown usernames)."""

    calls = 0

    async def verify(self, encoded: str, password: str) -> bool:
        self.calls += 1
        return await super().verify(encoded, password)

    async def burn(self, password: str) -> None:
        self.calls += 1
        await super().burn(password)


@pytest.fixture()
def pools() -> Iterator[tuple[Pool, CountingHasher]]:
    sql, hashing = Pool("test-sql", 2), CountingHasher(Pool("test-hashing", 2))
    yield sql, hashing
    sql.close()
    hashing.close()


def throttle(store: HandoffStore, pools: tuple[Pool, CountingHasher], **limits: Any) -> LoginThrottle:
    return LoginThrottle(OffLoopOnly(store), LoginLimits(**limits), *pools)  # type: ignore[arg-type]


class Counting:
    """How many verifications happen from now on."""

    def __init__(self, pools: tuple[Pool, CountingHasher]) -> None:
        self.hasher, self.start = pools[1], pools[1].calls

    @property
    def calls(self) -> int:
        return self.hasher.calls - self.start


def login(guard: LoginThrottle, username: str, password: str, address: str) -> Any:
    return asyncio.run(guard.login(username, password, address))


def test_per_username(
    store: HandoffStore, pools: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add_agent("xiaowang", "小王", PASSWORD)
    store.add_agent("xiaoli", "小李", PASSWORD)
    guard = throttle(store, pools, per_username=3, per_address=100, global_failures=100)
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):  # one username from everywhere
        assert login(guard, "xiaowang", "wrong password", address) is None
    hashes = Counting(pools)
    with pytest.raises(Throttled) as refused:
        login(guard, "XiaoWang", PASSWORD, "198.51.100.7")  # even the right password, from elsewhere
    assert hashes.calls == 0 and refused.value.retry_after == 900
    assert login(guard, "xiaoli", PASSWORD, "198.51.100.7") is not None  # other usernames are fine
    clock.advance(901)
    assert login(guard, "xiaowang", PASSWORD, "198.51.100.7") is not None


def test_per_address(
    store: HandoffStore, pools: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add_agent("xiaowang", "小王", PASSWORD)
    guard = throttle(store, pools, per_username=100, per_address=3, global_failures=100)
    for username in ("alice", "bob", "carol"):  # many usernames from one address
        assert login(guard, username, "guess-123", "203.0.113.9") is None
    hashes = Counting(pools)
    with pytest.raises(Throttled):
        login(guard, "xiaowang", PASSWORD, "203.0.113.9")
    assert hashes.calls == 0
    assert login(guard, "xiaowang", PASSWORD, "203.0.113.10") is not None  # other addresses are fine


def test_globally(store: HandoffStore, pools: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    store.add_agent("xiaowang", "小王", PASSWORD)
    guard = throttle(
        store, pools, per_username=100, per_address=100, global_failures=4, global_window_seconds=60
    )
    for n in range(4):  # a distributed attack: every attempt from another address and username
        assert login(guard, f"user{n}", "guess-123", f"203.0.113.{n}") is None
    hashes = Counting(pools)
    with pytest.raises(Throttled) as refused:
        login(guard, "xiaowang", PASSWORD, "198.51.100.1")
    assert hashes.calls == 0 and refused.value.retry_after == 60
    clock.advance(61)  # the global window is short
    assert login(guard, "xiaowang", PASSWORD, "198.51.100.1") is not None


def test_a_success_clears_the_username_only(store: HandoffStore, pools: Any) -> None:
    store.add_agent("xiaowang", "小王", PASSWORD)
    guard = throttle(store, pools, per_username=3, per_address=3, global_failures=100)
    for _ in range(2):
        login(guard, "xiaowang", "wrong password", "203.0.113.9")
    assert login(guard, "xiaowang", PASSWORD, "203.0.113.9") is not None
    windows = guard.windows("xiaowang", "203.0.113.9")
    counts = store.failure_counts(windows)
    assert counts[throttle_key("user", "xiaowang")] == 0 and counts[throttle_key("addr", "203.0.113.9")] == 2


def test_what_was_typed_is_never_stored(store: HandoffStore, pools: Any) -> None:
    guard = throttle(store, pools)
    login(guard, "secret-in-the-username-field", "p", "203.0.113.9")
    login(guard, "x\x00y" * 16, "p", "203.0.113.9")  # NUL and the longest usernames are fine too
    with store.engine.connect() as conn:
        keys = [row[0] for row in conn.exec_driver_sql("SELECT key FROM handoff_login_failures")]
    assert keys and not any("secret" in k or "203.0.113" in k for k in keys)
    assert all(len(k) <= 50 for k in keys)


def test_too_many_logins_at_once_are_refused_without_any_work(
    store: HandoffStore, pools: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = throttle(store, pools, concurrent=1)
    entered, release = threading.Event(), threading.Event()

    def slow_authenticate(username: str) -> None:
        entered.set()
        release.wait(10)

    monkeypatch.setattr(store, "credentials", slow_authenticate)
    counted: list[Any] = []
    monkeypatch.setattr(store, "failure_counts", lambda w: counted.append(w) or dict.fromkeys(w, 0))

    async def scenario() -> None:
        first = asyncio.create_task(guard.login("a", "b", "203.0.113.1"))
        while not entered.is_set():
            await asyncio.sleep(0.01)
        with pytest.raises(Throttled):
            await guard.login("c", "d", "203.0.113.2")
        assert len(counted) == 1 and guard.in_flight == 1
        release.set()
        await first

    asyncio.run(scenario())
    assert guard.in_flight == 0


def test_a_hash_made_with_old_parameters_is_replaced_at_login(store: HandoffStore, pools: Any) -> None:
    from argon2 import PasswordHasher

    agent = store.add_agent("xiaowang", "小王", PASSWORD)
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    store.replace_hash(agent.id, old)
    assert login(throttle(store, pools), "xiaowang", PASSWORD, "203.0.113.9") is not None
    assert store.credentials("xiaowang").password_hash != old  # type: ignore[union-attr]
    assert store.authenticate("xiaowang", PASSWORD) is not None


def test_wrong_disabled_and_oversized_logins_fail(store: HandoffStore, pools: Any) -> None:
    store.add_agent("xiaowang", "小王", PASSWORD)
    guard = throttle(store, pools, per_username=100, per_address=100, global_failures=100)
    store.set_agent_active("xiaowang", False)
    assert login(guard, "xiaowang", PASSWORD, "203.0.113.9") is None
    store.set_agent_active("xiaowang", True)
    for username, password in (
        ("xiaowang", ""),
        ("xiaowang", "p" * 200),
        ("", PASSWORD),
        ("XIAOWANG", PASSWORD),
    ):
        assert login(guard, username, password, "203.0.113.9") is None
    assert login(guard, "xiaowang", PASSWORD, "203.0.113.9") is not None
