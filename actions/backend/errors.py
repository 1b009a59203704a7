"""Errors of the wallet backend; callers map them to polite answers."""

from __future__ import annotations


class BackendError(Exception):
    """Base class of every wallet backend error."""


class BackendUnavailable(BackendError):
    """The backend is down, slow or answered with a server error: try again later."""


class NotFound(BackendError):
    """The account, transaction or ticket does not exist (or is not the caller's)."""


class InvalidRequest(BackendError):
    """The request was refused: a bad value, or a value equal to the current one."""


class TooManyAttempts(BackendError):
    """Too many wrong codes or sends; the operation is blocked for a while."""
