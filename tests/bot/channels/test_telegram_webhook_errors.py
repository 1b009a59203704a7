"""The webhook's answers to requests it refuses, each with no turn and no crash: a missing or
forged secret, bodies that are not updates, a huge body, the shared state down, the channel
off or misconfigured."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.telegram import WalletTelegramInput
from bot.handoff.push import NotDeliverable
from tests.fakes.telegram_api import TOKEN, FakeBotApi, fake_bot_api
from tests.fakes.telegram_app import FakeRasa, scenario, serving, settings_for
from tests.fakes.telegram_updates import SECRET, apost, update

CHAT = 5550011


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with fake_bot_api() as api:
        yield api


# --- bad requests -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("secret", "status"),
    [(None, 403), ("", 403), ("wrong-secret-0123456789abcdef", 403), (SECRET[:-1], 403), (SECRET + "x", 403)],
)
def test_a_missing_or_forged_secret_is_refused(
    fake: FakeBotApi, tmp_path: Path, secret: str | None, status: int
) -> None:
    rasa = FakeRasa()

    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> httpx.Response:
        return await apost(client, base, update("text", CHAT, "我要转账到 13800138000"), secret=secret)

    reply = scenario(fake, tmp_path, steps, rasa)
    assert reply.status_code == status and reply.json() == {"error": "forbidden"}
    assert rasa.messages == [] and fake.calls == []


def test_a_secret_header_of_raw_bytes_is_refused(fake: FakeBotApi, tmp_path: Path) -> None:
    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> int:
        body = json.dumps(update("text", CHAT, "你好")).encode()
        headers = {"X-Telegram-Bot-Api-Secret-Token": b"\xff\xfe" + SECRET.encode()}
        reply = await client.post(f"{base}/webhooks/telegram/webhook", content=body, headers=headers)
        return reply.status_code

    rasa = FakeRasa()
    assert scenario(fake, tmp_path, steps, rasa) == 403
    assert rasa.messages == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{not json", "invalid_json"),
        (b'{"update_id": 5, "message": {"text": "\xff\xfe"}}', "invalid_json"),
        (b"\xff\xfe{\x00}\x00", "invalid_json"),
        (b"", "invalid_json"),
        (b"[" * 50_000, "invalid_json"),
        (b"[1, 2, 3]", "invalid_update"),
        (b'{"message": {"text": "hi"}}', "invalid_update"),
    ],
)
def test_bodies_that_are_not_updates_are_400_without_echo(
    fake: FakeBotApi, tmp_path: Path, body: bytes, error: str
) -> None:
    rasa = FakeRasa()

    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> httpx.Response:
        return await apost(client, base, body)

    reply = scenario(fake, tmp_path, steps, rasa)
    assert reply.status_code == 400 and reply.json() == {"error": error}
    assert rasa.messages == [] and fake.calls == []


def test_a_huge_body_is_refused_with_413(fake: FakeBotApi, tmp_path: Path) -> None:
    rasa = FakeRasa()
    huge = update("text", CHAT, "长" * 40000)  # 120 kB of UTF-8 over the 64 kB limit

    async def steps(channel: WalletTelegramInput, base: str, client: httpx.AsyncClient) -> list[int]:
        declared = await apost(client, base, huge)

        async def chunks() -> Any:  # no Content-Length: the limit holds while reading
            for _ in range(40):
                yield b" " * 4096

        streamed = await client.post(
            f"{base}/webhooks/telegram/webhook",
            content=chunks(),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
        )
        after = await apost(client, base, update("text", CHAT, "还在吗"))
        return [declared.status_code, streamed.status_code, after.status_code]

    assert scenario(fake, tmp_path, steps, rasa) == [413, 413, 200]
    assert [m.text for m in rasa.messages] == ["还在吗"]


def test_when_the_shared_state_is_down_telegram_is_asked_to_retry(fake: FakeBotApi, tmp_path: Path) -> None:
    class Down:
        async def claim(self, key: str, ttl: float, value: str = "") -> bool:
            raise ConnectionError("database is locked")

    rasa = FakeRasa()

    async def run() -> int:
        channel = WalletTelegramInput(settings_for(fake), state=lambda: Down())  # type: ignore[arg-type,return-value]
        async with serving(channel, rasa) as served, httpx.AsyncClient(timeout=30) as client:
            return (await apost(client, served.url, update("text", CHAT, "你好"))).status_code

    assert asyncio.run(run()) == 503
    assert rasa.messages == []


def test_a_shared_state_that_cannot_be_opened_is_retried_on_the_next_update(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    from bot.channels.shared_state import SqlState

    opened: list[str] = []

    def open_state() -> SqlState:
        opened.append("try")
        if len(opened) <= 2:  # at start, and on the first update
            raise ConnectionError("could not connect to server")
        return SqlState(f"sqlite:///{tmp_path / 'state.db'}")

    rasa = FakeRasa()

    async def run() -> list[int]:
        channel = WalletTelegramInput(settings_for(fake), state=open_state)
        async with serving(channel, rasa) as served, httpx.AsyncClient(timeout=30) as client:
            return [
                (await apost(client, served.url, update("text", CHAT, "你好"))).status_code for _ in range(2)
            ]

    assert asyncio.run(run()) == [503, 200]  # Telegram delivers the first again later
    assert opened == ["try", "try", "try"] and len(rasa.messages) == 1


def test_the_channel_is_off_without_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    channel = WalletTelegramInput.from_credentials({})
    assert channel.get_output_channel() is None

    async def run() -> list[int]:
        async with serving(channel, FakeRasa()) as served, httpx.AsyncClient(timeout=30) as client:
            posted = await apost(client, served.url, update("text", CHAT, "你好"))
            health = await client.get(f"{served.url}/webhooks/telegram/")
            return [posted.status_code, health.status_code]

    assert asyncio.run(run()) == [404, 404]
    with pytest.raises(NotDeliverable) as error:
        asyncio.run(channel.push(f"telegram:{CHAT}", {"text": "您好"}))
    assert error.value.reason == "unavailable"


def test_a_token_without_a_secret_stops_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_TOKEN", TOKEN)
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        WalletTelegramInput.from_credentials({})
