"""Conversations: one per Rasa session of a sender, with where the user wrote from and who
they proved to be.

Every channel namespaces its senders (``widget:``, ``wechat:``, ``telegram:``, ``rest:``), so
the channel is the sender's prefix. The same person on two channels has two senders; they are
known to be one user only once verified (the ``account_id`` slot, set by the widget's signed
token or a one-time code), which is how "the same user on any channel" is decided.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.insights.events import Events, stamp

CHANNELS = ("widget", "wechat", "telegram", "rest")
INPUT_CHANNELS = {
    "socketio": "widget",
    "widget": "widget",
    "wechat": "wechat",
    "telegram": "telegram",
    "rest": "rest",
}
ACCOUNT_SLOT = "account_id"


@dataclass(frozen=True)
class Conversation:
    """One session of one sender that has at least one user message."""

    sender_id: str
    channel: str
    started_at: float  # the first user message
    ended_at: float  # the last event
    accounts: frozenset[str]
    events: tuple[dict[str, Any], ...]

    def same_user(self, other: Conversation) -> bool:
        """Whether both are the same person: the same sender, or the same verified account."""
        return self.sender_id == other.sender_id or bool(self.accounts & other.accounts)


def channel_of(sender_id: str, events: Sequence[dict[str, Any]] = ()) -> str:
    """The channel of a conversation: its sender's namespace, else the user's input channel."""
    prefix = sender_id.split(":", 1)[0] if ":" in sender_id else ""
    if prefix in CHANNELS:
        return prefix
    for event in events:
        if event.get("event") == "user":
            found = INPUT_CHANNELS.get(str(event.get("input_channel") or ""))
            if found:
                return found
    return "other"


def _opens_session(event: dict[str, Any]) -> bool:
    return event.get("event") == "action" and event.get("name") == "action_session_start"


def _sessions(events: Sequence[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    current: list[dict[str, Any]] = []
    for event in events:
        if event.get("event") == "session_started" and current:
            opening = current[-1:] if _opens_session(current[-1]) else []
            if len(current) > len(opening):
                yield current[: len(current) - len(opening)]
            current = opening
        current.append(event)
    if current:
        yield current


def split(sender_id: str, events: Sequence[dict[str, Any]]) -> list[Conversation]:
    """A sender's events as conversations (sessions without a user message are left out)."""
    found = []
    for session in _sessions(events):
        users = [e for e in session if e.get("event") == "user"]
        if not users:
            continue
        accounts = frozenset(
            str(e["value"])
            for e in session
            if e.get("event") == "slot" and e.get("name") == ACCOUNT_SLOT and isinstance(e.get("value"), str)
        )
        found.append(
            Conversation(
                sender_id=sender_id,
                channel=channel_of(sender_id, session),
                started_at=stamp(users[0]),
                ended_at=max(stamp(e) for e in session),
                accounts=accounts,
                events=tuple(session),
            )
        )
    return found


def conversations(events: Events) -> list[Conversation]:
    """Every conversation of these senders' events, in order of their start."""
    found = [c for sender_id, stored in events.items() for c in split(sender_id, stored)]
    return sorted(found, key=lambda c: (c.started_at, c.sender_id))


def returned_within(conversation: Conversation, others: Sequence[Conversation], seconds: float) -> bool:
    """Whether the same user started another conversation within ``seconds`` after this one ended."""
    until = conversation.ended_at + seconds
    return any(
        other is not conversation
        and conversation.ended_at < other.started_at <= until
        and conversation.same_user(other)
        for other in others
    )
