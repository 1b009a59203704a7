"""The state the social channels share across instances: one claim wins, values expire."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.shared_state import SharedState


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


def test_only_the_first_claim_wins(state: SharedState) -> None:
    async def scenario() -> list[bool]:
        return list(await asyncio.gather(*(state.claim("msg:1", 60, str(i)) for i in range(8))))

    won = run(scenario())
    assert won.count(True) == 1


def test_an_expired_claim_can_be_taken_again(state: SharedState) -> None:
    async def scenario() -> tuple[bool, bool, bool]:
        first = await state.claim("msg:2", 0.2)
        second = await state.claim("msg:2", 0.2)
        await asyncio.sleep(0.35)
        return first, second, await state.claim("msg:2", 60)

    assert run(scenario()) == (True, False, True)


def test_values_are_kept_replaced_and_removed(state: SharedState) -> None:
    async def scenario() -> list[str | None]:
        seen = [await state.get("reply:1")]
        await state.put("reply:1", "<xml>一</xml>", 60)
        seen.append(await state.get("reply:1"))
        await state.put("reply:1", "<xml>二</xml>", 60)
        seen.append(await state.get("reply:1"))
        await state.delete("reply:1")
        seen.append(await state.get("reply:1"))
        await state.put("reply:2", "x", 0.1)
        await asyncio.sleep(0.25)
        seen.append(await state.get("reply:2"))
        return seen

    assert run(scenario()) == [None, "<xml>一</xml>", "<xml>二</xml>", None, None]


def test_keys_are_bounded(state: SharedState) -> None:
    with pytest.raises(ValueError):
        run(state.claim("", 1))
    with pytest.raises(ValueError):
        run(state.get("k" * 201))
