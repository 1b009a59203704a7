"""The supervisors' report of a period: per day and channel, and for the whole period.

Definitions (docs/insights.md):
- a conversation is a Rasa session with a user message, counted on the China day it started;
- contained: no request for a person (``action_handoff`` never ran); truly contained: contained,
  and the same user (same sender, or same verified account on any channel) started no new
  conversation within ``recontact_hours`` after it ended;
- handoff rate: conversations with a request for a person / conversations;
- wait: request → an agent took it; first response: request → the agent's first message;
  resolution: request → resolved (each p50 and p90, nearest rank, seconds);
- CSAT: ratings stored after a resolved handoff (1–5), overall and per the agent who resolved;
- messages left: requests that became a message (no agent on duty, or waited too long); one is
  answered at the first agent message written to that user afterwards, within the SLA or late;
  an unanswered one is open while younger than the SLA, overdue after.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.insights.conversations import Conversation, conversations, returned_within
from bot.insights.events import Events, stamp
from bot.insights.figures import average, distribution, rate, spread
from bot.insights.funnel import funnels, runs
from bot.insights.handoffs import REASONS, Episode, episodes
from bot.insights.notices import is_agent_message
from bot.insights.period import Period, china_day
from bot.insights.settings import InsightsSettings

LEFT_OUTCOMES = ("message_left", "expired")


@dataclass(frozen=True)
class Seen:
    """One conversation of the period with what the report needs of it."""

    conversation: Conversation
    episodes: tuple[Episode, ...]
    truly_contained: bool

    @property
    def contained(self) -> bool:
        """No request for a person."""
        return not self.episodes


def read_period(
    events: Events, period: Period, settings: InsightsSettings, channel: str | None = None
) -> list[Seen]:
    """The conversations that started in the period (on ``channel`` if given), with their
    requests for a person (a message left answered later in the sender's transcript counts)."""
    every = conversations(events)
    window = settings.recontact_hours * 3600
    seen = []
    for conversation in every:
        if not period.start <= conversation.started_at < period.end:
            continue
        if channel is not None and conversation.channel != channel:
            continue
        found = tuple(
            _answered(e, events.get(conversation.sender_id, ())) for e in episodes(conversation.events)
        )
        truly = not found and not returned_within(conversation, every, window)
        seen.append(Seen(conversation, found, truly))
    return seen


def _answered(episode: Episode, sender_events: Sequence[dict[str, Any]]) -> Episode:
    if episode.outcome not in LEFT_OUTCOMES or episode.message_left_at is None or episode.answered_at:
        return episode
    left_at = episode.message_left_at
    reply = next((e for e in sender_events if is_agent_message(e) and stamp(e) > left_at), None)
    if reply is None:
        return episode
    return replace(episode, answered_at=stamp(reply))


def _row(seen: Sequence[Seen]) -> dict[str, Any]:
    total, contained = len(seen), sum(s.contained for s in seen)
    truly = sum(s.truly_contained for s in seen)
    all_episodes = [e for s in seen for e in s.episodes]
    ratings = [e.rating for e in all_episodes if e.rating is not None]
    return {
        "conversations": total,
        "contained": contained,
        "containment_rate": rate(contained, total),
        "true_contained": truly,
        "true_containment_rate": rate(truly, total),
        "handoffs": total - contained,
        "handoff_rate": rate(total - contained, total),
        "handoff_requests": len(all_episodes),
        "messages_left": sum(e.outcome in LEFT_OUTCOMES for e in all_episodes),
        "wait": spread(e.wait for e in all_episodes),
        "first_response": spread(e.first_response for e in all_episodes),
        "resolution": spread(e.resolution for e in all_episodes),
        "csat_count": len(ratings),
        "csat_average": average(ratings),
    }


def _messages_left(all_episodes: Sequence[Episode], sla_hours: int, now: float) -> dict[str, Any]:
    sla = sla_hours * 3600
    left = [e for e in all_episodes if e.outcome in LEFT_OUTCOMES and e.message_left_at is not None]
    counts = Counter[str]()
    answer_times = []
    for episode in left:
        assert episode.message_left_at is not None
        if episode.answered_at is not None:
            took = episode.answered_at - episode.message_left_at
            answer_times.append(took)
            counts["answered_within_sla" if took <= sla else "answered_late"] += 1
        else:
            counts["open_within_sla" if now - episode.message_left_at <= sla else "overdue"] += 1
    keys = ("answered_within_sla", "answered_late", "open_within_sla", "overdue")
    return {
        "count": len(left),
        "sla_hours": sla_hours,
        **{k: counts[k] for k in keys},
        "sla_met_rate": rate(counts["answered_within_sla"], len(left)),
        "answer_time": spread(answer_times),
    }


def _csat(all_episodes: Sequence[Episode]) -> dict[str, Any]:
    rated = [e for e in all_episodes if e.rating is not None]
    by_agent: dict[str, list[int]] = {}
    for episode in rated:
        assert episode.rating is not None
        by_agent.setdefault(episode.agent or "?", []).append(episode.rating)
    scores = [e.rating for e in rated if e.rating is not None]
    return {
        "count": len(scores),
        "average": average(scores),
        "distribution": distribution(scores),
        "agents": [
            {"agent": name, "count": len(s), "average": average(s), "distribution": distribution(s)}
            for name, s in sorted(by_agent.items())
        ],
    }


def build_report(
    seen: Sequence[Seen],
    period: Period,
    flows: Mapping[str, Sequence[str]],
    settings: InsightsSettings,
    now: float,
    channel: str | None = None,
) -> dict[str, Any]:
    """The report's figures (JSON-ready): totals, daily rows per channel, reasons, outcomes,
    waits, CSAT, funnels and messages left."""
    groups: dict[tuple[str, str], list[Seen]] = {}
    for item in seen:
        key = (china_day(item.conversation.started_at).isoformat(), item.conversation.channel)
        groups.setdefault(key, []).append(item)
    all_episodes = [e for s in seen for e in s.episodes]
    reasons = Counter(e.reason for e in all_episodes)
    return {
        "period": {"from": period.first.isoformat(), "to": period.last.isoformat()},
        "channel": channel,
        "totals": _row(seen),
        "daily": [{"day": day, "channel": ch, **_row(items)} for (day, ch), items in sorted(groups.items())],
        "reasons": {reason: reasons.get(reason, 0) for reason in REASONS},
        "topics": dict(sorted(Counter(e.topic for e in all_episodes).items())),
        "outcomes": dict(sorted(Counter(e.outcome for e in all_episodes).items())),
        "csat": _csat(all_episodes),
        "funnels": [
            f.as_json() for f in funnels((r for s in seen for r in runs(s.conversation.events, flows)), flows)
        ],
        "messages_left": _messages_left(all_episodes, settings.message_sla_hours, now),
        "recontact_hours": settings.recontact_hours,
    }
