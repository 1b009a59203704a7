"""The action server's one narrow way into the handoff: ask for a person, rate the service,
and what the user is told about it (agent hours, the expected wait, the queue's cancel button).

The actions import this module only (and the pure ``attachment_refs`` and ``ids``); it owns
the SQL. The two servers share nothing but the handoff database, each creating the schema if
it is missing and reconnecting by itself (``pool_pre_ping``), so either keeps working while
the other restarts. Importing it loads no Rasa server code (no Sanic, no Rasa core).

Blocking (SQL): the actions call it in a worker thread. When the store is down the request is
kept on disk (``bot.handoff.retry``) and recorded as a message when the store is back;
the caller gets ``StoreUnavailable`` and tells the user so politely.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.handoff.cancel import load_words
from bot.handoff.db import utcnow
from bot.handoff.errors import HandoffError, StoreUnavailable
from bot.handoff.models import Handoff
from bot.handoff.retry import MissedRequest, RetrySpool, RetryWorker
from bot.handoff.settings import HandoffSettings, within_hours
from bot.handoff.store import HandoffStore
from bot.handoff.workers import guarded

__all__ = ["Handoff", "HandoffClient", "HandoffError", "HandoffOutcome", "StoreUnavailable"]
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandoffOutcome:
    """What became of a request: queued (at ``position``) or a message left (``reference``)."""

    queued: bool
    reference: str
    position: int


class HandoffClient:
    """Requests for a person and ratings, over the shared handoff store."""

    @classmethod
    def from_env(cls) -> HandoffClient:
        """The client configured from HANDOFF_* (SettingsError on a bad value)."""
        return cls(HandoffSettings.from_env())

    def __init__(
        self,
        settings: HandoffSettings,
        store: HandoffStore | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """Prepare the client; nothing connects until the first request."""
        self.settings = settings
        self.store = store or HandoffStore(settings.db_url, connect_timeout=settings.db_timeout_seconds)
        self.store.message_sla_hours = settings.message_sla_hours
        self.spool = RetrySpool(settings.retry_dir)
        self.retries = RetryWorker(self.spool, self.store, settings.retry_seconds)
        self._clock = clock
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    @property
    def agent_hours(self) -> str:
        """When agents work (China time, ``HH:MM-HH:MM``)."""
        return self.settings.agent_hours

    @property
    def message_sla_hours(self) -> int:
        """Within how many hours a message left is answered (what the user is promised)."""
        return self.settings.message_sla_hours

    def expected_wait_minutes(self, position: int) -> int:
        """The wait announced to a user at ``position`` in the queue (at least one place)."""
        return max(position, 1) * self.settings.expected_minutes_per_position

    @staticmethod
    def cancel_button() -> dict[str, str]:
        """The queue notice's "stop waiting" button (the gate recognizes it)."""
        return dict(load_words().button)

    def _ensure_schema(self) -> None:
        with self._schema_lock:
            if not self._schema_ready:
                guarded(self.store.create_schema)
                self._schema_ready = True

    def request_person(
        self, sender_id: str, channel: str, priority: str, topic: str, summary: str
    ) -> HandoffOutcome:
        """Queue the user when agents work and one is on duty, else leave a message.

        Raises:
            StoreUnavailable: the store is down; the request was kept and will be recorded
                as a message when it is back.
            InvalidInput: a bad sender, channel, priority, topic or summary.
        """
        now = self._clock()
        try:
            outcome = guarded(self._request, sender_id, channel, priority, topic, summary, now)
        except StoreUnavailable:
            self._keep(MissedRequest(sender_id, channel, priority, topic, summary, now.isoformat()))
            raise
        if self.spool.waiting():
            self.retries.wake()  # the store works again: record what waited
        return outcome

    def _request(
        self, sender_id: str, channel: str, priority: str, topic: str, summary: str, now: datetime
    ) -> HandoffOutcome:
        self._ensure_schema()
        store = self.store
        handoff = store.request_handoff(sender_id, channel, priority, topic, summary)
        open_now = within_hours(self.settings.agent_hours, now)
        if handoff.status == "pending" and not (open_now and store.agents_on_duty()):
            left = store.leave_message(handoff.id)
            return HandoffOutcome(queued=False, reference=left.reference, position=0)
        position = store.position(handoff.id)
        store.assignment.told(handoff.id, max(position, 1))  # the live updates start from here
        return HandoffOutcome(queued=True, reference=handoff.reference, position=position)

    def _keep(self, request: MissedRequest) -> None:
        try:
            self.spool.keep(request)
        except OSError:
            logger.error("handoff: the store is down and the request could not be kept on disk")
            return
        logger.warning("handoff: the store is unavailable; the request was kept for a retry")
        self.retries.start()

    def message_awaiting_ticket(self, sender_id: str) -> Handoff | None:
        """The user's latest message left that has no ticket yet (StoreUnavailable when down)."""
        self._ensure_schema()
        return guarded(self.store.messages.awaiting_ticket, sender_id)

    def attach_ticket(self, handoff_id: int, ticket_id: str, contact: str | None, contact_kind: str) -> None:
        """Link the ticket opened for a message left, with the contact the user left (masked)."""
        self._ensure_schema()
        guarded(self.store.messages.attach_ticket, handoff_id, ticket_id, contact, contact_kind)

    def rate(self, sender_id: str, score: int) -> bool:
        """Rate the user's latest resolved handoff (StoreUnavailable when the store is down)."""
        self._ensure_schema()
        return guarded(self.store.record_satisfaction, sender_id, score)

    def close(self) -> None:
        """Stop the retry thread and close the store's connections."""
        self.retries.stop()
        self.store.close()
