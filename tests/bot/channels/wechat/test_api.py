"""The platform API client: stable_token, errcode checked on every answer, a refused token
replaced once, not-delivered reasons, time limits, media downloads within limits."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from bot.channels.shared_state import SqlState
from bot.channels.wechat.api import MediaTooLarge, WeChatApi
from bot.channels.wechat.errors import ApiError, NotDelivered
from tests.bot.channels.wechat.harness import APP_ID, APP_SECRET, OPENID, PNG, FakePlatform, settings


def _api(tmp_path: Path, platform: FakePlatform, **overrides: object) -> WeChatApi:
    state = SqlState(f"sqlite:///{tmp_path / 'state.db'}")
    return WeChatApi(settings(**overrides), state, platform.transport())


def test_texts_go_as_utf8_json_with_a_stable_token(tmp_path: Path) -> None:
    platform = FakePlatform()

    async def scenario() -> None:
        api = _api(tmp_path, platform)
        await api.send_text(OPENID, "您好，人工客服 小王 已接入")
        await api.send_text(OPENID, "第二条")
        await api.aclose()

    asyncio.run(scenario())
    assert platform.token_fetches == [
        {"grant_type": "client_credential", "appid": APP_ID, "secret": APP_SECRET, "force_refresh": False}
    ]
    assert platform.texts() == ["您好，人工客服 小王 已接入", "第二条"]
    assert "您好".encode() in platform.sent_raw[0]  # ensure_ascii=False: no \\u escapes
    assert platform.sent[0] == {
        "touser": OPENID,
        "msgtype": "text",
        "text": {"content": "您好，人工客服 小王 已接入"},
    }
    sends = [r for r in platform.requests if r.url.path == "/cgi-bin/message/custom/send"]
    assert all(r.url.params["access_token"] == "ACCESS_TOKEN_1" for r in sends)


def test_a_refused_token_is_refreshed_and_the_call_retried_once(tmp_path: Path) -> None:
    platform = FakePlatform(token_rejections=1)

    async def scenario() -> None:
        await _api(tmp_path, platform).send_text(OPENID, "你好")

    asyncio.run(scenario())
    # the fake hands out a new token on every fetch, so no forced refresh is spent
    assert [f["force_refresh"] for f in platform.token_fetches] == [False, False]
    assert platform.texts() == ["你好"]


def test_a_token_refused_twice_is_not_retried_forever(tmp_path: Path) -> None:
    platform = FakePlatform(token_rejections=10)

    async def scenario() -> None:
        await _api(tmp_path, platform).send_text(OPENID, "你好")

    with pytest.raises(NotDelivered) as error:
        asyncio.run(scenario())
    assert (error.value.errcode, error.value.reason) == (40001, "unavailable")
    assert len(platform.token_fetches) == 2
    assert len([r for r in platform.requests if r.url.path == "/cgi-bin/message/custom/send"]) == 2


@pytest.mark.parametrize(
    ("errcode", "reason"),
    [
        (45015, "window_closed"),
        (45047, "quota"),
        (45009, "rate_limited"),
        (43004, "unsubscribed"),
        (40003, "unknown_sender"),
        (48001, "unavailable"),
    ],
)
def test_refusals_say_why(tmp_path: Path, errcode: int, reason: str) -> None:
    platform = FakePlatform(send_errors=[errcode])

    async def scenario() -> None:
        await _api(tmp_path, platform).send_text(OPENID, "你好")

    with pytest.raises(NotDelivered) as error:
        asyncio.run(scenario())
    assert (error.value.errcode, error.value.reason) == (errcode, reason)
    assert platform.sent == []


def test_a_busy_platform_is_retried_once(tmp_path: Path) -> None:
    platform = FakePlatform(send_errors=[-1])
    asyncio.run(_api(tmp_path, platform).send_text(OPENID, "你好"))
    assert platform.texts() == ["你好"]


def test_every_call_has_a_time_limit(tmp_path: Path) -> None:
    platform = FakePlatform(delay=5)

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(NotDelivered) as error:
            await _api(tmp_path, platform, api_timeout_seconds=0.5).send_text(OPENID, "你好")
        assert error.value.reason == "unavailable"
        return loop.time() - started

    assert asyncio.run(scenario()) < 3


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, text="oops"),
        httpx.Response(200, text="<html>not json</html>"),
        httpx.Response(200, json=[1, 2]),
        httpx.Response(200, json={"errcode": "0"}),
    ],
)
def test_odd_answers_are_errors(tmp_path: Path, answer: httpx.Response) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cgi-bin/stable_token":
            return httpx.Response(200, json={"access_token": "T", "expires_in": 7200})
        return answer

    api = WeChatApi(settings(), SqlState(f"sqlite:///{tmp_path / 's.db'}"), httpx.MockTransport(handler))
    with pytest.raises(NotDelivered) as error:
        asyncio.run(api.send_text(OPENID, "你好"))
    assert error.value.reason == "unavailable"


def test_bad_credentials_are_reported(tmp_path: Path) -> None:
    platform = FakePlatform()
    api = WeChatApi(
        settings(app_secret="wrong-secret"), SqlState(f"sqlite:///{tmp_path / 's.db'}"), platform.transport()
    )
    with pytest.raises(ApiError) as error:
        asyncio.run(api.create_menu({"button": []}))
    assert error.value.errcode == 40013
    assert "wrong-secret" not in str(error.value)


def test_media_downloads(tmp_path: Path) -> None:
    platform = FakePlatform(
        media={"m1": ("image/png", PNG), "big": ("image/jpeg", b"\xff\xd8\xff" + bytes(5000))}
    )

    async def scenario() -> None:
        api = _api(tmp_path, platform)
        media = await api.fetch_media("m1", 1024)
        assert (media.content_type, media.data) == ("image/png", PNG)
        with pytest.raises(MediaTooLarge):
            await api.fetch_media("big", 1024)
        with pytest.raises(ApiError) as error:
            await api.fetch_media("unknown", 1024)
        assert error.value.errcode == 40007

    asyncio.run(scenario())


def test_the_menu_is_created_as_json(tmp_path: Path) -> None:
    platform = FakePlatform()
    menu = {"button": [{"type": "click", "name": "转人工", "key": "REQUEST_HUMAN"}]}
    asyncio.run(_api(tmp_path, platform).create_menu(menu))
    assert platform.menus == [menu]
    request = next(r for r in platform.requests if r.url.path == "/cgi-bin/menu/create")
    assert json.loads(request.content) == menu and "转人工".encode() in request.content
