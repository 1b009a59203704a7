"""Telegram updates for tests, from the samples in ``telegram_updates.yml``, and a poster."""

from __future__ import annotations

import copy
import itertools
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import yaml

SAMPLES = Path(__file__).with_name("telegram_updates.yml")
SECRET = "test-webhook-secret-0123456789abcdef"
_ids = itertools.count(int(1e6))


@lru_cache(maxsize=1)
def samples() -> dict[str, dict[str, Any]]:
    """Every sample by kind."""
    return dict(yaml.safe_load(SAMPLES.read_text(encoding="utf-8")))


def _fill(value: Any, chat: int, text: str) -> Any:
    if value == "CHAT":
        return chat
    if value == "TEXT":
        return text
    if isinstance(value, dict):
        return {k: _fill(v, chat, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, chat, text) for v in value]
    return value


def update(kind: str, chat: int, text: str = "你好", update_id: int | None = None) -> dict[str, Any]:
    """An update of ``kind`` from the private chat ``chat``, with ``text`` (or callback data)."""
    body = _fill(copy.deepcopy(samples()[kind]), chat, text)
    return {"update_id": next(_ids) if update_id is None else update_id, **body}


def post(
    base_url: str, body: dict[str, Any] | bytes, secret: str | None = SECRET, timeout: float = 90
) -> httpx.Response:
    """POST one webhook body (a dict as JSON, bytes as they are) with the secret header."""
    content, headers = _request(body, secret)
    return httpx.post(
        f"{base_url}/webhooks/telegram/webhook", content=content, headers=headers, timeout=timeout
    )


def _request(body: dict[str, Any] | bytes, secret: str | None) -> tuple[bytes, dict[str, str]]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
    return content, headers


async def apost(
    client: httpx.AsyncClient, base_url: str, body: dict[str, Any] | bytes, secret: str | None = SECRET
) -> httpx.Response:
    """POST one webhook body from inside the event loop that serves it."""
    content, headers = _request(body, secret)
    return await client.post(f"{base_url}/webhooks/telegram/webhook", content=content, headers=headers)
