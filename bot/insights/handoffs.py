"""Each request for a person in a conversation, read from its events: why it was made, whether
it was queued or became a message left, when an agent took it and first wrote, how it ended,
and the user's rating afterwards.

What the transcript holds (``bot.handoff.transcript``, ``actions/flows/handoff.py``):
``action_handoff`` runs, the bot says ``utter_handoff_queued`` (then the bot is paused),
``utter_handoff_message_left`` or ``utter_handoff_unavailable``; while paused, the handoff's
system notices (taken, transferred, resolved, handed back, cancelled, expired) and the agents'
messages (``role: agent``, ``agent_name``) are appended; after ``resolved`` the user rates
(intent ``rate_service``, entity ``satisfaction``), and ``action_record_satisfaction`` thanks
them with ``utter_rating_thanks`` once the rating is stored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.insights.events import stamp
from bot.insights.notices import is_agent_message, recognize

HANDOFF_ACTION = "action_handoff"
RATING_INTENT = "rate_service"
RATING_THANKS = "utter_rating_thanks"
OUTCOME_UTTERANCES = {
    "utter_handoff_queued": "queued",
    "utter_handoff_message_left": "message_left",
    "utter_handoff_unavailable": "unavailable",
}
CLOSING_NOTICES = {
    "resolved": "resolved",
    "handed_back": "handed_back",
    "cancelled": "cancelled",
    "expired": "expired",
}
CLOSED = frozenset({*CLOSING_NOTICES.values(), "message_left", "unavailable"})
FALLBACKS = frozenset({"action_wallet_fallback", "action_default_fallback"})
TOPICS = {
    "forgot_password": "forgot_password",
    "transaction_failed": "transaction_failed",
    "update_account_info": "update_account_info",
    "contact_support": "contact_support",
    "account_security": "account_security",
    "complaint": "complaint",
}
REASONS = ("user_request", "not_understood", "flow_unresolved", "security_urgent")
_REFERENCE = re.compile(r"H\d{8}-\d{4,}")
_SCORE = re.compile(r"[1-5]")
_PLUMBING = frozenset(
    {"action_listen", "action_extract_slots", "action_session_start", "action_check_identity"}
)


@dataclass(frozen=True)
class Episode:
    """One request for a person. Times are unix seconds; ``outcome`` is ``resolved``,
    ``handed_back``, ``cancelled``, ``expired`` (became a message while waiting), ``open``
    (still pending or assigned), ``message_left`` (no agent on duty), or ``unavailable``."""

    requested_at: float
    reason: str
    topic: str
    outcome: str = "open"
    taken_at: float | None = None
    first_response_at: float | None = None
    closed_at: float | None = None
    agent: str | None = None
    rating: int | None = None
    message_left_at: float | None = None
    reference: str | None = None
    answered_at: float | None = None  # a message left: the first agent message after it
    first_user_text: str | None = None

    @property
    def wait(self) -> float | None:
        """From the request to an agent taking it."""
        return None if self.taken_at is None else self.taken_at - self.requested_at

    @property
    def first_response(self) -> float | None:
        """From the request to the agent's first message."""
        return None if self.first_response_at is None else self.first_response_at - self.requested_at

    @property
    def resolution(self) -> float | None:
        """From the request to its resolution (resolved ones only)."""
        return (
            None
            if self.outcome != "resolved" or self.closed_at is None
            else self.closed_at - self.requested_at
        )


def _intent(event: dict[str, Any]) -> str | None:
    name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
    return str(name) if name else None


def _utterance(event: dict[str, Any]) -> str | None:
    meta = event.get("metadata")
    return str(meta.get("utter_action")) if isinstance(meta, dict) and meta.get("utter_action") else None


def _reason(events: Sequence[dict[str, Any]], at: int) -> str:
    """Why the request at index ``at`` was made: the user asked, the bot did not understand,
    or a flow ended without a solution (urgent for a security incident)."""
    users = [i for i in range(at) if events[i].get("event") == "user"]
    if not users:
        return "flow_unresolved"
    last_user = users[-1]
    urgent = any(
        e.get("event") == "slot" and e.get("name") == "handoff_priority" and e.get("value") == "urgent"
        for e in events[: at + 1]
    )
    if _intent(events[last_user]) == "request_human":
        return "security_urgent" if urgent else "user_request"
    earlier = users[-2] if len(users) > 1 else -1
    asked = [
        str(e.get("name"))
        for e in events[earlier + 1 : last_user]
        if e.get("event") == "action" and e.get("name") not in _PLUMBING
    ]
    if urgent:
        return "security_urgent"
    if any(name in FALLBACKS for name in asked) or _intent(events[last_user]) == "nlu_fallback":
        return "not_understood"
    if "utter_contact_support" in asked:
        return "user_request"
    return "flow_unresolved"


def _topic(events: Sequence[dict[str, Any]], at: int) -> str:
    for event in reversed(events[:at]):
        if event.get("event") == "user" and _intent(event) in TOPICS:
            return TOPICS[str(_intent(event))]
    return "other"


def _score(event: dict[str, Any]) -> int | None:
    for entity in (event.get("parse_data") or {}).get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity") == "satisfaction":
            found = _SCORE.search(str(entity.get("value")))
            if found:
                return int(found[0])
    found = _SCORE.search(str(event.get("text") or ""))
    return int(found[0]) if found else None


def _user_text(event: dict[str, Any]) -> str | None:
    text = str(event.get("text") or "").strip()
    return text if text and not text.startswith("/") else None


def episodes(events: Sequence[dict[str, Any]]) -> list[Episode]:
    """Every request for a person in one conversation's events, in order."""
    found: list[Episode] = []
    current: Episode | None = None
    rated_at: int | None = None  # the index in ``found`` of a resolved episode awaiting its rating
    for index, event in enumerate(events):
        kind, at = event.get("event"), stamp(event)
        if kind == "action" and event.get("name") == HANDOFF_ACTION:
            if current is not None:
                found.append(current)
            current, rated_at = Episode(at, _reason(events, index), _topic(events, index)), None
            continue
        if rated_at is not None and kind == "user" and _intent(event) == RATING_INTENT:
            score = _score(event)
            thanked = next((e for e in events[index + 1 :] if e.get("event") in ("bot", "user")), None)
            if score is not None and thanked is not None and _utterance(thanked) == RATING_THANKS:
                found[rated_at] = replace(found[rated_at], rating=score)
                rated_at = None
            continue
        if current is None:
            continue
        current = _step(current, event, at)
        if current.outcome in CLOSED:
            found.append(current)
            rated_at = len(found) - 1 if current.outcome == "resolved" else None
            current = None
    if current is not None:
        found.append(current)
    return found


def _step(episode: Episode, event: dict[str, Any], at: float) -> Episode:
    kind = event.get("event")
    if kind == "bot" and episode.outcome == "open" and _utterance(event) in OUTCOME_UTTERANCES:
        outcome = OUTCOME_UTTERANCES[str(_utterance(event))]
        if outcome == "queued":
            return episode
        reference = _REFERENCE.search(str(event.get("text") or ""))
        return replace(
            episode,
            outcome=outcome,
            closed_at=at,
            message_left_at=at if outcome == "message_left" else None,
            reference=reference[0] if reference else None,
        )
    if kind == "user" and episode.first_user_text is None:
        return replace(episode, first_user_text=_user_text(event))
    if is_agent_message(event):
        name = str(event["metadata"].get("agent_name") or "") or episode.agent
        return replace(
            episode,
            first_response_at=episode.first_response_at if episode.first_response_at is not None else at,
            agent=name,
        )
    notice = recognize(event)
    if notice is None:
        return episode
    if notice.name in ("taken", "transferred"):
        name = notice.values.get("agent") or episode.agent
        taken = episode.taken_at if episode.taken_at is not None else at
        return replace(episode, taken_at=taken, agent=name)
    if notice.name in CLOSING_NOTICES:
        outcome = CLOSING_NOTICES[notice.name]
        return replace(
            episode,
            outcome=outcome,
            closed_at=at,
            message_left_at=at if outcome == "expired" else None,
            reference=notice.values.get("reference"),
        )
    return episode
