"""Signed identity tokens of signed-in website users (DESIGN.md, Identity).

A token is ``<payload>.<signature>``: the payload is base64url JSON
``{"sub": account id, "exp": unix seconds}``, the signature base64url HMAC-SHA256
of the payload with the shared secret. Only a valid, unexpired signature is trusted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

MAX_TOKEN_CHARS = 1024


class InvalidToken(ValueError):
    """The token is malformed, forged or expired."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: str, secret: str) -> str:
    return _b64encode(hmac.new(secret.encode(), payload.encode("ascii"), hashlib.sha256).digest())


def sign_identity(account_id: str, secret: str, ttl_seconds: int = 3600, now: float | None = None) -> str:
    """A token saying that ``account_id`` is signed in, valid for ``ttl_seconds``."""
    if not secret:
        raise ValueError("an identity secret is required")
    issued = time.time() if now is None else now
    body = json.dumps({"sub": account_id, "exp": int(issued + ttl_seconds)}, separators=(",", ":"))
    payload = _b64encode(body.encode())
    return f"{payload}.{_signature(payload, secret)}"


def verify_identity(token: object, secret: str, now: float | None = None) -> str:
    """The account id of a valid token.

    Raises:
        InvalidToken: wrong shape, bad signature (constant-time compare), or expired.
    """
    if not secret:
        raise InvalidToken("identity tokens are not configured")
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise InvalidToken("malformed token")
    payload, signature = token.split(".")
    try:
        expected = _signature(payload, secret)
    except UnicodeEncodeError as error:
        raise InvalidToken("malformed token") from error
    if not hmac.compare_digest(expected, signature):
        raise InvalidToken("bad signature")
    try:
        claims = json.loads(_b64decode(payload))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidToken("malformed token") from error
    if not isinstance(claims, dict) or not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise InvalidToken("malformed token")
    if not isinstance(claims.get("exp"), int) or claims["exp"] < (time.time() if now is None else now):
        raise InvalidToken("expired token")
    return str(claims["sub"])
