"""The handoff inside the Rasa server: the store, its worker pools, the password hasher, the
login throttle and the expiry task, found by the channels and the console at ``app.ctx.handoff``.

One service per Rasa server process (``handoff_service``), started at server start by its own
module (``bot.handoff.startup``, registered in credentials.yml), not by the console: the gate
after each user message, the pushes and the expiry work whether or not the console is there.
The expiry task runs on one server at a time (``bot.handoff.leader``).

Nothing is opened at import or construction: the schema is created when the server starts
(off the event loop; a database that is down then is retried by the expiry task, and the
server starts anyway), and the pools start their threads on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import lru_cache
from typing import Any

from sanic import Sanic

from bot.handoff import notices
from bot.handoff.cancel import load_words
from bot.handoff.errors import StoreUnavailable
from bot.handoff.expiry import expiry_loop
from bot.handoff.hasher import Hasher, ProcessHasher
from bot.handoff.leader import Leadership, leadership_for
from bot.handoff.lifecycle import Lifecycle
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffStore
from bot.handoff.throttle import LoginThrottle
from bot.handoff.workers import Pool, Workers

logger = logging.getLogger(__name__)
STOP_TIMEOUT_SECONDS = 10.0


class HandoffService:
    """Everything the Rasa server's handoff parts share."""

    def __init__(
        self,
        settings: HandoffSettings,
        store: HandoffStore | None = None,
        hasher: Hasher | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        """Prepare the service; nothing connects or starts until the server starts."""
        self.settings = settings
        self.store = store or HandoffStore(settings.db_url, connect_timeout=settings.db_timeout_seconds)
        self.store.message_sla_hours = settings.message_sla_hours
        self.workers = Workers(settings.db_threads)
        self.hasher = hasher or ProcessHasher(settings.login.concurrent)
        self.throttle = LoginThrottle(self.store, settings.login, self.workers.console, self.hasher)
        self.leadership = leadership or leadership_for(self.store.engine)
        self.schema_ready = False
        self._task: asyncio.Task[Any] | None = None

    @property
    def running(self) -> bool:
        """Whether the expiry task runs (between ``start`` and ``stop``)."""
        return self._task is not None and not self._task.done()

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
        if getattr(app.ctx, "handoff", None) is self and self.running:
            return
        app.ctx.handoff = self
        await asyncio.to_thread(_preload)  # the data files, read once, off the loop
        try:
            await self.ensure_schema()
        except StoreUnavailable:
            logger.warning("handoff store unavailable at start; it is retried every round of expiry")
        loop = asyncio.get_running_loop()
        every = min(self.settings.expiry_round_seconds, self.settings.assignment_round_seconds)
        rounds = expiry_loop(self, app, every)
        self._task = loop.create_task(rounds, name="handoff-expiry")

    async def stop(self) -> None:
        """Stop the expiry task, give up leadership, stop the pools and close the store."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                await asyncio.wait_for(task, STOP_TIMEOUT_SECONDS)
        try:
            await asyncio.to_thread(self.leadership.release)
        except Exception:  # the lock dies with its connection anyway
            logger.warning("handoff: leadership not released cleanly")
        self.workers.close()
        self.hasher.close()
        await asyncio.to_thread(self.store.close)


def _preload() -> None:
    load_words()
    notices.preload()


@lru_cache(maxsize=1)
def handoff_service() -> HandoffService:
    """This process's one service, configured from the environment (HANDOFF_*)."""
    return HandoffService(HandoffSettings.from_env())


def service_of(app: Any) -> HandoffService | None:
    """The handoff service of a running server, if it has one."""
    service = getattr(getattr(app, "ctx", None), "handoff", None)
    return service if isinstance(service, HandoffService) else None
