"""Inline keyboards carried by short server-side ids, on every shared store."""

from __future__ import annotations

import asyncio

from bot.channels.shared_state import SharedState
from bot.channels.telegram.buttons import MAX_CALLBACK_BYTES, Keyboards

CHAT = 5550002
LONG = '/transaction_failed{"transaction_id": "TX202611242103001", "payee": "京东商城旗舰店客服中心"}'


def test_callback_data_is_short_and_reveals_no_payload(state: SharedState) -> None:
    async def run() -> None:
        keyboards = Keyboards(state, 60)
        ids = await keyboards.register(CHAT, [LONG, "/affirm", "/deny"])
        assert len(ids) == 3 and len(set(ids)) == 3
        for data in ids:
            assert 1 <= len(data.encode("utf-8")) <= 20 < MAX_CALLBACK_BYTES
            assert "transaction" not in data and "affirm" not in data
        assert (await keyboards.press(CHAT, ids[0])).payload == LONG

    asyncio.run(run())


def test_a_keyboard_answers_once(state: SharedState) -> None:
    async def run() -> None:
        keyboards = Keyboards(state, 60)
        ids = await keyboards.register(CHAT, ["/affirm", "/deny"])
        assert (await keyboards.press(CHAT, ids[1])).payload == "/deny"
        again = await keyboards.press(CHAT, ids[1])
        other = await keyboards.press(CHAT, ids[0])
        assert again.payload is None and again.problem == "used"
        assert other.payload is None and other.problem == "used"

    asyncio.run(run())


def test_unknown_forged_foreign_or_expired_ids_mean_nothing(state: SharedState) -> None:
    async def run() -> None:
        keyboards = Keyboards(state, 60)
        ids = await keyboards.register(CHAT, ["/affirm"])
        keyboard = ids[0].split(".")[0]
        for data in (
            "",
            "x",
            "/affirm",
            "AAAAAAAAAAAAAAAA.0",
            f"{keyboard}.5",
            f"{keyboard}.-1",
            f"{keyboard}.00x",
            ids[0] + " ",
            "../" + ids[0],
            "🙂" * 16 + ".0",
        ):
            pressed = await keyboards.press(CHAT, data)
            assert pressed.payload is None and pressed.problem == "expired", data
        assert (await keyboards.press(CHAT + 1, ids[0])).problem == "expired"  # another chat's keyboard
        short = Keyboards(state, 0.2)
        stale = await short.register(CHAT, ["/affirm"])
        await asyncio.sleep(0.5)
        assert (await short.press(CHAT, stale[0])).problem == "expired"
        assert (await keyboards.press(CHAT, ids[0])).payload == "/affirm"  # the real one still works

    asyncio.run(run())


def test_two_instances_share_keyboards(state: SharedState) -> None:
    async def run() -> None:
        ids = await Keyboards(state, 60).register(CHAT, ["/greet", "/thank"])
        results = await asyncio.gather(*(Keyboards(state, 60).press(CHAT, ids[0]) for _ in range(5)))
        assert [r.payload for r in results].count("/greet") == 1  # a double tap on two instances

    asyncio.run(run())
