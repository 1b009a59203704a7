"""Errors of the handoff store, each carrying the HTTP status it maps to at the edge.

Messages are fixed texts: they never contain the input that caused them.
"""

from __future__ import annotations


class HandoffError(Exception):
    """Base of every error the handoff package raises."""

    status: int = 500
    code: str = "handoff_error"


class NotFound(HandoffError):
    """No handoff, agent or session with that id."""

    status = 404
    code = "not_found"


class Conflict(HandoffError):
    """The operation does not fit the current state (already taken, not pending, not yours, disabled)."""

    status = 409
    code = "conflict"


class InvalidInput(HandoffError):
    """An argument has a bad value (username, password, role, score, note length...)."""

    status = 400
    code = "invalid_input"


class AuthError(HandoffError):
    """Not logged in, or not allowed to do that."""

    status = 401
    code = "unauthorized"


class StoreUnavailable(HandoffError):
    """The handoff database cannot be reached or failed; the operation did not happen."""

    status = 503
    code = "store_unavailable"


class NotRunning(HandoffError):
    """The handoff service is not running in this server (not registered, or stopping)."""

    status = 503
    code = "handoff_not_running"


class Throttled(HandoffError):
    """Too many attempts (failed logins); try again in ``retry_after`` seconds."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int = 60) -> None:
        """Create the error with the wait it suggests."""
        super().__init__(message)
        self.retry_after = retry_after


class Forbidden(HandoffError):
    """Logged in, but not allowed to do that (not the assigned agent, not a supervisor)."""

    status = 403
    code = "forbidden"
