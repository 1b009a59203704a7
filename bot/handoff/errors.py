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
