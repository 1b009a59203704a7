"""Validation of the widget's socket.io events, and the client-message de-duplication.

Pure functions and a small LRU, tested without a server.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CLIENT_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TOKEN_CHARS = 1024


class EventError(ValueError):
    """A socket event the channel ignores; ``code`` goes back to the widget."""

    def __init__(self, code: str, message: str) -> None:
        """Create the error with what the widget is told (in Chinese)."""
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class UserEvent:
    """A validated ``user_uttered`` event."""

    session_id: str
    text: str
    client_message_id: str | None
    metadata: dict[str, Any]


def session_id_of(data: Any) -> str | None:
    """A well-formed session id in ``data`` (a string or ``{"session_id": ...}``), else None.

    Only the shape: an id proves nothing (sessions are proved by widget_sessions)."""
    value = data.get("session_id") if isinstance(data, dict) else data if isinstance(data, str) else None
    return value if isinstance(value, str) and SESSION_ID.match(value) else None


def parse_user_event(data: Any, max_chars: int, metadata_key: str = "customData") -> UserEvent:
    """Validate a ``user_uttered`` event; raises EventError with a code for the widget."""
    if not isinstance(data, dict):
        raise EventError("invalid_event", "消息格式不正确，请刷新页面后重试。")
    session_id = data.get("session_id")
    if not isinstance(session_id, str) or not SESSION_ID.match(session_id):
        raise EventError("invalid_event", "会话已失效，请刷新页面后重试。")
    text = data.get("message", "")
    if not isinstance(text, str):
        raise EventError("invalid_event", "消息格式不正确，请刷新页面后重试。")
    if len(text) > max_chars:
        raise EventError("message_too_long", f"消息太长了，请控制在 {max_chars} 字以内。")
    raw = data.get(metadata_key)
    if raw is not None and not isinstance(raw, dict):
        raise EventError("invalid_event", "消息格式不正确，请刷新页面后重试。")
    raw = raw or {}
    client_message_id = raw.get("client_message_id")
    if client_message_id is not None and (
        not isinstance(client_message_id, str) or not CLIENT_MESSAGE_ID.match(client_message_id)
    ):
        raise EventError("invalid_event", "消息格式不正确，请刷新页面后重试。")
    metadata: dict[str, Any] = {}
    token = raw.get("identity_token")
    if isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_CHARS:
        metadata["identity_token"] = token
    return UserEvent(session_id, text.replace("\x00", ""), client_message_id, metadata)


class SeenMessages:
    """The client message ids seen recently per session, so a resent message counts once."""

    def __init__(self, per_session: int = 200, sessions: int = 10_000) -> None:
        """Bound memory: ids kept per session, and sessions kept."""
        self._per_session = per_session
        self._sessions = sessions
        self._seen: OrderedDict[str, OrderedDict[str, None]] = OrderedDict()

    def first_time(self, session_id: str, client_message_id: str) -> bool:
        """Record the id; False when the session already sent it."""
        ids = self._seen.pop(session_id, None) or OrderedDict()
        self._seen[session_id] = ids
        if len(self._seen) > self._sessions:
            self._seen.popitem(last=False)
        if client_message_id in ids:
            return False
        ids[client_message_id] = None
        if len(ids) > self._per_session:
            ids.popitem(last=False)
        return True
