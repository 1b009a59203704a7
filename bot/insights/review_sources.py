"""What goes to the review queue, read from the conversations' events:

- ``fallback``: a message the NLU gave up on (``nlu_fallback``) or the bot answered with its
  fallback (``action_wallet_fallback``, ``action_default_fallback``);
- ``low_confidence``: a message whose intent confidence is below the threshold;
- ``misread``: a message the bot took for something else, as the user's next message says
  (``wrong_topic``: "不是这个", "搞错了");
- ``handoff``: the first thing the user wrote in each request for a person (what they tell the
  agent after the request, else the conversation's first message that is not "转人工").

Texts are masked again (they come masked from the tracker store) and button payloads
("/intent{...}") are never candidates. One message is one item even when several sources
apply (the first in the order above).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.insights.conversations import Conversation
from bot.insights.events import stamp
from bot.insights.handoffs import HANDOFF_ACTION
from bot.masking import mask_text

SOURCES = ("fallback", "low_confidence", "misread", "handoff")
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = frozenset({"action_wallet_fallback", "action_default_fallback"})
CORRECTION_INTENT = "wrong_topic"
SKIPPED_INTENTS = frozenset({"request_human", "rate_service"})
MAX_TEXT = 500


@dataclass(frozen=True)
class Candidate:
    """A user message for review; ``key`` identifies it across scans (no sender id is kept)."""

    key: str
    source: str
    channel: str
    text: str
    intent: str | None
    confidence: float | None
    at: float


def _intent(event: dict[str, Any]) -> tuple[str | None, float | None]:
    intent = (event.get("parse_data") or {}).get("intent") or {}
    name, confidence = intent.get("name"), intent.get("confidence")
    number = (
        float(confidence)
        if isinstance(confidence, int | float) and not isinstance(confidence, bool)
        else None
    )
    return (str(name) if name else None), number


def _text(event: dict[str, Any]) -> str | None:
    text = " ".join(str(event.get("text") or "").split())
    if not text or text.startswith("/") or len(text) > MAX_TEXT:
        return None
    return mask_text(text)


def _key(sender_id: str, event: dict[str, Any]) -> str:
    raw = f"{sender_id}\x00{stamp(event)!r}\x00{event.get('text')}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]


def _sources(events: Sequence[dict[str, Any]], users: list[int], low: float) -> dict[int, str]:
    """The source of each user message (by index) that goes to review."""
    found: dict[int, str] = {}
    for n, index in enumerate(users):
        intent, confidence = _intent(events[index])
        following = users[n + 1] if n + 1 < len(users) else len(events)
        answered_by = {
            str(e.get("name")) for e in events[index + 1 : following] if e.get("event") == "action"
        }
        if intent == FALLBACK_INTENT or answered_by & FALLBACK_ACTIONS:
            found[index] = "fallback"
        elif confidence is not None and confidence < low and intent not in SKIPPED_INTENTS:
            found[index] = "low_confidence"
        elif n + 1 < len(users) and _intent(events[users[n + 1]])[0] == CORRECTION_INTENT:
            found[index] = "misread"
    for at, event in enumerate(events):
        if event.get("event") == "action" and event.get("name") == HANDOFF_ACTION:
            first = _handoff_message(events, users, at)
            if first is not None:
                found.setdefault(first, "handoff")
    return found


def _handoff_message(events: Sequence[dict[str, Any]], users: list[int], at: int) -> int | None:
    after = next(
        (i for i in users if i > at and _text(events[i]) and _intent(events[i])[0] != "rate_service"), None
    )
    if after is not None:
        return after
    return next(
        (i for i in users if i < at and _text(events[i]) and _intent(events[i])[0] not in SKIPPED_INTENTS),
        None,
    )


def candidates(conversation: Conversation, low_confidence: float) -> list[Candidate]:
    """The review candidates of one conversation."""
    events = conversation.events
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    found = []
    for index, source in sorted(_sources(events, users, low_confidence).items()):
        text = _text(events[index])
        if text is None:
            continue
        intent, confidence = _intent(events[index])
        found.append(
            Candidate(
                _key(conversation.sender_id, events[index]),
                source,
                conversation.channel,
                text,
                intent,
                confidence,
                stamp(events[index]),
            )
        )
    return found


def all_candidates(found: Iterable[Conversation], low_confidence: float) -> list[Candidate]:
    """The review candidates of several conversations."""
    return [c for conversation in found for c in candidates(conversation, low_confidence)]
