"""The handoff settings, read once from the environment and validated at start."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.handoff.models import CHINA_TZ

DEFAULT_DB_URL = "sqlite:///var/handoff.db"
_HOURS = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")


class SettingsError(ValueError):
    """An environment variable has a bad value."""


@dataclass(frozen=True)
class HandoffSettings:
    """Everything the handoff parts of both servers are configured with.

    Attributes:
        db_url: the handoff store (``sqlite:///...`` or ``postgresql://...``).
        max_wait_seconds: a pending handoff older than this becomes a message.
        agent_hours: when agents work, China time, ``HH:MM-HH:MM`` (may cross midnight).
        session_ttl: seconds an agent's login lasts.
        expected_minutes_per_position: the wait announced to a user, per place in the queue.
    """

    db_url: str = DEFAULT_DB_URL
    max_wait_seconds: int = 600
    agent_hours: str = "09:00-21:00"
    session_ttl: int = 28800
    expected_minutes_per_position: int = 3

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> HandoffSettings:
        """Read HANDOFF_* variables; raises SettingsError on a bad value.

        For an SQLite file the directory is created if needed.
        """
        env = dict(os.environ if env is None else env)
        settings = cls(
            db_url=_db_url(env.get("HANDOFF_DB_URL", "").strip() or DEFAULT_DB_URL),
            max_wait_seconds=_integer(env, "HANDOFF_MAX_WAIT_SECONDS", 600, 10, 86400),
            agent_hours=env.get("HANDOFF_AGENT_HOURS", "").strip() or "09:00-21:00",
            session_ttl=_integer(env, "HANDOFF_SESSION_TTL", 28800, 300, 7 * 86400),
            expected_minutes_per_position=_integer(env, "HANDOFF_EXPECTED_MINUTES_PER_POSITION", 3, 1, 120),
        )
        try:
            parse_hours(settings.agent_hours)
        except ValueError as error:
            raise SettingsError(f"HANDOFF_AGENT_HOURS: {error}") from error
        return settings


def parse_hours(hours: str) -> tuple[int, int]:
    """``"HH:MM-HH:MM"`` as minutes of the day (start, end); the end may be ``24:00``.

    Raises:
        ValueError: not that format, an impossible time, or start equal to end.
    """
    match = _HOURS.fullmatch(hours) if isinstance(hours, str) else None
    if match is None:
        raise ValueError("agent hours must look like 09:00-21:00")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if start_h > 23 or start_m > 59 or end_m > 59 or end > 24 * 60:
        raise ValueError("agent hours contain an impossible time")
    if start == end:
        raise ValueError("agent hours must not start and end at the same time (all day: 00:00-24:00)")
    return start, end


def within_hours(hours: str, now: datetime) -> bool:
    """Whether ``now`` (timezone-aware) falls within ``hours`` in China time; end excluded.

    A range whose end is before its start crosses midnight (``22:00-06:00``).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    start, end = parse_hours(hours)
    local = now.astimezone(CHINA_TZ)
    minute = local.hour * 60 + local.minute
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def _db_url(raw: str) -> str:
    try:
        url = make_url(raw)
    except ArgumentError as error:
        raise SettingsError("HANDOFF_DB_URL is not a database URL") from error
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise SettingsError("HANDOFF_DB_URL must be an sqlite:// or postgresql:// URL")
    if backend == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    return raw


def _integer(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", raw):
        raise SettingsError(f"{name} must be a whole number")
    value = int(raw)
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}")
    return value
