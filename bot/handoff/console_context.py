"""The console's side panel of a conversation: notes, tags and what is known of the customer.

    GET  /console/api/conversations/<id>/context   {notes, tags, tag_choices, bot, customer, previous}
    POST /console/api/conversations/<id>/notes {text}         -> 201 {note, notes}
    POST /console/api/conversations/<id>/tags {tag}           -> {tags}
    POST /console/api/conversations/<id>/tags/remove {tag}    -> {tags}

Only the agent the conversation is assigned to, or a supervisor, may read or write them (403
otherwise, 404 for an unknown conversation). Notes are private: never sent to the user and
never in the tracker. The customer's profile and open tickets come from the wallet backend,
masked (``bot.handoff.context``); a backend that does not answer leaves the rest of the panel.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import context, errors, transcript
from bot.handoff.annotations import Note
from bot.handoff.console_auth import agent_required
from bot.handoff.console_http import json_body
from bot.handoff.models import Agent, Handoff
from bot.handoff.service import HandoffService

BACKFILL = 20  # conversations linked to their accounts on each look-up


def note_json(note: Note) -> dict[str, Any]:
    """A note as the console shows it."""
    return {
        "id": note.id,
        "agent_name": note.agent_name,
        "text": note.text,
        "created_at": note.created_at.isoformat(),
    }


def register_context(
    bp: Blueprint, service: HandoffService, backend_of: Callable[[], context.CustomerBackend]
) -> None:
    """The side panel's routes."""
    store, pool = service.store, service.workers.console
    login_required = agent_required(service)
    annotations = store.annotations

    def visible(agent: Agent, handoff_id: int) -> Handoff:
        handoff = store.get(handoff_id)
        if not agent.is_supervisor and handoff.assigned_agent_id != agent.id:
            raise errors.Forbidden("not yours")
        return handoff

    async def link_some(request: Request) -> None:
        """Links a few conversations never read to their accounts (for previous conversations)."""
        for other in await pool.run(store.accounts.unlinked, BACKFILL):
            events = await transcript.read_events(request.app.ctx.agent, other.sender_id, pool)
            await pool.run(store.accounts.link, other.id, context.account_of(events))

    @bp.route("/api/conversations/<handoff_id:int>/context", methods=["GET"])
    @login_required
    async def read_context(request: Request, agent: Agent, handoff_id: int) -> HTTPResponse:
        handoff = await pool.run(visible, agent, handoff_id)
        events = await transcript.read_events(request.app.ctx.agent, handoff.sender_id, pool)
        account = context.account_of(events)
        await pool.run(store.accounts.link, handoff.id, account)
        await link_some(request)
        config = annotations.config
        tickets = context.ticket_ids(events)  # what the bot opened in this conversation, every session

        def panel() -> dict[str, Any]:
            previous = store.accounts.previous(handoff, account)
            tags_of = annotations.tag_counts([h.id for h in previous])
            for left in [h for h in (handoff, *previous) if h.status == "message_left"]:
                with contextlib.suppress(errors.NotFound):  # tickets of messages left, the customer's too
                    ticket = store.messages.get(left.id).ticket_id
                    if ticket and ticket not in tickets:
                        tickets.append(ticket)
            return {
                "notes": [note_json(n) for n in annotations.notes(handoff.id)],
                "tags": annotations.tags(handoff.id),
                "tag_choices": list(config.tags),
                "previous": [context.previous_json(h, tags_of.get(h.id, [])) for h in previous],
            }

        shown = await pool.run(panel)
        found = await asyncio.to_thread(context.customer, backend_of, account, tickets, config)
        return response.json({**shown, "bot": context.bot_state(events, config), "customer": found})

    @bp.route("/api/conversations/<handoff_id:int>/notes", methods=["POST"])
    @login_required
    async def add_note(request: Request, agent: Agent, handoff_id: int) -> HTTPResponse:
        data = json_body(request)
        handoff = await pool.run(visible, agent, handoff_id)
        note = await pool.run(annotations.add_note, handoff.id, agent.id, data.get("text"))
        notes = await pool.run(annotations.notes, handoff.id)
        return response.json({"note": note_json(note), "notes": [note_json(n) for n in notes]}, status=201)

    async def change_tags(request: Request, agent: Agent, handoff_id: int, adding: bool) -> HTTPResponse:
        data = json_body(request)
        handoff = await pool.run(visible, agent, handoff_id)
        change = annotations.add_tag if adding else annotations.remove_tag
        return response.json({"tags": await pool.run(change, handoff.id, agent.id, data.get("tag"))})

    @bp.route("/api/conversations/<handoff_id:int>/tags", methods=["POST"])
    @login_required
    async def add_tag(request: Request, agent: Agent, handoff_id: int) -> HTTPResponse:
        return await change_tags(request, agent, handoff_id, True)

    @bp.route("/api/conversations/<handoff_id:int>/tags/remove", methods=["POST"])
    @login_required
    async def remove_tag(request: Request, agent: Agent, handoff_id: int) -> HTTPResponse:
        return await change_tags(request, agent, handoff_id, False)
