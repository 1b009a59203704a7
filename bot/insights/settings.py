"""The insights' settings, read once from the environment (INSIGHTS_*) and validated at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from bot.handoff.settings import SettingsError, env_integer


@dataclass(frozen=True)
class InsightsSettings:
    """How the reports and the review queue are computed.

    Attributes:
        max_range_days: the longest date range a report may cover.
        recontact_hours: a contained conversation is truly contained when the same user starts
            no new conversation (any channel) within this many hours after it ended.
        message_sla_hours: a message left must be answered within this many hours.
        low_confidence: a message whose intent confidence is below this goes to review.
        review_backfill_days: how far back the first scan of the review queue reads.
        review_overlap_seconds: how far each scan re-reads before the previous one (events
            written late; duplicates are recognized by their key).
    """

    max_range_days: int = 92
    recontact_hours: int = 24
    message_sla_hours: int = 24
    low_confidence: float = 0.7
    review_backfill_days: int = 30
    review_overlap_seconds: int = 3600

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> InsightsSettings:
        """The settings from INSIGHTS_* variables; SettingsError on a bad value."""
        env = os.environ if env is None else env
        return cls(
            max_range_days=env_integer(env, "INSIGHTS_MAX_RANGE_DAYS", 92, 1, 366),
            recontact_hours=env_integer(env, "INSIGHTS_RECONTACT_HOURS", 24, 1, 24 * 14),
            # the same setting the 留言 queue's timers use (bot/handoff/settings.py)
            message_sla_hours=env_integer(env, "HANDOFF_MESSAGE_SLA_HOURS", 24, 1, 720),
            low_confidence=_fraction(env, "INSIGHTS_LOW_CONFIDENCE", 0.7),
            review_backfill_days=env_integer(env, "INSIGHTS_REVIEW_BACKFILL_DAYS", 30, 1, 366),
            review_overlap_seconds=env_integer(env, "INSIGHTS_REVIEW_OVERLAP_SECONDS", 3600, 0, 86400),
        )


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be a number") from error
    if not 0.0 < value <= 1.0:
        raise SettingsError(f"{name} must be above 0 and at most 1")
    return value
