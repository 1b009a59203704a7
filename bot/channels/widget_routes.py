"""The widget's HTTP routes under /widget:

    GET  /widget/<file>       the widget's static files (bot/widget/), socket.io client included;
                              shared.js, the ES module the widget shares with the console
    POST /widget/history      a session's conversation, for the holder of the session's proof
                              ``<session id>.<signature>``: the text/plain body (what the widget
                              sends: a simple request, so no CORS preflight), or the header
                              ``X-Widget-Session`` (GET too). A bare session id never suffices.
    GET  /widget/demo-token   a signed identity token for the demo user, only with
                              WIDGET_DEMO_IDENTITY=1 and a demo account configured; else 404

Errors are JSON ``{error, message}`` that never echo the request. CORS headers only for the
configured origins (widget_cors); these routes answer CORS themselves, so a server-wide
``rasa run --cors`` does not widen them. (Rasa's CORS layer answers every OPTIONS request
itself, which is why the widget sends nothing that needs a preflight.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic_cors.core import SANIC_CORS_EVALUATED

from bot.channels.history import history_from_events
from bot.channels.widget_cors import cors_headers
from bot.channels.widget_sessions import MAX_PROOF_CHARS, InvalidSession, sender_of, verify_session
from bot.channels.widget_settings import WidgetSettings
from bot.identity import sign_identity
from bot.ratelimit import rate_limiter
from bot.static_files import serve

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
SESSION_HEADER = "X-Widget-Session"
DEMO_TOKEN_TTL_SECONDS = 3600
_NOT_A_PROOF = "-"


class WidgetHttpError(Exception):
    """A refused widget request; carries its HTTP status and error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        """Create the error with what the client is told."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def proof_of(header: str | None, body: bytes | None) -> str | None:
    """The session proof a history request carries: the header, else the body's text."""
    if header is not None:
        return header
    if not body:
        return None
    if len(body) > 4 * MAX_PROOF_CHARS:
        return _NOT_A_PROOF  # far too long to be one: refused, never decoded
    return body.decode("utf-8", "replace")


def session_from_proof(proof: str | None, secret: bytes) -> str:
    """The session id a history request proves.

    Raises:
        WidgetHttpError: 401 without a proof, 403 with one this server did not sign.
    """
    if proof is None or not proof.strip():
        raise WidgetHttpError(401, "session_required", "A widget session proof is required.")
    try:
        return verify_session(proof.strip(), secret)
    except InvalidSession as error:
        raise WidgetHttpError(403, "invalid_session", "The widget session proof is not valid.") from error


def demo_token(settings: WidgetSettings, now: float | None = None) -> dict[str, str]:
    """The demo user's identity token and display name.

    Raises:
        WidgetHttpError: 404 unless the demo sign-in is on and configured.
    """
    if not settings.demo_token_available or settings.demo_account is None:
        raise WidgetHttpError(404, "not_found", "Not found.")
    token = sign_identity(settings.demo_account, settings.identity_secret, DEMO_TOKEN_TTL_SECONDS, now)
    return {"token": token, "name": settings.demo_name}


def register_routes(bp: Blueprint, settings: WidgetSettings) -> None:
    """Add the widget's HTTP routes to the channel's blueprint."""
    limiter = rate_limiter(settings.history_per_minute, 60.0, "widget-history")

    def reply(request: Request, body: Any, status: int = 200) -> HTTPResponse:
        headers = cors_headers(request.headers.get("Origin"), settings.cors_allowed_origins)
        headers["Cache-Control"] = "no-store"
        setattr(request.ctx, SANIC_CORS_EVALUATED, "1")  # our CORS answer, not the server-wide one
        return response.json(body, status=status, headers=headers)

    def refuse(request: Request, error: WidgetHttpError) -> HTTPResponse:
        return reply(request, {"error": error.code, "message": error.message}, error.status)

    @bp.route("/history", methods=["GET", "POST"])
    async def history(request: Request) -> HTTPResponse:
        try:
            body = request.body if request.method == "POST" else None
            proof = proof_of(request.headers.get(SESSION_HEADER), body)
            session_id = session_from_proof(proof, settings.session_secret)
            if not await limiter.admit(session_id):
                raise WidgetHttpError(429, "rate_limited", "Too many requests; please slow down.")
        except WidgetHttpError as error:
            return refuse(request, error)
        tracker = await request.app.ctx.agent.tracker_store.retrieve(sender_of(session_id))
        events = [e.as_dict() for e in tracker.events] if tracker else []
        return reply(request, {"messages": history_from_events(events)})

    @bp.route("/demo-token", methods=["GET"])
    async def demo(request: Request) -> HTTPResponse:
        try:
            return reply(request, demo_token(settings))
        except WidgetHttpError as error:
            return refuse(request, error)

    @bp.route("/<name:path>", methods=["GET"])
    async def widget_file(request: Request, name: str) -> HTTPResponse:
        # The configured origins may load shared.js: widget.js imports it, and a module is
        # fetched with CORS (a classic script like widget.js itself needs no header).
        file = await serve(WIDGET_DIR, name)
        file.headers.update(cors_headers(request.headers.get("Origin"), settings.cors_allowed_origins))
        setattr(request.ctx, SANIC_CORS_EVALUATED, "1")
        return file
