"""The reports' routes: the figures of a period as JSON, and each table as CSV.

``GET /api/report?from=YYYY-MM-DD&to=YYYY-MM-DD[&channel=widget|wechat|telegram|rest|other]``
``GET /api/report.csv?...&table=daily|funnel|reasons|csat_agents|messages_left``
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff.console_http import Handler
from bot.handoff.models import Agent
from bot.insights.context import Insights
from bot.insights.conversations import CHANNELS
from bot.insights.csv_export import TABLES, to_csv
from bot.insights.domain_facts import flows_of
from bot.insights.errors import InvalidParameter
from bot.insights.period import Period, parse_period
from bot.insights.report import build_report, read_period

MAX_PARAM = 32
REPORT_CHANNELS = (*CHANNELS, "other")


def _arg(request: Request, name: str) -> str | None:
    values = request.args.getlist(name)
    if not values:
        return None
    if len(values) > 1 or len(values[0]) > MAX_PARAM:
        raise InvalidParameter("参数不正确。")
    return str(values[0])


def _channel(request: Request) -> str | None:
    channel = _arg(request, "channel")
    if channel in (None, "", "all"):
        return None
    if channel not in REPORT_CHANNELS:
        raise InvalidParameter("未知的渠道。")
    return channel


async def compute(request: Request, insights: Insights) -> tuple[Period, dict[str, Any]]:
    """The report the request asks for (InvalidPeriod or InvalidParameter on bad values)."""
    settings = insights.settings
    period = parse_period(_arg(request, "from"), _arg(request, "to"), settings.max_range_days)
    channel = _channel(request)
    # the events of the period, and of the next hours where a user may have come back
    events = await insights.events(request.app, period.start, period.end + settings.recontact_hours * 3600)
    flows = flows_of(request.app.ctx.agent.domain)

    def figures() -> dict[str, Any]:
        seen = read_period(events, period, settings, channel)
        return build_report(seen, period, flows, settings, time.time(), channel)

    return period, await insights.pool.run(figures)


def register_reports(bp: Blueprint, insights: Insights, supervisors: Callable[[Handler], Handler]) -> None:
    """The report routes on the insights' blueprint."""

    @bp.route("/api/report", methods=["GET"])
    @supervisors
    async def report(request: Request, agent: Agent) -> HTTPResponse:
        _, figures = await compute(request, insights)
        return response.json(figures, headers={"Cache-Control": "no-store"})

    @bp.route("/api/report.csv", methods=["GET"])
    @supervisors
    async def report_csv(request: Request, agent: Agent) -> HTTPResponse:
        table = _arg(request, "table") or "daily"
        if table not in TABLES:
            raise InvalidParameter("未知的报表。")
        period, figures = await compute(request, insights)
        name = f"insights-{table}-{period.first.isoformat()}_{period.last.isoformat()}.csv"
        return response.raw(
            to_csv(figures, table).encode("utf-8"),
            content_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )
