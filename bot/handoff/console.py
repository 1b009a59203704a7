"""The agent console, served by the Rasa server under /console (configured as a channel in
credentials.yml: ``bot.handoff.console.ConsoleInput``). It uses the server's handoff service,
which ``bot.handoff.startup`` starts and stops (503 while it is not running).

Every API route needs a logged-in agent (session cookie); every POST needs the header
``X-Console-Request: 1`` and a JSON object. Only the assigned agent or a supervisor may read
or write a conversation (and see its images). Errors are ``{"error", "message"}`` and never
echo the request. Each step answers with ``delivery``: whether the user's channel took the
message (or notice), and if not why (``push.REASONS``).
Nothing here blocks the event loop: store calls run in the console's pool, argon2 in niced
helper processes (``bot.handoff.hasher``), transcript reads in a worker thread. A step once
started (take, reply, transfer, hand back, resolve) finishes even if the agent's browser goes
away meanwhile, so the store and the user's transcript never disagree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import errors, transcript
from bot.handoff.annotations import context_config
from bot.handoff.assignment import STATUSES
from bot.handoff.assist import CannedReply, latest_reading, load_replies, suggest
from bot.handoff.console_auth import agent_required, register_auth, session_token
from bot.handoff.console_context import register_context
from bot.handoff.console_http import json_body, text_field
from bot.handoff.console_left import register_left
from bot.handoff.console_media import register_media
from bot.handoff.context import CustomerBackend, wallet_backend
from bot.handoff.lifecycle import Step
from bot.handoff.live import Snapshot, stream_changes
from bot.handoff.messages import console_messages
from bot.handoff.models import Agent, Handoff
from bot.handoff.service import HandoffService, handoff_service
from bot.handoff.views import agents_json, audit_json, handoff_json, handoffs_json
from bot.handoff.window import has_window
from bot.masking import install_log_masking
from bot.static_files import serve

STATIC = Path(__file__).resolve().parent.parent / "console" / "static"
# The helpers the console's modules share with the chat widget: one file, served here as
# /console/static/shared.js and by the widget channel as /widget/shared.js.
SHARED_JS = "shared.js"
WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
CANNED = Path(__file__).resolve().parent.parent / "console" / "canned_replies.yml"


def _read_canned() -> list[CannedReply]:
    return load_replies(CANNED)


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
        """The process's handoff service (settings from HANDOFF_*, validated at start)."""
        install_log_masking()
        return cls(handoff_service())

    def __init__(self, service: HandoffService) -> None:
        """Create the console on the handoff service (started by ``bot.handoff.startup``)."""
        self.service = service
        self.canned_replies: list[CannedReply] = []
        # The wallet backend the side panel reads (tests put a sandbox of their own here).
        self.customer_backend: Callable[[], CustomerBackend] = wallet_backend

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The console's pages and API."""
        bp = Blueprint("agent_console", __name__)
        service = self.service

        @bp.listener("after_server_start")
        async def start(app: Sanic, _: Any) -> None:
            self.canned_replies = await asyncio.to_thread(_read_canned)
            await asyncio.to_thread(context_config)  # tags and labels of the side panel, checked at start

        @bp.route("/", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            return await serve(STATIC, "console.html")

        @bp.route("/static/<name:path>", methods=["GET"])
        async def static(request: Request, name: str) -> HTTPResponse:
            return await serve(WIDGET_DIR if name == SHARED_JS else STATIC, name)

        register_auth(bp, service)
        _register_work(bp, service, lambda: self.canned_replies)
        register_media(bp, service)
        register_left(bp, service)
        register_context(bp, service, lambda: self.customer_backend())
        _register_overview(bp, service, lambda: self.canned_replies)
        return bp


def _register_work(bp: Blueprint, service: HandoffService, canned: Callable[[], list[CannedReply]]) -> None:
    """The queue, the agent's conversations and the steps on one conversation."""
    store, pool, max_wait = service.store, service.workers.console, service.settings.max_wait_seconds
    login_required = agent_required(service)

    def visible(agent: Agent, handoff_id: int) -> Handoff:
        handoff = store.get(handoff_id)
        if not agent.is_supervisor and handoff.assigned_agent_id != agent.id:
            raise errors.Forbidden("not yours")
        return handoff

    async def described(request: Request, handoffs: list[Handoff]) -> list[dict[str, Any]]:
        """The handoffs as the console shows them, with the reply windows from the transcripts."""
        windowed = [h.sender_id for h in handoffs if has_window(h.channel)]
        times = await transcript.last_user_times(request.app.ctx.agent, windowed, pool) if windowed else {}
        return await pool.run(handoffs_json, handoffs, store, max_wait, times)

    async def stepped(request: Request, step: Step) -> HTTPResponse:
        (shown,) = await described(request, [step.handoff])
        return response.json({"handoff": shown, "delivery": step.delivery.as_json()})

    @bp.route("/api/queue", methods=["GET"])
    @login_required
    async def queue(request: Request, agent: Agent) -> HTTPResponse:
        return response.json({"handoffs": await described(request, await pool.run(store.queue))})

    @bp.route("/api/conversations", methods=["GET"])
    @login_required
    async def conversations(request: Request, agent: Agent) -> HTTPResponse:
        def mine() -> list[Handoff]:
            return store.active() if agent.is_supervisor else store.assigned_to(agent.id)

        return response.json({"handoffs": await described(request, await pool.run(mine))})

    @bp.route("/api/conversations/<handoff_id:int>/take", methods=["POST"])
    @login_required
    async def take(request: Request, agent: Agent, handoff_id: int) -> HTTPResponse:
        try:
            step = await asyncio.shield(service.lifecycle(request.app).take(handoff_id, agent))
        except errors.Conflict:
            return response.json({"error": "already_taken", "message": "已被其他客服接入。"}, status=409)
        return await stepped(request, step)

    @bp.route("/api/conversations/<handoff_id:int>/transcript", methods=["GET"])
    @login_required
    async def read_transcript(request: Request, agent: Agent, handoff_id: int) -> HTTPResponse:
        handoff = await pool.run(visible, agent, handoff_id)
        events = await transcript.read_events(request.app.ctx.agent, handoff.sender_id, pool)

        def view() -> tuple[dict[str, Any], list[dict[str, Any]]]:
            shown = handoff_json(handoff, store, max_wait, transcript.last_user_at(events))
            return shown, console_messages(events, store.deliveries.for_sender(handoff.sender_id))

        shown, messages = await pool.run(view)
        return response.json({"messages": messages, "handoff": shown})

    @bp.route("/api/conversations/<handoff_id:int>/suggestions", methods=["GET"])
    @login_required
    async def suggestions(request: Request, agent: Agent, handoff_id: int) -> HTTPResponse:
        handoff = await pool.run(visible, agent, handoff_id)
        events = await transcript.read_events(request.app.ctx.agent, handoff.sender_id, pool)
        reading = latest_reading(events)
        if reading is None:
            return response.json({"for": None, "suggestions": []})
        text, intents = reading
        return response.json({"for": text, "suggestions": suggest(canned(), intents, handoff.topic)})

    @bp.route(
        "/api/conversations/<handoff_id:int>/<step:(messages|handback|transfer|resolve)>",
        methods=["POST"],
    )
    @login_required
    async def act(request: Request, agent: Agent, handoff_id: int, step: str) -> HTTPResponse:
        data = json_body(request)
        handoff = await pool.run(visible, agent, handoff_id)
        if handoff.status != "assigned":
            raise errors.Conflict("会话已结束或尚未被接入。")
        steps = service.lifecycle(request.app)
        if step == "messages":
            sent = await asyncio.shield(steps.reply(handoff, agent, text_field(data, "text")))
            await pool.run(store.audit, agent.id, "reply", handoff.id)  # a failure is audited by itself
            await pool.run(store.assignment.answered, handoff.id, agent.id)  # the unanswered timer stops
            body = {"message": sent.message, "delivery": sent.delivery.as_json()}
            return response.json(body, status=201)
        if step == "transfer":
            target = data.get("agent_id")
            if not isinstance(target, int) or isinstance(target, bool):
                raise errors.InvalidInput("agent_id 必须是客服编号。")
            done = await asyncio.shield(steps.transfer(handoff, agent, target))
        elif step == "handback":
            done = await asyncio.shield(steps.hand_back(handoff, agent))
        else:
            note = text_field(data, "note", required=False)
            done = await asyncio.shield(steps.resolve(handoff, agent, note))
        return await stepped(request, done)


def _register_overview(
    bp: Blueprint, service: HandoffService, canned: Callable[[], list[CannedReply]]
) -> None:
    """Agents, canned replies, the audit log and the live updates."""
    store, pool = service.store, service.workers.console
    login_required = agent_required(service)

    @bp.route("/api/agents", methods=["GET"])
    @login_required
    async def agents(request: Request, agent: Agent) -> HTTPResponse:
        capacity = service.settings.agent_capacity
        return response.json({"agents": await pool.run(agents_json, store, agent.is_supervisor, capacity)})

    @bp.route("/api/me/status", methods=["POST"])
    @login_required
    async def set_status(request: Request, agent: Agent) -> HTTPResponse:
        status = json_body(request).get("status")
        if status not in STATUSES:
            raise errors.InvalidInput("status 必须是 online、busy 或 away。")
        await pool.run(store.assignment.set_status, agent.id, status)
        return response.json({"status": status})

    @bp.route("/api/canned", methods=["GET"])
    @login_required
    async def canned_replies(request: Request, agent: Agent) -> HTTPResponse:
        return response.json({"replies": [reply.text for reply in canned()]})

    @bp.route("/api/audit", methods=["GET"])
    @login_required
    async def audit(request: Request, agent: Agent) -> HTTPResponse:
        if not agent.is_supervisor:
            raise errors.Forbidden("supervisors only")
        return response.json({"entries": await pool.run(audit_json, store)})

    @bp.route("/api/events", methods=["GET"])
    @login_required
    async def events(request: Request, agent: Agent) -> None:
        token, rasa = session_token(request), request.app.ctx.agent

        def round_() -> tuple[int, list[Handoff], dict[str, int]] | None:
            current = store.session_agent(token)  # expired or ended: the stream stops
            if current is None:
                return None
            shown = store.active() if current.is_supervisor else store.assigned_to(current.id)
            return store.version(), shown, store.deliveries.counts([h.sender_id for h in shown])

        async def poll() -> Snapshot | None:
            found = await pool.run(round_)
            if found is None:
                return None
            version, shown, pushed = found
            counts = await transcript.event_counts(rasa, [h.sender_id for h in shown], pool)
            # a conversation changes with a new event (a message, an image) or a push's outcome
            return Snapshot(version, {h.id: (counts[h.sender_id], pushed[h.sender_id]) for h in shown})

        stream = await request.respond(
            content_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )
        await stream_changes(stream.send, poll)
        await stream.eof()
