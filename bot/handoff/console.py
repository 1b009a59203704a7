"""The agent console, served by the Rasa server under /console (configured as a channel in
credentials.yml: ``bot.handoff.console.ConsoleInput``).

Every API route needs a logged-in agent (session cookie); every POST needs the header
``X-Console-Request: 1`` and a JSON object. Only the assigned agent or a supervisor may read
or write a conversation. Errors are ``{"error", "message"}`` and never echo the request.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from functools import wraps
from pathlib import Path
from typing import Any

import yaml
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import errors, transcript
from bot.handoff.lifecycle import Lifecycle
from bot.handoff.models import Agent, Handoff
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffStore
from bot.masking import install_log_masking
from bot.static_files import serve

logger = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "console" / "static"
CANNED = Path(__file__).resolve().parent.parent / "console" / "canned_replies.yml"
COOKIE = "uw_console"
MAX_TEXT = 2000
MAX_LOGIN_FAILURES = 5
Handler = Callable[..., Awaitable[HTTPResponse]]


def _error(status: int, code: str, message: str) -> HTTPResponse:
    return response.json({"error": code, "message": message}, status=status)


def handoff_json(h: Handoff, store: HandoffStore, max_wait: int) -> dict[str, Any]:
    """A handoff as the console shows it."""
    waiting = max(0, int((datetime.now(timezone.utc) - h.created_at).total_seconds()))
    return {
        "id": h.id,
        "reference": h.reference,
        "channel": h.channel,
        "status": h.status,
        "priority": h.priority,
        "topic": h.topic,
        "summary": h.summary,
        "created_at": h.created_at.isoformat(),
        "waiting_seconds": waiting,
        "overdue": h.status == "pending" and waiting > max_wait * 0.7,
        "position": store.position(h.id),
        "assigned_agent": (
            {"id": h.assigned_agent_id, "display_name": h.assigned_agent_name}
            if h.assigned_agent_id
            else None
        ),
    }


class ConsoleInput(InputChannel):
    """The console's routes, registered like a channel so they run in the Rasa server."""

    @classmethod
    def name(cls) -> str:
        """The channel's name."""
        return "console"

    def url_prefix(self) -> str:
        """Everything lives under /console."""
        return "/console"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ConsoleInput:
        """Settings come from the environment (HANDOFF_*), validated at start."""
        install_log_masking()
        return cls(HandoffSettings.from_env())

    def __init__(self, settings: HandoffSettings) -> None:
        """Create the console; the store is opened when the server starts."""
        self.settings = settings
        self.store = HandoffStore(settings.db_url)
        self.canned_replies: list[str] = []

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The console's pages and API."""
        bp = Blueprint("agent_console", __name__)
        store, settings = self.store, self.settings

        @bp.listener("after_server_start")
        async def start(app: Sanic, _: Any) -> None:
            store.create_schema()
            self.canned_replies = [str(r) for r in yaml.safe_load(CANNED.read_text(encoding="utf-8")) or []]
            app.ctx.handoff_store = store
            app.add_task(_expiry_loop(Lifecycle(store, app), settings.max_wait_seconds))

        def agent_required(handler: Handler) -> Handler:
            @wraps(handler)
            async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
                agent = store.session_agent(request.cookies.get(COOKIE, ""))
                if agent is None:
                    return _error(401, "unauthorized", "请先登录。")
                if request.method == "POST" and request.headers.get("x-console-request") != "1":
                    return _error(403, "csrf", "Missing X-Console-Request header.")
                try:
                    return await handler(request, agent, *args, **kwargs)
                except errors.NotFound:
                    return _error(404, "not_found", "会话不存在。")
                except errors.Conflict as error:
                    return _error(409, "conflict", str(error)[:200])
                except errors.InvalidInput as error:
                    return _error(400, "invalid_input", str(error)[:200])

            return wrapped

        def body(request: Request) -> dict[str, Any]:
            try:
                data = json.loads(request.body or b"{}")
            except (ValueError, UnicodeDecodeError) as error:
                raise errors.InvalidInput("请求内容不是有效的 JSON。") from error
            if not isinstance(data, dict):
                raise errors.InvalidInput("请求内容必须是 JSON 对象。")
            return data

        def text_field(data: dict[str, Any], key: str, required: bool = True) -> str:
            value = data.get(key, "")
            if not isinstance(value, str) or (required and not value.strip()) or len(value) > MAX_TEXT:
                raise errors.InvalidInput(f"{key} 必须是 1 到 {MAX_TEXT} 个字符的文本。")
            return value.strip()

        def mine(agent: Agent, handoff_id: int) -> Handoff:
            handoff = store.get(handoff_id)
            if agent.role != "supervisor" and handoff.assigned_agent_id != agent.id:
                raise PermissionError
            if handoff.status not in ("assigned", "pending"):
                raise errors.Conflict("会话已结束。")
            return handoff

        def lifecycle(request: Request) -> Lifecycle:
            return Lifecycle(store, request.app)

        # --- pages ------------------------------------------------------------
        @bp.route("/", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            return await serve(STATIC, "console.html")

        @bp.route("/static/<name:path>", methods=["GET"])
        async def static(request: Request, name: str) -> HTTPResponse:
            return await serve(STATIC, name)

        # --- login --------------------------------------------------------------
        @bp.route("/api/login", methods=["POST"])
        async def login(request: Request) -> HTTPResponse:
            if request.headers.get("x-console-request") != "1":
                return _error(403, "csrf", "Missing X-Console-Request header.")
            try:
                data = body(request)
                username, password = data.get("username"), data.get("password")
            except errors.InvalidInput as error:
                return _error(400, "invalid_input", str(error))
            if (
                not isinstance(username, str)
                or not isinstance(password, str)
                or len(username) > 64
                or len(password) > 256
            ):
                return _error(400, "invalid_input", "请输入用户名和密码。")
            key = f"{username.lower()}|{request.remote_addr or request.ip}"
            if store.failed_logins(key) >= MAX_LOGIN_FAILURES:
                return _error(429, "rate_limited", "登录失败次数过多，请 15 分钟后再试。")
            agent = store.authenticate(username, password)
            if agent is None:
                store.record_failed_login(key)
                return _error(401, "invalid_credentials", "用户名或密码不正确。")
            store.clear_failed_logins(key)
            token = store.create_session(agent.id, settings.session_ttl)
            store.audit(agent.id, "login", None)
            reply = response.json({"agent": _agent_json(agent)})
            reply.cookies[COOKIE] = token
            cookie = reply.cookies[COOKIE]
            cookie["httponly"] = True
            cookie["samesite"] = "Strict"
            cookie["path"] = "/console"
            cookie["max-age"] = settings.session_ttl
            return reply

        @bp.route("/api/logout", methods=["POST"])
        @agent_required
        async def logout(request: Request, agent: Agent) -> HTTPResponse:
            store.end_session(request.cookies.get(COOKIE, ""))
            store.audit(agent.id, "logout", None)
            reply = response.empty()
            del reply.cookies[COOKIE]
            return reply

        @bp.route("/api/me", methods=["GET"])
        @agent_required
        async def me(request: Request, agent: Agent) -> HTTPResponse:
            return response.json({"agent": _agent_json(agent)})

        # --- the queue and conversations -----------------------------------------
        @bp.route("/api/queue", methods=["GET"])
        @agent_required
        async def queue(request: Request, agent: Agent) -> HTTPResponse:
            return response.json(
                {"handoffs": [handoff_json(h, store, settings.max_wait_seconds) for h in store.queue()]}
            )

        @bp.route("/api/conversations", methods=["GET"])
        @agent_required
        async def conversations(request: Request, agent: Agent) -> HTTPResponse:
            found = store.active() if agent.role == "supervisor" else store.assigned_to(agent.id)
            return response.json(
                {"handoffs": [handoff_json(h, store, settings.max_wait_seconds) for h in found]}
            )

        @bp.route("/api/conversations/<handoff_id:int>/take", methods=["POST"])
        @agent_required
        async def take(request: Request, agent: Agent, handoff_id: int) -> HTTPResponse:
            try:
                handoff = await lifecycle(request).take(handoff_id, agent)
            except errors.Conflict:
                return _error(409, "already_taken", "已被其他客服接入。")
            return response.json({"handoff": handoff_json(handoff, store, settings.max_wait_seconds)})

        @bp.route("/api/conversations/<handoff_id:int>/transcript", methods=["GET"])
        @agent_required
        async def read_transcript(request: Request, agent: Agent, handoff_id: int) -> HTTPResponse:
            try:
                handoff = store.get(handoff_id)
                if agent.role != "supervisor" and handoff.assigned_agent_id != agent.id:
                    raise PermissionError
            except PermissionError:
                return _error(403, "forbidden", "只有接待该会话的客服可以查看。")
            messages = await transcript.read(request.app.ctx.agent, handoff.sender_id)
            return response.json(
                {"messages": messages, "handoff": handoff_json(handoff, store, settings.max_wait_seconds)}
            )

        @bp.route(
            "/api/conversations/<handoff_id:int>/<step:(messages|handback|transfer|resolve)>",
            methods=["POST"],
        )
        @agent_required
        async def act(request: Request, agent: Agent, handoff_id: int, step: str) -> HTTPResponse:
            data = body(request)
            try:
                handoff = mine(agent, handoff_id)
            except PermissionError:
                return _error(403, "forbidden", "只有接待该会话的客服可以操作。")
            if handoff.status != "assigned":
                raise errors.Conflict("会话尚未被接入。")
            steps = lifecycle(request)
            if step == "messages":
                message = await steps.reply(handoff, agent, text_field(data, "text"))
                store.audit(agent.id, "reply", handoff.id)
                return response.json({"message": message}, status=201)
            if step == "transfer":
                target = data.get("agent_id")
                if not isinstance(target, int) or isinstance(target, bool):
                    raise errors.InvalidInput("agent_id 必须是客服编号。")
                handoff = await steps.transfer(handoff, agent, target)
            elif step == "handback":
                handoff = await steps.hand_back(handoff, agent)
            else:
                handoff = await steps.resolve(handoff, agent, text_field(data, "note", required=False))
            return response.json({"handoff": handoff_json(handoff, store, settings.max_wait_seconds)})

        # --- agents, canned replies, audit, live events --------------------------
        @bp.route("/api/agents", methods=["GET"])
        @agent_required
        async def agents(request: Request, agent: Agent) -> HTTPResponse:
            load = store.agent_load()
            on_duty = {a.id for a in store.agents_on_duty()}
            listed = [a for a in store.list_agents() if agent.role == "supervisor" or a.active]
            return response.json(
                {
                    "agents": [
                        {
                            **_agent_json(a),
                            "active": a.active,
                            "on_duty": a.id in on_duty,
                            "load": load.get(a.id, 0),
                        }
                        for a in listed
                    ]
                }
            )

        @bp.route("/api/canned", methods=["GET"])
        @agent_required
        async def canned(request: Request, agent: Agent) -> HTTPResponse:
            return response.json({"replies": self.canned_replies})

        @bp.route("/api/audit", methods=["GET"])
        @agent_required
        async def audit(request: Request, agent: Agent) -> HTTPResponse:
            if agent.role != "supervisor":
                return _error(403, "forbidden", "只有主管可以查看操作记录。")
            references = {h.id: h.reference for h in store.active()}
            entries = []
            for e in store.audit_log():
                reference = references.get(e.handoff_id) if e.handoff_id else None
                if e.handoff_id and reference is None:
                    try:
                        reference = store.get(e.handoff_id).reference
                    except errors.NotFound:
                        reference = None
                entries.append(
                    {
                        "at": e.at.isoformat(),
                        "agent_name": e.agent_name,
                        "action": e.action,
                        "reference": reference,
                        "detail": e.detail,
                    }
                )
            return response.json({"entries": entries})

        @bp.route("/api/events", methods=["GET"])
        @agent_required
        async def events(request: Request, agent: Agent) -> HTTPResponse:
            stream = await request.respond(
                content_type="text/event-stream", headers={"Cache-Control": "no-cache"}
            )
            version, idle = -1, 0.0
            counts: dict[int, int] = {}
            while True:
                store.touch_agent(agent.id)
                visible = store.active() if agent.role == "supervisor" else store.assigned_to(agent.id)
                changed = []
                for h in visible:
                    count = await transcript.event_count(request.app.ctx.agent, h.sender_id)
                    if counts.get(h.id) != count:
                        counts[h.id] = count
                        changed.append(h.id)
                current = store.version()
                if current != version or changed:
                    version = current
                    payload = json.dumps({"version": current, "conversations": changed})
                    await stream.send(f"event: changed\ndata: {payload}\n\n")
                    idle = 0.0
                elif idle >= 15:
                    await stream.send(": ping\n\n")
                    idle = 0.0
                await asyncio.sleep(1.0)
                idle += 1.0

        return bp


def _agent_json(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "username": agent.username,
        "display_name": agent.display_name,
        "role": agent.role,
    }


async def _expiry_loop(steps: Lifecycle, max_wait_seconds: int) -> None:
    """Every 10 s: pending handoffs past the limit become messages, and their users are told."""
    while True:
        try:
            await steps.expire(max_wait_seconds)
        except Exception:
            logger.exception("handoff expiry round failed")
        await asyncio.sleep(10)
