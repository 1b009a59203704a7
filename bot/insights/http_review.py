"""The review queue's routes.

``GET /api/review?status=open|labelled|all``: the queue (scanned first for new messages);
``POST /api/review/<id>/label`` with ``{"label": "<intent>"|"ignore"}``; ``GET /api/intents``:
the labels; ``GET /api/review/export.yml``: the labelled items as Rasa NLU YAML (masked), to be
merged into data/nlu/ by hand (``python -m bot.insights.cli export`` writes the same file).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff.console_http import Handler, json_body
from bot.handoff.models import Agent
from bot.insights.context import Insights
from bot.insights.conversations import conversations
from bot.insights.domain_facts import IGNORE, labels_of
from bot.insights.errors import InvalidParameter, UnknownIntent
from bot.insights.review_export import to_yaml
from bot.insights.review_sources import all_candidates
from bot.insights.review_store import STATUSES

MAX_LABEL = 64


async def scan(app: Sanic, insights: Insights) -> int:
    """Add the messages for review since the last scan (one scan at a time per server)."""
    settings, store = insights.settings, insights.review
    async with insights.scan_lock:
        await insights.ensure_schema()
        until = time.time()
        last = await insights.pool.run(store.scanned_until)
        since = (last if last is not None else until - settings.review_backfill_days * 86400) - (
            settings.review_overlap_seconds
        )
        events = await insights.events(app, since, until)

        def collect() -> int:
            recent = [c for c in conversations(events) if c.ended_at >= since]
            return store.add(all_candidates(recent, settings.low_confidence), until)

        return await insights.pool.run(collect)


def register_review(bp: Blueprint, insights: Insights, supervisors: Callable[[Handler], Handler]) -> None:
    """The review routes on the insights' blueprint."""
    store = insights.review

    @bp.route("/api/intents", methods=["GET"])
    @supervisors
    async def intents(request: Request, agent: Agent) -> HTTPResponse:
        return response.json({"intents": labels_of(request.app.ctx.agent.domain), "ignore": IGNORE})

    @bp.route("/api/review", methods=["GET"])
    @supervisors
    async def queue(request: Request, agent: Agent) -> HTTPResponse:
        status = request.args.get("status") or "open"
        if status not in STATUSES or len(request.args.getlist("status") or []) > 1:
            raise InvalidParameter("未知的状态。")
        added = await scan(request.app, insights)
        items = await insights.pool.run(store.items, status)
        return response.json({"items": [i.as_json() for i in items], "added": added})

    @bp.route("/api/review/<item_id:int>/label", methods=["POST"])
    @supervisors
    async def label(request: Request, agent: Agent, item_id: int) -> HTTPResponse:
        value = json_body(request).get("label")
        allowed = labels_of(request.app.ctx.agent.domain)
        if not isinstance(value, str) or len(value) > MAX_LABEL or (value != IGNORE and value not in allowed):
            raise UnknownIntent("未知的意图。")
        await insights.ensure_schema()
        item = await insights.pool.run(store.label, item_id, value, agent.id)
        return response.json({"item": item.as_json()})

    @bp.route("/api/review/export.yml", methods=["GET"])
    @supervisors
    async def export(request: Request, agent: Agent) -> HTTPResponse:
        await insights.ensure_schema()
        text = await insights.pool.run(lambda: to_yaml(store.labelled()))
        return response.raw(
            text.encode("utf-8"),
            content_type="application/x-yaml; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="nlu-review.yml"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )
