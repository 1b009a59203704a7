"""Agent assist: up to three canned replies for the user's latest message (pure functions).

The replies (``bot/console/canned_replies.yml``) name the intents and topics they answer. The
user's latest message is read by the bot's NLU when it arrives (its intent ranking is in the
transcript); a reply scores the confidence of each intent it answers, plus a bonus when it
answers the conversation's topic; general replies come last. Suggestions are only suggested:
the console puts a chosen one in the reply box and never sends it by itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "console" / "canned_replies.yml"
MAX_SUGGESTIONS = 3
TOPIC_BONUS = 0.5
MIN_SCORE = 0.05  # below this a reply is not about the message at all


@dataclass(frozen=True)
class CannedReply:
    """One canned reply and what it answers."""

    text: str
    intents: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()


def parse_replies(data: Any) -> list[CannedReply]:
    """The replies of a parsed ``canned_replies.yml`` (plain strings are general replies).

    Raises:
        ValueError: not a list, or an entry without text.
    """
    if not isinstance(data, list):
        raise ValueError("canned replies must be a list")
    replies = []
    for item in data:
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, Mapping) or not str(item.get("text") or "").strip():
            raise ValueError("every canned reply needs a text")
        replies.append(
            CannedReply(
                text=str(item["text"]).strip(),
                intents=tuple(str(i) for i in item.get("intents") or []),
                topics=tuple(str(t) for t in item.get("topics") or []),
            )
        )
    return replies


def load_replies(path: Path = DEFAULT_PATH) -> list[CannedReply]:
    """The canned replies of the file (read when the console starts)."""
    return parse_replies(yaml.safe_load(path.read_text(encoding="utf-8")) or [])


def latest_reading(events: Sequence[Mapping[str, Any]]) -> tuple[str, dict[str, float]] | None:
    """The text and intent confidences of the user's latest typed message, from serialized events."""
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        text = str(event.get("text") or "")
        parse = event.get("parse_data") or {}
        if text.startswith("/") or not isinstance(parse, Mapping) or not text.strip():
            continue  # a button's payload or an image: the message before it says more
        ranking = parse.get("intent_ranking") or [parse.get("intent") or {}]
        scores = {
            str(r.get("name")): float(r.get("confidence") or 0)
            for r in ranking
            if isinstance(r, Mapping) and r.get("name")
        }
        return text, scores
    return None


def suggest(
    replies: Sequence[CannedReply], intents: Mapping[str, float], topic: str, limit: int = MAX_SUGGESTIONS
) -> list[dict[str, Any]]:
    """The best replies for a message read as ``intents`` in a conversation about ``topic``."""
    scored = []
    for order, reply in enumerate(replies):
        score = max((intents.get(i, 0.0) for i in reply.intents), default=0.0)
        if topic and topic in reply.topics:
            score += TOPIC_BONUS
        if score >= MIN_SCORE:
            scored.append((-score, order, reply))
    scored.sort(key=lambda s: (s[0], s[1]))
    return [
        {"text": r.text, "score": round(-s, 3), "intents": list(r.intents), "topics": list(r.topics)}
        for s, _, r in scored[:limit]
    ]
