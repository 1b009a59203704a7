"""A fake WeChat Official Account API on 127.0.0.1: the calls the channel makes, answered as
WeChat answers them (HTTP 200, ``errcode``/``errmsg``), every 客服消息 recorded, and faults on
demand (``FakeWeChat.state``: expire or invalidate tokens, 45015, 45047, slow answers).

    GET  /cgi-bin/token?grant_type=client_credential&appid=…&secret=…
    POST /cgi-bin/stable_token            {"grant_type", "appid", "secret", "force_refresh"}
    POST /cgi-bin/message/custom/send?access_token=…
    POST /cgi-bin/menu/create?access_token=…   GET /cgi-bin/menu/get, /cgi-bin/menu/delete
    GET  /cgi-bin/media/get?access_token=…&media_id=…
    GET  /mmbiz/<media_id>                the PicUrl of an image message
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.channels.wechat_sim import errcodes
from bot.channels.wechat_sim.account import Account
from bot.channels.wechat_sim.background import BackgroundServer
from bot.channels.wechat_sim.errcodes import ApiError
from bot.channels.wechat_sim.menu import check_menu, has_escapes
from bot.channels.wechat_sim.state import WeChatState

MAX_TEXT_BYTES = 2048
MAX_BODY_BYTES = 1024 * 1024
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(body: dict[str, Any]) -> web.Response:
    return web.Response(text=json.dumps(body, ensure_ascii=False), content_type="application/json")


def _error(errcode: int, content_type: str) -> web.Response:
    return web.Response(
        text=json.dumps(errcodes.answer(errcode), ensure_ascii=False), content_type=content_type
    )


async def _json_body(request: web.Request) -> tuple[dict[str, Any], str]:
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if not raw:
        raise ApiError(errcodes.EMPTY_POST_DATA)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(errcodes.DATA_FORMAT_ERROR)
    try:
        text = raw.decode("utf-8")
        body = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(errcodes.DATA_FORMAT_ERROR) from error
    if not isinstance(body, dict):
        raise ApiError(errcodes.DATA_FORMAT_ERROR)
    return body, text


def _credentials(account: Account, grant_type: Any, appid: Any, secret: Any) -> None:
    if grant_type != "client_credential":
        raise ApiError(errcodes.INVALID_GRANT_TYPE)
    if appid != account.app_id:
        raise ApiError(errcodes.INVALID_APPID)
    if secret != account.app_secret:
        raise ApiError(errcodes.INVALID_APPSECRET)


MSGTYPES = frozenset({"text", "image", "voice", "video", "news", "msgmenu"})


def _text_of(msgtype: str, body: dict[str, Any]) -> str:
    """What the user sees of a valid 客服消息 (raises ApiError for an invalid one)."""
    if msgtype not in MSGTYPES:
        raise ApiError(errcodes.INVALID_MESSAGE_TYPE)
    part = body.get(msgtype)
    if not isinstance(part, dict):
        raise ApiError(errcodes.DATA_FORMAT_ERROR)
    if msgtype == "text":
        content = part.get("content")
        if not isinstance(content, str) or not content:
            raise ApiError(errcodes.EMPTY_CONTENT)
        if len(content.encode("utf-8")) > MAX_TEXT_BYTES:
            raise ApiError(errcodes.CONTENT_TOO_LONG)
        return content
    if msgtype in ("image", "voice", "video"):
        if not isinstance(part.get("media_id"), str) or not part["media_id"]:
            raise ApiError(errcodes.MEDIA_ID_MISSING)
        return {"image": "[图片]", "voice": "[语音]"}.get(msgtype, "[视频]")
    if msgtype == "news":
        articles = part.get("articles")
        if not isinstance(articles, list) or len(articles) != 1 or not isinstance(articles[0], dict):
            raise ApiError(errcodes.DATA_FORMAT_ERROR)
        return str(articles[0].get("title", ""))
    if msgtype == "msgmenu":
        items = part.get("list")
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            raise ApiError(errcodes.DATA_FORMAT_ERROR)
        lines = [str(part.get("head_content", "")), *(str(i.get("content", "")) for i in items)]
        return "\n".join([*lines, str(part.get("tail_content", ""))]).strip()
    raise ApiError(errcodes.INVALID_MESSAGE_TYPE)


def make_app(state: WeChatState) -> web.Application:
    """The API's routes over ``state``."""

    @web.middleware
    async def wechat_answers(request: web.Request, handler: Handler) -> web.StreamResponse:
        delay = state.delay_for(request.path)
        if delay:
            await asyncio.sleep(delay)
        try:
            answer, errcode = await handler(request), errcodes.OK
        except ApiError as error:
            answer, errcode = _error(error.errcode, error.content_type), error.errcode
        state.record_call(request.path, errcode)
        return answer

    def authorized(request: web.Request) -> None:
        errcode = state.check_token(request.query.get("access_token"))
        if errcode:
            raise ApiError(errcode)
        injected = state.injected(request.path)
        if injected is not None:
            raise ApiError(injected)

    def issued(
        request: web.Request, grant_type: Any, appid: Any, secret: Any, force: bool | None
    ) -> web.Response:
        _credentials(state.account, grant_type, appid, secret)
        injected = state.injected(request.path)
        if injected is not None:
            raise ApiError(injected)
        value, expires_in = state.issue_token(force)
        return _json({"access_token": value, "expires_in": expires_in})

    async def token(request: web.Request) -> web.Response:
        query = request.query
        return issued(request, query.get("grant_type"), query.get("appid"), query.get("secret"), None)

    async def stable_token(request: web.Request) -> web.Response:
        body, _ = await _json_body(request)
        force = body.get("force_refresh", False)
        if not isinstance(force, bool):
            raise ApiError(errcodes.DATA_FORMAT_ERROR)
        return issued(request, body.get("grant_type"), body.get("appid"), body.get("secret"), force)

    async def custom_send(request: web.Request) -> web.Response:
        # a refused token (or a queued failure) wins, but the call is still recorded as a delivery
        refused = state.check_token(request.query.get("access_token")) or state.injected(request.path)
        try:
            body, text = await _json_body(request)
        except ApiError as error:
            raise ApiError(refused or error.errcode) from None
        openid, msgtype = body.get("touser"), body.get("msgtype")
        if not isinstance(openid, str) or not openid:
            raise ApiError(refused or errcodes.INVALID_OPENID)
        escaped, shown, invalid = has_escapes(text), "", errcodes.OK
        try:
            if not isinstance(msgtype, str):
                raise ApiError(errcodes.INVALID_MESSAGE_TYPE)
            shown = _text_of(msgtype, body)
        except ApiError as error:
            invalid = error.errcode
        errcode = refused or invalid
        if errcode:
            state.record_send(openid, str(msgtype), shown, body, errcode, escaped)
        else:
            errcode = state.deliver(openid, str(msgtype), shown, body, escaped)
        if errcode:
            raise ApiError(errcode)
        return _json(errcodes.answer(errcodes.OK))

    async def menu_create(request: web.Request) -> web.Response:
        authorized(request)
        body, text = await _json_body(request)
        if has_escapes(text):
            raise ApiError(errcodes.INVALID_CHARSET)
        check_menu(body)
        state.set_menu(body)
        return _json(errcodes.answer(errcodes.OK))

    async def menu_get(request: web.Request) -> web.Response:
        authorized(request)
        if state.menu is None:
            raise ApiError(errcodes.MENU_MISSING)
        return _json({"menu": state.menu})

    async def menu_delete(request: web.Request) -> web.Response:
        authorized(request)
        state.set_menu(None)
        return _json(errcodes.answer(errcodes.OK))

    async def media_get(request: web.Request) -> web.Response:
        try:
            authorized(request)
            media_id = request.query.get("media_id")
            if not media_id:
                raise ApiError(errcodes.MEDIA_ID_MISSING)
            media = state.get_media(media_id)
            if media is None:
                raise ApiError(errcodes.INVALID_MEDIA_ID)
        except ApiError as error:  # WeChat answers media errors as text/plain JSON
            raise ApiError(error.errcode, "text/plain") from None
        headers = {"Content-disposition": f'attachment; filename="{media.filename}"'}
        return web.Response(body=media.data, content_type=media.content_type, headers=headers)

    async def picture(request: web.Request) -> web.Response:
        media = state.get_media(request.match_info["media_id"])
        if media is None or not media.content_type.startswith("image/"):
            raise web.HTTPNotFound()
        return web.Response(body=media.data, content_type=media.content_type)

    app = web.Application(middlewares=[wechat_answers], client_max_size=MAX_BODY_BYTES)
    app.router.add_get("/cgi-bin/token", token)
    app.router.add_post("/cgi-bin/stable_token", stable_token)
    app.router.add_post("/cgi-bin/message/custom/send", custom_send)
    app.router.add_post("/cgi-bin/menu/create", menu_create)
    app.router.add_get("/cgi-bin/menu/get", menu_get)
    app.router.add_get("/cgi-bin/menu/delete", menu_delete)
    app.router.add_get("/cgi-bin/media/get", media_get)
    app.router.add_get("/mmbiz/{media_id}", picture)
    return app


class FakeWeChat:
    """The fake API for one account, served in a background thread.

    ``with FakeWeChat(account) as wechat:`` … ``wechat.url`` is the WECHAT_API_BASE,
    ``wechat.state`` the records and the fault switches.
    """

    def __init__(
        self, account: Account, host: str = "127.0.0.1", port: int = 0, state: WeChatState | None = None
    ) -> None:
        """Prepare the API (``state``: one made beforehand, e.g. with a test clock)."""
        self.account = account
        self.state = state or WeChatState(account)
        self._server = BackgroundServer(lambda: make_app(self.state), host, port)

    @property
    def url(self) -> str:
        """The API base URL (WECHAT_API_BASE)."""
        return self._server.url

    def picture_url(self, media_id: str) -> str:
        """The PicUrl WeChat puts into an image message."""
        return f"{self.url}/mmbiz/{media_id}"

    def channel_env(self) -> dict[str, str]:
        """The WECHAT_* settings of a Rasa server that uses this fake."""
        return self.account.channel_env(self.url)

    def start(self) -> FakeWeChat:
        """Serve (returns once listening)."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def __enter__(self) -> FakeWeChat:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
