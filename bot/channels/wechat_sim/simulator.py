"""The simulator's web page: a person types as a WeChat user; the page shows the passive
replies and the 客服消息 that reach the fake WeChat (polled), the menu the channel created,
and switches for WeChat's faults. Every file is served from ``static/``; no outside host."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.channels.wechat_sim.media import png
from bot.channels.wechat_sim.menu import click_buttons
from bot.channels.wechat_sim.platform import FakeWeChat
from bot.channels.wechat_sim.server import Answer, WeChatServer
from bot.channels.wechat_sim.user import WeChatUser

STATIC = Path(__file__).resolve().parent / "static"
FILES = {
    "index.html": "text/html",
    "sim.js": "application/javascript",
    "sim.css": "text/css",
}
_OPENID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
MAX_TEXT = 2000


class BadRequest(Exception):
    """A page request the simulator refuses (the message is shown as is)."""


def _answer_json(answer: Answer) -> dict[str, Any]:
    reply = answer.reply
    return {
        "kind": reply.kind,
        "shown": reply.shown,
        "problem": reply.problem,
        "tries": len(answer.attempts),
        "statuses": [a.status for a in answer.attempts],
    }


def _field(data: dict[str, Any], key: str, limit: int = MAX_TEXT) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise BadRequest(f"{key}：请填写（最多 {limit} 个字符）")
    return value


class Simulator:
    """The page and its JSON API over one fake WeChat and one channel."""

    def __init__(self, wechat: FakeWeChat, server: WeChatServer) -> None:
        """Serve the page for ``wechat``, whose users write to ``server``'s channel."""
        self.wechat, self.server = wechat, server

    def _user(self, data: dict[str, Any]) -> WeChatUser:
        openid = data.get("openid")
        if not isinstance(openid, str) or not _OPENID.match(openid):
            raise BadRequest("openid 只能包含字母、数字、下划线和连字符")
        return WeChatUser(self.wechat, self.server, openid)

    def _send(self, data: dict[str, Any]) -> Answer:
        user, kind = self._user(data), data.get("kind")
        if kind == "text":
            return user.say(_field(data, "text"))
        if kind == "image":
            return user.send_image()
        if kind == "voice":
            recognition = data.get("recognition")
            if recognition is not None:
                recognition = _field(data, "recognition")
            return user.send_voice(recognition)
        if kind == "subscribe":
            return user.subscribe()
        if kind == "unsubscribe":
            return user.unsubscribe()
        if kind == "click":
            label = data.get("label")
            return user.click(_field(data, "key", 128), _field(data, "label", 60) if label else None)
        raise BadRequest("不支持的消息类型")

    def _fault(self, data: dict[str, Any]) -> str:
        state, action = self.wechat.state, data.get("action")
        if action == "expire_token":
            state.expire_tokens()
            return "access_token 已过期：下一次调用得到 42001"
        if action == "invalidate_token":
            state.invalidate_tokens()
            return "access_token 已失效：下一次调用得到 40001"
        if action == "close_window":
            state.close_window(self._user(data).openid)
            return "48 小时窗口已关闭：客服消息得到 45015，直到用户再发消息"
        if action == "exhaust_quota":
            state.exhaust_quota(self._user(data).openid)
            return "本窗口配额已用完：客服消息得到 45047，直到用户再发消息"
        if action == "delay":
            seconds = data.get("seconds")
            if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= 30:
                raise BadRequest("延迟是 0 到 30 秒")
            state.set_delay(float(seconds))
            return f"接口每次调用延迟 {seconds:g} 秒" if seconds else "接口不再延迟"
        if action == "clear":
            state.clear_faults()
            return "已清除所有故障"
        raise BadRequest("未知的故障")

    def app(self) -> web.Application:
        """The page's routes."""

        async def json_body(request: web.Request) -> dict[str, Any]:
            try:
                data = await request.json()
            except ValueError as error:
                raise BadRequest("请求不是 JSON") from error
            if not isinstance(data, dict):
                raise BadRequest("请求不是 JSON 对象")
            return data

        @web.middleware
        async def refuse(request: web.Request, handler: Any) -> web.StreamResponse:
            try:
                return await handler(request)  # type: ignore[no-any-return]
            except BadRequest as error:
                return web.json_response({"error": str(error)}, status=400, dumps=_dumps)

        async def page(request: web.Request) -> web.FileResponse:
            return self._file("index.html")

        async def static(request: web.Request) -> web.FileResponse:
            return self._file(request.match_info["name"])

        async def sample(request: web.Request) -> web.Response:
            return web.Response(body=png(), content_type="image/png")

        async def config(request: web.Request) -> web.Response:
            account = self.server.account
            return web.json_response(
                {
                    "channel": self.server.webhook,
                    "mode": self.server.mode,
                    "api_base": self.wechat.url,
                    "app_id": account.app_id,
                    "original_id": account.original_id,
                },
                dumps=_dumps,
            )

        async def send(request: web.Request) -> web.Response:
            data = await json_body(request)
            answer = await asyncio.to_thread(self._send, data)
            return web.json_response({"answer": _answer_json(answer)}, dumps=_dumps)

        async def timeline(request: web.Request) -> web.Response:
            openid = request.query.get("openid", "")
            if not _OPENID.match(openid):
                raise BadRequest("openid 只能包含字母、数字、下划线和连字符")
            try:
                after = int(request.query.get("after", "0"))
            except ValueError as error:
                raise BadRequest("after 是数字") from error
            state = self.wechat.state
            entries = [e.as_json() for e in state.entries(openid, after)]
            deliveries = [
                {"seq": d.seq, "msgtype": d.msgtype, "text": d.text, "errcode": d.errcode}
                for d in state.deliveries_to(openid)
                if d.seq > after
            ]
            body = {"entries": entries, "deliveries": deliveries, "menu": click_buttons(state.menu)}
            return web.json_response(body, dumps=_dumps)

        async def fault(request: web.Request) -> web.Response:
            data = await json_body(request)
            return web.json_response({"done": self._fault(data)}, dumps=_dumps)

        async def handshake(request: web.Request) -> web.Response:
            echo = "sim-check"
            try:
                response = await asyncio.to_thread(self.server.handshake, echo)
            except Exception as error:  # any connection failure is reported to the page
                return web.json_response({"ok": False, "detail": type(error).__name__}, dumps=_dumps)
            ok = response.status_code == 200 and response.text == echo
            return web.json_response({"ok": ok, "detail": f"HTTP {response.status_code}"}, dumps=_dumps)

        app = web.Application(middlewares=[refuse], client_max_size=64 * 1024)
        app.router.add_get("/", page)
        app.router.add_get("/static/{name}", static)
        app.router.add_get("/api/sample.png", sample)
        app.router.add_get("/api/config", config)
        app.router.add_post("/api/send", send)
        app.router.add_get("/api/timeline", timeline)
        app.router.add_post("/api/fault", fault)
        app.router.add_post("/api/handshake", handshake)
        return app

    def _file(self, name: str) -> web.FileResponse:
        if name not in FILES:
            raise web.HTTPNotFound()
        return web.FileResponse(STATIC / name, headers={"Content-Type": f"{FILES[name]}; charset=utf-8"})


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
