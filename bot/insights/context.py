"""What the insights' routes share: the handoff service (its sessions and database), the
settings, their own worker thread, the review store; and the supervisors-only check."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import wraps
from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import errors
from bot.handoff.console_auth import agent_required
from bot.handoff.console_http import Handler
from bot.handoff.models import Agent
from bot.handoff.service import HandoffService
from bot.handoff.workers import Pool
from bot.insights.events import Events, read_any, read_sql, sql_store
from bot.insights.review_store import ReviewStore
from bot.insights.settings import InsightsSettings


def supervisor_required(service: HandoffService) -> Callable[[Handler], Handler]:
    """The console's session check, then the supervisor role (403 for an agent)."""
    login_required = agent_required(service)

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def checked(request: Request, agent: Agent, *args: Any, **kwargs: Any) -> HTTPResponse | None:
            if not agent.is_supervisor:
                raise errors.Forbidden("supervisors only")
            return await handler(request, agent, *args, **kwargs)

        return login_required(checked)

    return decorate


class Insights:
    """What the routes share: the handoff service, the settings, the pool and the review store."""

    def __init__(self, service: HandoffService, settings: InsightsSettings) -> None:
        """Prepare; the review store's tables are created when the server starts."""
        self.service = service
        self.settings = settings
        self.pool = Pool("insights", 1)
        self.review = ReviewStore(service.store.engine)
        self.scan_lock = asyncio.Lock()
        self.schema_ready = False

    async def ensure_schema(self) -> None:
        """Create the review tables once (StoreUnavailable while the database is down)."""
        if not self.schema_ready:
            await self.pool.run(self.review.create_schema)
            self.schema_ready = True

    async def events(self, app: Sanic, since: float, until: float) -> Events:
        """The stored events of every conversation active in ``[since, until)``."""
        store = app.ctx.agent.tracker_store
        sql = sql_store(store)
        if sql is not None:
            return await self.pool.run(read_sql, sql, since, until)
        return await read_any(store, since, until)
