"""Server-issued widget sessions: ids, their signed proofs, and the Rasa sender namespace.

A session is issued by the server as a random id; the widget keeps the session's proof
``<session id>.<signature>``, the signature being base64url HMAC-SHA256 of the id with the
server's session secret (``WIDGET_SESSION_SECRET``). Only the server can make a proof, so a
client can never pick or join a session it was not issued. The Rasa conversation of a
session is ``widget:<session id>``, which no other channel can address (DESIGN.md, Identity).

Pure functions, tested with known answers; the secret is read once, at channel start.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Mapping

logger = logging.getLogger(__name__)

SECRET_ENV = "WIDGET_SESSION_SECRET"
MIN_SECRET_CHARS = 32
SENDER_PREFIX = "widget:"
MAX_PROOF_CHARS = 128
# Only ids the server makes: 32 lower-case hex digits (128 random bits).
ISSUED_ID = re.compile(r"^[0-9a-f]{32}$")
_SIGNATURE = re.compile(r"^[A-Za-z0-9_-]{43}$")
# Domain separation: a session signature is never valid as any other HMAC of the same secret.
_CONTEXT = b"uwc-session.v1."


class InvalidSession(ValueError):
    """A session proof that is malformed or not signed by this server."""


def new_session_id() -> str:
    """A fresh, unguessable session id."""
    return secrets.token_hex(16)


def _signature(session_id: str, secret: bytes) -> str:
    digest = hmac.new(secret, _CONTEXT + session_id.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_session(session_id: str, secret: bytes) -> str:
    """The proof ``<session id>.<signature>`` of an issued session id.

    Raises:
        ValueError: the id is not one the server issues, or the secret is empty.
    """
    if not secret:
        raise ValueError("a session secret is required")
    if not ISSUED_ID.match(session_id):
        raise ValueError("not an issued session id")
    return f"{session_id}.{_signature(session_id, secret)}"


def verify_session(proof: object, secret: bytes) -> str:
    """The session id of a valid proof.

    Raises:
        InvalidSession: wrong shape, or a signature this server did not make (compared in
        constant time).
    """
    if not secret:
        raise InvalidSession("no session secret")
    if not isinstance(proof, str) or len(proof) > MAX_PROOF_CHARS or proof.count(".") != 1:
        raise InvalidSession("malformed proof")
    session_id, signature = proof.split(".")
    if not ISSUED_ID.match(session_id) or not _SIGNATURE.match(signature):
        raise InvalidSession("malformed proof")
    if not hmac.compare_digest(_signature(session_id, secret).encode(), signature.encode()):
        raise InvalidSession("bad signature")
    return session_id


def sender_of(session_id: str) -> str:
    """The Rasa conversation id (and socket.io room) of a widget session."""
    return SENDER_PREFIX + session_id


def session_of(sender_id: str) -> str | None:
    """The widget session of a Rasa conversation id; None when it is not a widget conversation."""
    if not sender_id.startswith(SENDER_PREFIX):
        return None
    session_id = sender_id[len(SENDER_PREFIX) :]
    return session_id if ISSUED_ID.match(session_id) else None


def session_secret(environ: Mapping[str, str]) -> bytes:
    """The secret that signs session proofs, from ``WIDGET_SESSION_SECRET``.

    Unset: a random secret for this process, with a warning (sessions then end when the
    server restarts, and several servers cannot share them).

    Raises:
        ValueError: the variable is set but shorter than 32 characters.
    """
    value = environ.get(SECRET_ENV, "").strip()
    if not value:
        logger.warning(
            "widget channel: %s is not set; using a random secret for this process, so widget "
            "sessions end when the server restarts and cannot be shared between servers",
            SECRET_ENV,
        )
        return secrets.token_bytes(32)
    if len(value) < MIN_SECRET_CHARS:
        raise ValueError(f"{SECRET_ENV} must be at least {MIN_SECRET_CHARS} characters")
    return value.encode("utf-8")


def resume_or_issue(request: object, secret: bytes) -> tuple[str, bool]:
    """The session a ``session_request`` gets: the one its ``session_token`` proves (resumed),
    else a new one. A bare or forged id never selects a session."""
    proof = request.get("session_token") if isinstance(request, dict) else None
    if proof is not None:
        try:
            return verify_session(proof, secret), True
        except InvalidSession:
            logger.info("widget channel: a session proof was refused; issuing a new session")
    return new_session_id(), False
