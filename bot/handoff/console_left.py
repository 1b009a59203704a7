"""The console's 留言 queue: messages left by users no agent could take, with their SLA timers.

``GET /console/api/messages`` lists the open ones (most overdue first; ``?state=answered``: the
latest answered), ``GET /console/api/messages/<id>`` one with its transcript. Every agent works
the queue (it belongs to nobody until answered). ``POST …/<id>/reply {text}`` answers on the
user's channel (widget session, WeChat within its 48 hours, Telegram): the message counts as
answered only when the channel took it; otherwise the agent is told and calls back, then
``POST …/<id>/callback {note}`` marks it called back. Answering twice is a 409; the audit log
records each answer. Contacts are masked, as the store keeps them.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import errors, transcript
from bot.handoff.console_auth import agent_required
from bot.handoff.console_http import json_body, text_field
from bot.handoff.left_messages import LeftMessage
from bot.handoff.messages import console_messages
from bot.handoff.models import Agent
from bot.handoff.service import HandoffService
from bot.handoff.window import has_window, reply_window

PUSH_CHANNELS = frozenset({"socketio", "wechat", "telegram"})
STATES = ("open", "answered")


def reachability(message: LeftMessage, last_user_at: float | None, now: datetime) -> dict[str, Any]:
    """Whether an answer on the user's channel can reach them now, and the channel's window."""
    channel = message.handoff.channel
    window = reply_window(channel, last_user_at, now)
    reachable = channel in PUSH_CHANNELS and (window is None or bool(window["open"]))
    return {"reachable": reachable, "window": window}


def left_json(message: LeftMessage, last_user_at: float | None = None, now: datetime | None = None) -> dict:
    """A message left as the console shows it (``seconds_left`` until due; negative: overdue)."""
    now = now or datetime.now(timezone.utc)
    h = message.handoff
    left = int((message.due_at - now).total_seconds())
    return {
        "id": h.id,
        "reference": h.reference,
        "channel": h.channel,
        "priority": h.priority,
        "topic": h.topic,
        "summary": h.summary,
        "left_at": (h.closed_at or h.created_at).isoformat(),
        "due_at": message.due_at.isoformat(),
        "seconds_left": left,
        "overdue": message.open and left < 0,
        "ticket_id": message.ticket_id,
        "contact": message.contact,
        "contact_kind": message.contact_kind,
        "answered": not message.open,
        "answered_at": message.answered_at.isoformat() if message.answered_at else None,
        "answered_by": message.answered_by_name,
        "answer_kind": message.answer_kind,
        "answer_note": message.answer_note,
        **reachability(message, last_user_at, now),
    }


def register_left(bp: Blueprint, service: HandoffService) -> None:
    """The 留言 queue's routes."""
    store, pool = service.store, service.workers.console
    login_required = agent_required(service)

    async def shown(request: Request, messages: list[LeftMessage]) -> list[dict[str, Any]]:
        windowed = [m.handoff.sender_id for m in messages if has_window(m.handoff.channel)]
        times = await transcript.last_user_times(request.app.ctx.agent, windowed, pool) if windowed else {}
        now = datetime.now(timezone.utc)
        return [left_json(m, times.get(m.handoff.sender_id), now) for m in messages]

    @bp.route("/api/messages", methods=["GET"])
    @login_required
    async def listed(request: Request, agent: Agent) -> HTTPResponse:
        state = request.args.get("state", "open")
        if state not in STATES:
            raise errors.InvalidInput("state 必须是 open 或 answered。")
        found = await pool.run(store.messages.listed, state == "answered")
        body = {"messages": await shown(request, found), "sla_hours": service.settings.message_sla_hours}
        return response.json(body)

    @bp.route("/api/messages/<handoff_id:int>", methods=["GET"])
    @login_required
    async def one(request: Request, agent: Agent, handoff_id: int) -> HTTPResponse:
        found = await pool.run(store.messages.get, handoff_id)
        events = await transcript.read_events(request.app.ctx.agent, found.handoff.sender_id, pool)
        deliveries = await pool.run(store.deliveries.for_sender, found.handoff.sender_id)
        shown_one = left_json(found, transcript.last_user_at(events))
        return response.json({"message": shown_one, "messages": console_messages(events, deliveries)})

    @bp.route("/api/messages/<handoff_id:int>/<step:(reply|callback)>", methods=["POST"])
    @login_required
    async def answer(request: Request, agent: Agent, handoff_id: int, step: str) -> HTTPResponse:
        data = json_body(request)
        text = text_field(data, "text" if step == "reply" else "note")
        found = await pool.run(store.messages.get, handoff_id)
        if not found.open:
            raise errors.Conflict("该留言已被处理。")
        if step == "callback":
            done = await pool.run(store.messages.answer, handoff_id, agent.id, "callback", text)
            return response.json({"message": left_json(done), "delivery": None})
        sent = await asyncio.shield(service.lifecycle(request.app).reply(found.handoff, agent, text))
        if sent.delivery.delivered:
            found = await pool.run(store.messages.answer, handoff_id, agent.id, "channel", text)
        else:
            await pool.run(store.audit, agent.id, "message_unreachable", handoff_id)
        body = {"message": left_json(found), "delivery": sent.delivery.as_json(), "sent": sent.message}
        return response.json(body, status=201)
