"""The platform API, asynchronous (httpx): customer-service messages (客服消息), media
downloads and the custom menu, with the one shared access_token (tokens.py).

wechatpy's ``WeChatClient`` is synchronous ``requests`` with a per-process token and no time
limit on the token fetch, so it is not used on the event loop. Every call here has a time
limit, and every answer's ``errcode`` is checked (HTTP 200 carries the errors): an invalid
or expired access_token (40001, 40014, 42001) is replaced once and the call retried once; a
busy platform (-1) is retried once. The access_token is never logged (the log masking
hides ``access_token=`` in httpx's request lines too).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from bot.channels.shared_state import SharedState, shared_state
from bot.channels.wechat.errors import ApiError, NotDelivered
from bot.channels.wechat.settings import WeChatSettings
from bot.channels.wechat.tokens import AccessTokens

logger = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
BUSY = -1
MAX_JSON_BYTES = 64 * 1024
T = TypeVar("T")


class MediaTooLarge(ApiError):
    """The media file is larger than the channel accepts."""

    def __init__(self) -> None:
        """Create the error."""
        super().__init__(0, "media too large")


@dataclass(frozen=True)
class Media:
    """A downloaded media file: the platform's content type (not trusted) and the bytes."""

    content_type: str
    data: bytes


def _errcode(body: Any) -> int:
    if not isinstance(body, dict):
        raise ApiError(0, "the answer is not a JSON object")
    code = body.get("errcode", 0)
    if not isinstance(code, int) or isinstance(code, bool):
        raise ApiError(0, "the answer's errcode is not a number")
    return code


def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(0, "the answer is not JSON") from error


class WeChatApi:
    """The calls the channel makes, for one app (settings from the environment)."""

    def __init__(
        self,
        settings: WeChatSettings,
        state: SharedState | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """No connection is opened here; the HTTP client is made on first use, in its loop.

        ``state``: the shared channel state (default: ``shared_state()``, opened on first use);
        ``transport``: for tests.
        """
        self._settings = settings
        self._state = state
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._tokens: AccessTokens | None = None

    # --- plumbing ------------------------------------------------------------
    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self._settings.api_base,
                timeout=httpx.Timeout(self._settings.api_timeout_seconds),
                transport=self._transport,
                follow_redirects=False,
                headers={"User-Agent": "united-wallet-assistant"},
            )
        return self._client

    def tokens(self) -> AccessTokens:
        """The shared access_token of this app."""
        if self._tokens is None:
            state = self._state if self._state is not None else shared_state()
            self._tokens = AccessTokens(state, self._settings.app_id, self._fetch_token)
        return self._tokens

    async def _limited(self, call: Awaitable[T]) -> T:
        """One exchange within the time limit; network failures become ApiError(0)."""
        try:
            return await asyncio.wait_for(call, self._settings.api_timeout_seconds + 1)
        except (asyncio.TimeoutError, httpx.TimeoutException) as error:
            raise ApiError(0, "the platform did not answer in time") from error
        except httpx.HTTPError as error:
            raise ApiError(0, f"the platform could not be reached ({type(error).__name__})") from error

    async def _post(self, path: str, payload: dict[str, Any], params: dict[str, str] | None = None) -> Any:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        answer = await self._limited(
            self._http().post(
                path,
                params=params,
                content=body,
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
        )
        if answer.status_code != 200:
            raise ApiError(0, f"HTTP {answer.status_code}")
        if len(answer.content) > MAX_JSON_BYTES:
            raise ApiError(0, "the answer is too large")
        return _json(answer.content)

    async def _fetch_token(self, force: bool) -> tuple[str, int]:
        """``POST /cgi-bin/stable_token`` (force_refresh when the cached token was refused)."""
        settings = self._settings
        payload = {
            "grant_type": "client_credential",
            "appid": settings.app_id,
            "secret": settings.app_secret,
            "force_refresh": force,
        }
        body = await self._post("/cgi-bin/stable_token", payload)
        code = _errcode(body)
        if code:
            raise ApiError(code, "stable_token refused")
        token, expires_in = body.get("access_token"), body.get("expires_in", 7200)
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise ApiError(0, "stable_token answered without a token")
        return token, expires_in

    async def _with_token(self, call: Callable[[str], Awaitable[Any]]) -> Any:
        """Run ``call(access_token)`` and check its errcode: a refused token is replaced once
        and the call retried once, a busy platform retried once."""
        tokens = self.tokens()
        token = await tokens.get()
        retried_token = retried_busy = False
        while True:
            body = await call(token)
            code = _errcode(body)
            if code == 0:
                return body
            if code in TOKEN_ERRORS and not retried_token:
                retried_token = True
                logger.info("wechat api: the access_token was refused (%s), refreshing it once", code)
                token = await tokens.get(rejected=token)
                continue
            if code == BUSY and not retried_busy:
                retried_busy = True
                await asyncio.sleep(0.2)
                continue
            raise ApiError(code, str(body.get("errmsg", ""))[:100])

    # --- calls ---------------------------------------------------------------
    async def send_text(self, openid: str, text: str) -> None:
        """One customer-service text message.

        Raises:
            NotDelivered: the platform refused it or could not be reached (``reason`` says why:
            window_closed 45015, quota 45047, rate_limited 45009, unsubscribed 43004, …).
        """
        payload = {"touser": openid, "msgtype": "text", "text": {"content": text}}

        async def send(token: str) -> Any:
            return await self._post("/cgi-bin/message/custom/send", payload, {"access_token": token})

        try:
            await self._with_token(send)
        except ApiError as error:
            raise NotDelivered(error.errcode, error.detail) from error

    async def create_menu(self, menu: dict[str, Any]) -> None:
        """``POST /cgi-bin/menu/create`` with the whole menu.

        Raises:
            ApiError: the platform refused it or could not be reached.
        """

        async def create(token: str) -> Any:
            return await self._post("/cgi-bin/menu/create", menu, {"access_token": token})

        await self._with_token(create)

    async def fetch_media(self, media_id: str, max_bytes: int) -> Media:
        """Download a user's media file (``GET /cgi-bin/media/get``), at most ``max_bytes``.

        Raises:
            MediaTooLarge: over ``max_bytes``.
            ApiError: the platform refused it (an errcode in JSON) or could not be reached.
        """
        found: list[Media] = []

        async def download(token: str) -> Any:
            params = {"access_token": token, "media_id": media_id}
            media = await self._limited(self._download(params, max_bytes))
            if isinstance(media, Media):
                found.append(media)
                return {"errcode": 0}
            return media

        await self._with_token(download)
        return found[-1]

    async def _download(self, params: dict[str, str], max_bytes: int) -> Media | Any:
        async with self._http().stream("GET", "/cgi-bin/media/get", params=params) as answer:
            if answer.status_code != 200:
                raise ApiError(0, f"HTTP {answer.status_code}")
            content_type = answer.headers.get("content-type", "").split(";")[0].strip().lower()
            declared = answer.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise MediaTooLarge()
            data = bytearray()
            async for chunk in answer.aiter_bytes():
                data += chunk
                if len(data) > max_bytes:
                    raise MediaTooLarge()
        looks_like_json = content_type in ("application/json", "text/plain", "text/json") or data[:1] == b"{"
        if looks_like_json and len(data) <= MAX_JSON_BYTES:
            try:
                return json.loads(bytes(data))  # an error such as {"errcode": 40007, …}
            except (ValueError, UnicodeDecodeError):
                pass
        return Media(content_type, bytes(data))

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
