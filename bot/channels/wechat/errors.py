"""The WeChat channel's errors: refused requests carry their HTTP status, platform API
failures their errcode and the push reason they mean."""

from __future__ import annotations

from sanic import response
from sanic.response import HTTPResponse


class RequestRefused(Exception):
    """A webhook request the channel refuses, with its HTTP status and a stable code.

    The response body is the code only: nothing of the request is echoed.
    """

    def __init__(self, status: int, code: str) -> None:
        """Create the refusal."""
        super().__init__(code)
        self.status = status
        self.code = code

    def to_response(self) -> HTTPResponse:
        """The plain-text error response."""
        return response.text(self.code, status=self.status)


def invalid_query() -> RequestRefused:
    """Missing or malformed query parameters."""
    return RequestRefused(400, "invalid_query")


def invalid_signature() -> RequestRefused:
    """The signature (or msg_signature) does not match."""
    return RequestRefused(403, "invalid_signature")


def stale_timestamp() -> RequestRefused:
    """The request's timestamp is outside the accepted window."""
    return RequestRefused(403, "stale_timestamp")


def invalid_xml() -> RequestRefused:
    """The body is not a well-formed, plain WeChat XML message."""
    return RequestRefused(400, "invalid_xml")


class ApiError(Exception):
    """A platform API call failed (``errcode`` 0 when there was no platform answer at all)."""

    def __init__(self, errcode: int, detail: str = "") -> None:
        """Create the error; ``detail`` is for the log (never a token or a secret)."""
        super().__init__(f"errcode {errcode}: {detail}" if detail else f"errcode {errcode}")
        self.errcode = errcode
        self.detail = detail


# errcode -> the handoff's push reason (bot/handoff/push.py REASONS).
_REASONS = {
    45015: "window_closed",  # more than 48 h since the user last wrote, or not following
    45047: "quota",  # the messages allowed in this window are used up
    45009: "rate_limited",  # the daily API quota
    45011: "rate_limited",  # API called too often
    43004: "unsubscribed",  # the user does not follow the account
    40003: "unknown_sender",  # not an openid of this account
}


def reason_of(errcode: int) -> str:
    """The push reason an errcode means (``unavailable`` for anything else)."""
    return _REASONS.get(errcode, "unavailable")


class NotDelivered(ApiError):
    """A customer-service message the platform did not deliver; ``reason`` is a push reason."""

    def __init__(self, errcode: int, detail: str = "") -> None:
        """Create the error from the platform's errcode."""
        super().__init__(errcode, detail)
        self.reason = reason_of(errcode)
