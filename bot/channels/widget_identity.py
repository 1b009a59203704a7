"""Defence in depth for signed-in widget users: a session belongs to the first account whose
valid identity token it carries. A later message of that session with a valid token for
another account is refused (the widget starts a new session for the new user), so one
conversation never mixes two users' account data.

The bot itself re-checks the token on every turn (actions/flows/identity.py); this only keeps
two users out of one session. Bindings live in this process, bounded like the de-duplication.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from bot.identity import InvalidToken, verify_identity

TOKEN_KEY = "identity_token"


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


class IdentityBindings:
    """The account each recent session is bound to."""

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
