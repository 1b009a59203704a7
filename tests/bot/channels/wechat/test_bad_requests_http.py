"""Garbage on purpose, over HTTP: the shared corpus's WeChat requests (tests/bad_inputs.py)
each get a clean 4xx (or ``success`` / a notice where WeChat needs a 200) with no turn, no
crash and nothing of the request in the answer or in the log; the shared corpus of odd texts
is answered."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path

import httpx
import pytest

from bot.channels.wechat.notices import notice
from bot.channels.wechat.outbound import xml_safe
from tests.bad_inputs import bad_messages, wechat_bad_encrypted_requests, wechat_bad_requests
from tests.bot.channels.wechat.harness import (
    AES_KEY,
    APP_ID,
    APP_SECRET,
    TOKEN,
    WEBHOOK,
    FakeBot,
    make_channel,
    payload,
    post,
    reply_content,
    serving,
)

OPENID = "oBadInput_0123456789abcdefgh"
NOW = int(time.time())
PLAIN = wechat_bad_requests(TOKEN, NOW, OPENID)
ENCRYPTED = wechat_bad_encrypted_requests(TOKEN, AES_KEY, APP_ID, NOW, OPENID)
SECRETS = (OPENID, TOKEN, AES_KEY, APP_SECRET, "你好", "/etc/passwd")


def _send(
    tmp_path: Path, case: dict[str, object], caplog: pytest.LogCaptureFixture, **overrides: object
) -> tuple[httpx.Response, FakeBot]:
    channel, platform = make_channel(tmp_path, **overrides)
    bot = FakeBot()

    async def scenario() -> httpx.Response:
        async with serving(channel, bot) as (client, _app):
            return await client.post(WEBHOOK, params=case["query"], content=case["body"])

    with caplog.at_level(logging.DEBUG):
        response = asyncio.run(scenario())
    assert platform.requests == []  # no token fetched, nothing sent
    return response, bot


def _assert_nothing_leaked(response: httpx.Response, caplog: pytest.LogCaptureFixture) -> None:
    """Nothing of the request in a refusal (a passive reply addresses the user) or in the log."""
    logged = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    for secret in SECRETS:
        assert response.status_code == 200 or secret not in response.text
        assert secret not in logged
    assert "Traceback" not in logged


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_bad_plaintext_requests(tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str) -> None:
    case = PLAIN[name]
    response, bot = _send(tmp_path, case, caplog)
    assert response.status_code == case["status"]
    assert bot.messages == []
    if case["error"] is not None:
        assert response.text == case["error"]
        assert response.headers["content-type"].startswith("text/plain")
    elif case["answer"] == "success":
        assert response.text == "success"
    else:
        assert reply_content(response) == notice("unsupported")
    _assert_nothing_leaked(response, caplog)


@pytest.mark.parametrize("name", sorted(ENCRYPTED))
def test_bad_safe_mode_requests(tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str) -> None:
    case = ENCRYPTED[name]
    response, bot = _send(tmp_path, case, caplog, aes_key=AES_KEY)
    assert (response.status_code, response.text) == (case["status"], case["error"])
    assert bot.messages == []
    _assert_nothing_leaked(response, caplog)


def test_a_replayed_msg_id_causes_no_second_turn(tmp_path: Path) -> None:
    channel, _ = make_channel(tmp_path)
    bot = FakeBot()
    original = payload("text", content="第一次", msg_id=4242424242)
    replayed = payload("text", content="换了内容再发一次", msg_id=4242424242)

    async def scenario() -> list[httpx.Response]:
        async with serving(channel, bot) as (client, _app):
            return [await post(client, original), await post(client, replayed)]

    first, second = asyncio.run(scenario())
    assert reply_content(first) == reply_content(second) == "收到：第一次"
    assert [m.text for m in bot.messages] == ["第一次"]


def test_the_body_cap_is_enforced_without_reading_on(tmp_path: Path) -> None:
    channel, _ = make_channel(tmp_path)
    bot = FakeBot()

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(200):
            yield b"<xml>" + b"x" * 4096

    async def scenario() -> httpx.Response:
        async with serving(channel, bot) as (client, _app):
            return await client.post(WEBHOOK, params=PLAIN["forged_signature"]["query"], content=chunks())

    async def signed() -> httpx.Response:
        async with serving(channel, bot) as (client, _app):
            query = wechat_bad_requests(TOKEN, int(time.time()), OPENID)["empty_body"]["query"]
            return await client.post(WEBHOOK, params=query, content=chunks())

    assert asyncio.run(scenario()).status_code == 403  # the signature is checked before any body is read
    assert (asyncio.run(signed()).status_code, bot.messages) == (413, [])


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


@pytest.mark.parametrize("name", sorted(bad_messages()))
def test_odd_texts_are_answered(tmp_path: Path, name: str) -> None:
    text = bad_messages()[name]
    channel, _ = make_channel(tmp_path)
    bot = FakeBot()

    async def scenario() -> httpx.Response:
        async with serving(channel, bot) as (client, _app):
            return await post(client, payload("text", content=text))

    response = asyncio.run(scenario())
    if _NOT_XML.search(text):  # WeChat cannot send these: the XML would be malformed
        assert (response.status_code, response.text, bot.messages) == (400, "invalid_xml", [])
    elif len(text) > 2000:
        assert reply_content(response) == notice("too_long", max_chars=2000)
        assert bot.messages == []
    else:
        assert len(bot.messages) == 1
        assert reply_content(response) == xml_safe(f"收到：{bot.messages[0].text}").strip()
