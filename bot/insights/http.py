"""The insights in the console, served by the Rasa server under /console/insights (a channel
in credentials.yml: ``bot.insights.http.InsightsInput``, after the console).

Pages (static, no data in them): ``/console/insights/reports`` and ``/console/insights/review``,
their modules under ``/console/insights/static/``. API (JSON, CSV, YAML): ``/api/...``, for
supervisors only, on the console's sessions (``bot.handoff.console_auth``: 401 without a session,
403 for an agent, 403 for a POST without ``X-Console-Request: 1``). Errors are
``{"error", "message"}`` with fixed messages. The events are read and the figures computed in
the insights' own worker thread, never on the event loop, and never in the console's pool.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import errors
from bot.handoff.service import HandoffService, handoff_service
from bot.insights.context import Insights, supervisor_required
from bot.insights.http_reports import register_reports
from bot.insights.http_review import register_review
from bot.insights.settings import InsightsSettings
from bot.masking import install_log_masking
from bot.static_files import serve

STATIC = Path(__file__).resolve().parent.parent / "console" / "static" / "insights"
PAGES = {"reports": "reports.html", "review": "review.html"}


class InsightsInput(InputChannel):
    """The insights' pages and API, registered like a channel so they run in the Rasa server."""

    @classmethod
    def name(cls) -> str:
        """The channel's name."""
        return "insights"

    def url_prefix(self) -> str:
        """Everything lives under /console/insights (the console's session cookie reaches it)."""
        return "/console/insights"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InsightsInput:
        """The process's handoff service and the INSIGHTS_* settings (validated now)."""
        install_log_masking()
        return cls(handoff_service(), InsightsSettings.from_env())

    def __init__(self, service: HandoffService, settings: InsightsSettings) -> None:
        """The insights on the handoff service (started by ``bot.handoff.startup``)."""
        self.insights = Insights(service, settings)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The pages and the API."""
        bp = Blueprint("console_insights", __name__)
        insights = self.insights

        @bp.listener("after_server_start")
        async def start(app: Sanic, _: Any) -> None:
            with contextlib.suppress(errors.StoreUnavailable):  # retried by the first review request
                await insights.ensure_schema()

        @bp.listener("after_server_stop")
        async def stop(app: Sanic, _: Any) -> None:
            insights.pool.close()

        @bp.route("/<page:(reports|review)>", methods=["GET"])
        async def page(request: Request, page: str) -> HTTPResponse:
            return await serve(STATIC, PAGES[page])

        @bp.route("/static/<name:path>", methods=["GET"])
        async def static(request: Request, name: str) -> HTTPResponse:
            return await serve(STATIC, name)

        register_reports(bp, insights, supervisor_required(insights.service))
        register_review(bp, insights, supervisor_required(insights.service))
        return bp
