"""The console's login, logout and session checks, and its session cookie.

The cookie is ``HttpOnly; SameSite=Strict; Secure; Path=/console`` (``Secure`` can be turned
off for plain-http development with ``HANDOFF_COOKIE_SECURE=false``; browsers accept Secure
cookies from http://localhost and http://127.0.0.1 anyway). Login goes through the throttle
(``bot.handoff.throttle``), and a refused login is answered only after a delay that costs the
server nothing; every store call runs in the console's pool, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import errors
from bot.handoff.console_http import Handler, check_csrf, guarded, json_body
from bot.handoff.service import HandoffService, service_of
from bot.handoff.settings import HandoffSettings
from bot.handoff.views import agent_json

logger = logging.getLogger(__name__)
COOKIE = "uw_console"
COOKIE_PATH = "/console"
MAX_USERNAME, MAX_PASSWORD = 64, 256


class InvalidCredentials(errors.AuthError):
    """The username and password do not match an enabled agent."""

    code = "invalid_credentials"


def _cookie(reply: HTTPResponse, value: str, max_age: int, settings: HandoffSettings) -> None:
    reply.cookies[COOKIE] = value
    cookie = reply.cookies[COOKIE]
    cookie["path"] = COOKIE_PATH
    cookie["max-age"] = max_age
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["secure"] = settings.cookie_secure


def session_token(request: Request) -> str:
    """The session token the request carries ("" if none)."""
    return str(request.cookies.get(COOKIE, "") or "")


def client_address(request: Request) -> str:
    """The client's address, as Sanic's proxy settings say it (the socket's peer otherwise)."""
    return str(request.remote_addr or request.ip or "unknown")


def require_running(request: Request, service: HandoffService) -> None:
    """NotRunning unless ``service`` is the one the server started (``bot.handoff.startup``)."""
    if service_of(request.app) is service and service.running:
        return
    if not getattr(request.app.ctx, "handoff_not_running_logged", False):
        request.app.ctx.handoff_not_running_logged = True  # once per server, not per request
        logger.error("console: the handoff service is not running (bot.handoff.startup in credentials.yml)")
    raise errors.NotRunning("handoff service not running")


def agent_required(service: HandoffService) -> Callable[[Handler], Handler]:
    """A decorator: the handler gets the agent of a live session (401 without one, 403 for a
    POST without the console's header, 503 while the handoff service is not running); the
    handoff's errors become their responses."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse | None:
            require_running(request, service)
            agent = await service.workers.console.run(service.store.session_agent, session_token(request))
            if agent is None:
                raise errors.AuthError("no session")
            check_csrf(request)
            return await handler(request, agent, *args, **kwargs)

        return guarded(wrapped)

    return decorate


def register_auth(bp: Blueprint, service: HandoffService) -> None:
    """The login, logout and me routes."""
    store, settings, pool = service.store, service.settings, service.workers.console
    login_required = agent_required(service)

    @bp.route("/api/login", methods=["POST"])
    @guarded
    async def login(request: Request) -> HTTPResponse:
        require_running(request, service)
        check_csrf(request)
        data = json_body(request)
        username, password = data.get("username"), data.get("password")
        if (
            not isinstance(username, str)
            or not isinstance(password, str)
            or len(username) > MAX_USERNAME
            or len(password) > MAX_PASSWORD
        ):
            raise errors.InvalidInput("请输入用户名和密码。")
        try:
            agent = await service.throttle.login(username, password, client_address(request))
        except errors.Throttled:
            await asyncio.sleep(settings.login.refusal_delay_ms / 1000)  # a hammering client waits
            raise
        if agent is None:
            raise InvalidCredentials("用户名或密码不正确。")

        def open_session() -> str:
            token = store.create_session(agent.id, settings.session_ttl)
            store.audit(agent.id, "login", None)
            if agent.id not in store.assignment.statuses():
                store.assignment.set_status(agent.id, "online")  # the first login: 在线
            return token

        reply = response.json({"agent": {**agent_json(agent), "status": "online"}})
        _cookie(reply, await pool.run(open_session), settings.session_ttl, settings)
        return reply

    @bp.route("/api/logout", methods=["POST"])
    @login_required
    async def logout(request: Request, agent: Any) -> HTTPResponse:
        def close_session() -> None:
            store.end_session(session_token(request))
            store.audit(agent.id, "logout", None)

        await pool.run(close_session)
        reply = response.empty()
        _cookie(reply, "", 0, settings)
        return reply

    @bp.route("/api/me", methods=["GET"])
    @login_required
    async def me(request: Request, agent: Any) -> HTTPResponse:
        statuses = await pool.run(store.assignment.statuses)
        status = statuses.get(agent.id, ("online", None))[0]
        return response.json(
            {"agent": {**agent_json(agent), "status": status}, "policy": settings.assignment}
        )
