import pytest

from bot.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_limit_per_key_and_window_slides() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, 60, clock)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")  # other keys are independent
    clock.now = 61
    assert limiter.allow("a")


def test_idle_keys_are_forgotten() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, 10, clock)
    for i in range(100):
        limiter.allow(f"user{i}")
    clock.now = 25
    limiter.allow("new")
    assert len(limiter._events) == 1


@pytest.mark.parametrize(("limit", "window"), [(0, 10), (1, 0)])
def test_bad_configuration(limit: int, window: float) -> None:
    with pytest.raises(ValueError):
        RateLimiter(limit, window)


def test_admit_is_allow_awaitable() -> None:
    import asyncio

    clock = FakeClock()
    limiter = RateLimiter(2, 60, clock)

    async def scenario() -> list[bool]:
        return [await limiter.admit("a") for _ in range(3)]

    assert asyncio.run(scenario()) == [True, True, False]
    assert (limiter.limit, limiter.window) == (2, 60)
