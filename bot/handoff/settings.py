"""The handoff settings, read once from the environment and validated at start."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.handoff.models import CHINA_TZ

DEFAULT_DB_URL = "sqlite:///var/handoff.db"
DEFAULT_RETRY_DIR = "var/handoff_retry"
DEFAULT_ATTACHMENT_MAX_BYTES = 2 * 1024 * 1024
ASSIGNMENT_POLICIES = ("manual", "round_robin")
_HOURS = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class SettingsError(ValueError):
    """An environment variable has a bad value."""


@dataclass(frozen=True)
class LoginLimits:
    """How hard the console's login is throttled (answered 429 before any password work).

    Attributes:
        window_seconds: the window of the per-username and per-address counts.
        per_username: failed logins of one username (from anywhere) within the window.
        per_address: failed logins from one client address (any username) within the window.
        global_window_seconds: the window of the global count.
        global_failures: failed logins of everybody together within the global window.
        concurrent: logins checked at once by one server (more are refused at once), and
            the number of its password-hashing processes.
        refusal_delay_ms: how long a refused (429) login waits before it is answered, so that
            a client hammering the login gets few answers a second (the wait costs no work).
    """

    window_seconds: int = 900
    per_username: int = 5
    per_address: int = 20
    global_window_seconds: int = 60
    global_failures: int = 30
    concurrent: int = 2
    refusal_delay_ms: int = 1000

    @classmethod
    def from_env(cls, env: dict[str, str]) -> LoginLimits:
        """Read HANDOFF_LOGIN_* variables; raises SettingsError on a bad value."""
        return cls(
            window_seconds=env_integer(env, "HANDOFF_LOGIN_WINDOW_SECONDS", 900, 10, 86400),
            per_username=env_integer(env, "HANDOFF_LOGIN_MAX_PER_USERNAME", 5, 1, 1000),
            per_address=env_integer(env, "HANDOFF_LOGIN_MAX_PER_ADDRESS", 20, 1, 100000),
            global_window_seconds=env_integer(env, "HANDOFF_LOGIN_GLOBAL_WINDOW_SECONDS", 60, 1, 86400),
            global_failures=env_integer(env, "HANDOFF_LOGIN_MAX_GLOBAL", 30, 1, 1000000),
            concurrent=env_integer(env, "HANDOFF_LOGIN_MAX_CONCURRENT", 2, 1, 64),
            refusal_delay_ms=env_integer(env, "HANDOFF_LOGIN_REFUSAL_DELAY_MS", 1000, 0, 10000),
        )


@dataclass(frozen=True)
class HandoffSettings:
    """Everything the handoff parts of both servers are configured with.

    Attributes:
        db_url: the handoff store (``sqlite:///...`` or ``postgresql://...``).
        max_wait_seconds: a pending handoff older than this becomes a message.
        agent_hours: when agents work, China time, ``HH:MM-HH:MM`` (may cross midnight).
        session_ttl: seconds an agent's login lasts.
        expected_minutes_per_position: the wait announced to a user, per place in the queue.
        cookie_secure: the console's session cookie is ``Secure`` (off only for plain-http
            development on another host than localhost: ``HANDOFF_COOKIE_SECURE=false``).
        db_threads: threads of each of the Rasa server's two pools for handoff SQL
            (the console's, and the users' side: gate, expiry).
        db_timeout_seconds: how long the user's side waits for the store (and the PostgreSQL
            connect timeout) before it counts the store as unavailable.
        retry_dir: where the action server keeps requests made while the store was down.
        retry_seconds: how often those are retried.
        expiry_round_seconds: how often the leading Rasa server sweeps expired requests.
        attachment_max_bytes: the largest image a user may send during a handoff.
        login: the login throttle.
        message_sla_hours: how long a message left may wait for its answer (the 留言 queue's
            timer; the user is told this too).
        assignment: ``manual`` (agents take from the queue) or ``round_robin`` (new handoffs
            go to the online agent with room who was given one longest ago; taking by hand
            still works).
        agent_capacity: the conversations an agent serves at once before round robin skips them.
        unanswered_minutes: an assigned conversation whose agent has not replied within this
            goes back to the queue (to the next agent under round robin), with a notice.
        assignment_round_seconds: how often the leader assigns, requeues and tells the waiting
            users their new place.
    """

    db_url: str = DEFAULT_DB_URL
    max_wait_seconds: int = 600
    agent_hours: str = "09:00-21:00"
    session_ttl: int = 28800
    expected_minutes_per_position: int = 3
    cookie_secure: bool = True
    db_threads: int = 4
    db_timeout_seconds: int = 5
    retry_dir: str = DEFAULT_RETRY_DIR
    retry_seconds: int = 30
    expiry_round_seconds: float = 10.0
    attachment_max_bytes: int = DEFAULT_ATTACHMENT_MAX_BYTES
    login: LoginLimits = field(default_factory=LoginLimits)
    message_sla_hours: int = 24
    assignment: str = "manual"
    agent_capacity: int = 3
    unanswered_minutes: int = 5
    assignment_round_seconds: float = 5.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> HandoffSettings:
        """Read HANDOFF_* variables; raises SettingsError on a bad value.

        For an SQLite file the directory is created if needed. The retry directory defaults
        to ``handoff_retry`` beside an SQLite file (``var/handoff_retry`` for PostgreSQL) and
        is created when it is first used.
        """
        env = dict(os.environ if env is None else env)
        db_url = _db_url(env.get("HANDOFF_DB_URL", "").strip() or DEFAULT_DB_URL)
        settings = cls(
            db_url=db_url,
            max_wait_seconds=env_integer(env, "HANDOFF_MAX_WAIT_SECONDS", 600, 10, 86400),
            agent_hours=env.get("HANDOFF_AGENT_HOURS", "").strip() or "09:00-21:00",
            session_ttl=env_integer(env, "HANDOFF_SESSION_TTL", 28800, 300, 7 * 86400),
            expected_minutes_per_position=env_integer(
                env, "HANDOFF_EXPECTED_MINUTES_PER_POSITION", 3, 1, 120
            ),
            cookie_secure=_boolean(env, "HANDOFF_COOKIE_SECURE", True),
            db_threads=env_integer(env, "HANDOFF_DB_THREADS", 4, 1, 64),
            db_timeout_seconds=env_integer(env, "HANDOFF_DB_TIMEOUT_SECONDS", 5, 1, 300),
            retry_dir=_directory(env, "HANDOFF_RETRY_DIR", _retry_dir_beside(db_url)),
            retry_seconds=env_integer(env, "HANDOFF_RETRY_SECONDS", 30, 1, 3600),
            expiry_round_seconds=env_integer(env, "HANDOFF_EXPIRY_ROUND_SECONDS", 10, 1, 600),
            attachment_max_bytes=env_integer(
                env, "HANDOFF_ATTACHMENT_MAX_BYTES", DEFAULT_ATTACHMENT_MAX_BYTES, 1024, 20 * 1024 * 1024
            ),
            login=LoginLimits.from_env(env),
            message_sla_hours=env_integer(env, "HANDOFF_MESSAGE_SLA_HOURS", 24, 1, 720),
            assignment=_choice(env, "HANDOFF_ASSIGNMENT", ASSIGNMENT_POLICIES),
            agent_capacity=env_integer(env, "HANDOFF_AGENT_CAPACITY", 3, 1, 50),
            unanswered_minutes=env_integer(env, "HANDOFF_UNANSWERED_MINUTES", 5, 1, 240),
            assignment_round_seconds=env_integer(env, "HANDOFF_ASSIGNMENT_ROUND_SECONDS", 5, 1, 600),
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


def env_integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """A whole number from the environment (its default when unset); SettingsError otherwise."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", raw):
        raise SettingsError(f"{name} must be a whole number")
    value = int(raw)
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}")
    return value


def _retry_dir_beside(db_url: str) -> str:
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return str(Path(url.database).parent / "handoff_retry")
    return DEFAULT_RETRY_DIR


def _directory(env: dict[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip() or default
    if "\x00" in raw or (Path(raw).exists() and not Path(raw).is_dir()):
        raise SettingsError(f"{name} must name a directory")
    return raw


def _choice(env: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower() or choices[0]
    if raw not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}")
    return raw


def _boolean(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false")
