"""Defence in depth for signed-in widget users: a session belongs to the first account whose
valid identity token it carries. A later message of that session with a valid token for
another account is refused (the widget starts a new session for the new user), so one
conversation never mixes two users' account data.

The bot itself re-checks the token on every turn (actions/flows/identity.py); this only keeps
two users out of one session. Bindings live in this process, bounded like the de-duplication,
or, when ``CHANNEL_STATE_URL`` is Redis, in the shared state, so that a session reconnected to
another instance stays bound to its user.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, Protocol

from bot.channels.shared_state import SharedState, configured_url, is_redis_url, shared_state
from bot.identity import InvalidToken, verify_identity

logger = logging.getLogger(__name__)
TOKEN_KEY = "identity_token"
BINDING_TTL_SECONDS = 30 * 86400.0


def token_subject(metadata: dict[str, Any], secret: str) -> str | None:
    """The account of the message's valid identity token; None without one (a forged or
    expired token is the bot's to ignore, it binds nothing)."""
    token = metadata.get(TOKEN_KEY)
    if token is None or not secret:
        return None
    try:
        return verify_identity(token, secret)
    except InvalidToken:
        return None


class Bindings(Protocol):
    """The account each session is bound to."""

    async def admits(self, session_id: str, subject: str | None) -> bool:
        """Whether a message of ``session_id`` signed in as ``subject`` (None: not signed in)
        may be handled in that session; binds the session to its first subject."""


class IdentityBindings:
    """The account each recent session is bound to, in this process."""

    def __init__(self, sessions: int = 10_000) -> None:
        """Bound memory: the least recently used sessions are forgotten first."""
        self._sessions = sessions
        self._bound: OrderedDict[str, str] = OrderedDict()

    def accept(self, session_id: str, subject: str | None) -> bool:
        """Whether a message of ``session_id`` signed in as ``subject`` (None: not signed in)
        may be handled in that session; binds the session to its first subject."""
        bound = self._bound.pop(session_id, None)
        if bound is None and subject is None:
            return True
        self._bound[session_id] = bound or str(subject)
        if len(self._bound) > self._sessions:
            self._bound.popitem(last=False)
        return subject is None or subject == self._bound[session_id]

    async def admits(self, session_id: str, subject: str | None) -> bool:
        """``accept``, awaitable like the shared bindings."""
        return self.accept(session_id, subject)


class SharedIdentityBindings:
    """The bindings in the shared state: the first subject claims the session's key."""

    def __init__(self, state: SharedState, ttl: float = BINDING_TTL_SECONDS) -> None:
        """Use ``state`` (this process's bindings while it fails)."""
        self._state = state
        self._ttl = ttl
        self._fallback = IdentityBindings()

    async def admits(self, session_id: str, subject: str | None) -> bool:
        """Whether the message may be handled in the session (on any instance)."""
        if subject is None:
            return True
        key = f"widget:identity:{session_id}"
        try:
            for _ in range(2):  # a binding that expires in between is claimed on the second pass
                if await self._state.claim(key, self._ttl, subject):
                    return True
                bound = await self._state.get(key)
                if bound is not None:
                    return bound == subject
            return False
        except Exception as error:  # the shared store is down: this process decides meanwhile
            logger.warning("widget identity bindings: shared state unavailable (%s)", type(error).__name__)
            return self._fallback.accept(session_id, subject)


def identity_bindings(url: str | None = None) -> Bindings:
    """Shared when ``url`` (default ``CHANNEL_STATE_URL``) is Redis, else in this process."""
    url = configured_url(url)
    return SharedIdentityBindings(shared_state(url)) if is_redis_url(url) else IdentityBindings()
