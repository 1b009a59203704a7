"""The handoff inside the Rasa server: the store, its worker pools, the password hasher, the
login throttle and the expiry task, started once per server and found by the channels at
``app.ctx.handoff``.

Nothing is opened at import or construction: the schema is created when the server starts
(off the event loop; a database that is down then is retried by the expiry task, and the
server starts anyway), and the pools start their threads on first use.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sanic import Sanic

from bot.handoff import notices
from bot.handoff.cancel import load_words
from bot.handoff.errors import StoreUnavailable
from bot.handoff.expiry import expiry_loop
from bot.handoff.hasher import Hasher, ProcessHasher
from bot.handoff.lifecycle import Lifecycle
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffStore
from bot.handoff.throttle import LoginThrottle
from bot.handoff.workers import Pool, Workers

logger = logging.getLogger(__name__)


class HandoffService:
    """Everything the Rasa server's handoff parts share."""

    def __init__(
        self, settings: HandoffSettings, store: HandoffStore | None = None, hasher: Hasher | None = None
    ) -> None:
        """Prepare the service; nothing connects or starts until the server starts."""
        self.settings = settings
        self.store = store or HandoffStore(settings.db_url, connect_timeout=settings.db_timeout_seconds)
        self.workers = Workers(settings.db_threads)
        self.hasher = hasher or ProcessHasher(settings.login.concurrent)
        self.throttle = LoginThrottle(self.store, settings.login, self.workers.console, self.hasher)
        self.schema_ready = False
        self._task: asyncio.Task[Any] | None = None

    def lifecycle(self, app: Sanic, pool: Pool | None = None) -> Lifecycle:
        """The handoff steps on this server, in ``pool`` (the console's by default)."""
        return Lifecycle(self.store, app, pool or self.workers.console)

    async def ensure_schema(self) -> None:
        """Create the tables if that has not worked yet (StoreUnavailable when it fails)."""
        if not self.schema_ready:
            await self.workers.users.run(self.store.create_schema)
            self.schema_ready = True

    async def start(self, app: Sanic) -> None:
        """Install the service on the server and start the expiry task (once per server)."""
        if getattr(app.ctx, "handoff", None) is self:
            return
        app.ctx.handoff = self
        await asyncio.to_thread(_preload)  # the data files, read once, off the loop
        try:
            await self.ensure_schema()
        except StoreUnavailable:
            logger.warning("handoff store unavailable at start; it is retried every round of expiry")
        self._task = asyncio.get_running_loop().create_task(expiry_loop(self, app), name="handoff-expiry")

    async def stop(self) -> None:
        """Stop the expiry task and the pools, and close the store's connections."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.workers.close()
        self.hasher.close()
        await asyncio.to_thread(self.store.close)


def _preload() -> None:
    load_words()
    notices.preload()


def service_of(app: Any) -> HandoffService | None:
    """The handoff service of a running server, if it has one."""
    service = getattr(getattr(app, "ctx", None), "handoff", None)
    return service if isinstance(service, HandoffService) else None
