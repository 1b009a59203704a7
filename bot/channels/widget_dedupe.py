"""The widget's de-duplication of resent messages: a message the widget sends again (after a
reconnect, to whichever instance the socket now reaches) is handled once.

In this process by default (``SeenMessages``); in the shared state when ``CHANNEL_STATE_URL``
is Redis, so every instance answers "seen?" alike (an atomic ``SET NX`` with a time to
live). If Redis fails the process's own memory answers until it is back.
"""

from __future__ import annotations

import logging
from typing import Protocol

from bot.channels.shared_state import SharedState, configured_url, is_redis_url, shared_state
from bot.channels.socket_events import SeenMessages

logger = logging.getLogger(__name__)
SEEN_TTL_SECONDS = 24 * 3600.0


class Dedupe(Protocol):
    """Which client message ids a session has sent already."""

    async def first_time(self, session_id: str, client_message_id: str) -> bool:
        """Record the id; False when the session already sent it."""


class LocalDedupe:
    """This process's memory (the embedded default)."""

    def __init__(self) -> None:
        """An empty, bounded memory."""
        self._seen = SeenMessages()

    async def first_time(self, session_id: str, client_message_id: str) -> bool:
        """Record the id; False when the session already sent it."""
        return self._seen.first_time(session_id, client_message_id)


class SharedDedupe:
    """The shared state's set-if-absent, one key per message, kept for a day."""

    def __init__(self, state: SharedState, ttl: float = SEEN_TTL_SECONDS) -> None:
        """Use ``state`` (the process's memory while it fails)."""
        self._state = state
        self._ttl = ttl
        self._fallback = SeenMessages()

    async def first_time(self, session_id: str, client_message_id: str) -> bool:
        """Record the id; False when the session already sent it (on any instance)."""
        try:
            return await self._state.claim(f"widget:seen:{session_id}:{client_message_id}", self._ttl)
        except Exception as error:  # the shared store is down: this process remembers meanwhile
            logger.warning("widget de-duplication: shared state unavailable (%s)", type(error).__name__)
            return self._fallback.first_time(session_id, client_message_id)


def message_dedupe(url: str | None = None) -> Dedupe:
    """Shared when ``url`` (default ``CHANNEL_STATE_URL``) is Redis, else in this process."""
    url = configured_url(url)
    return SharedDedupe(shared_state(url)) if is_redis_url(url) else LocalDedupe()
