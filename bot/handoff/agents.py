"""Agents of the console, their login sessions and the failed-login counter, in SQL.

Only argon2 hashes of passwords and SHA-256 digests of session tokens are stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, exists, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.handoff.db import Database
from bot.handoff.errors import Conflict, InvalidInput, NotFound
from bot.handoff.models import ROLES, Agent
from bot.handoff.passwords import burn_time, hash_password, needs_rehash, verify_password
from bot.handoff.schema import agents, handoffs, login_failures, presence, sessions

USERNAME = re.compile(r"[a-z0-9_.-]{3,32}")
MIN_PASSWORD, MAX_PASSWORD = 8, 128
MAX_DISPLAY_NAME = 64
MAX_THROTTLE_KEY = 255
FAILURE_RETENTION = timedelta(days=1)
MAX_TOKEN = 128

_AGENT = select(
    agents.c.id,
    agents.c.username,
    agents.c.display_name,
    agents.c.role,
    agents.c.active,
    agents.c.last_seen,
)


@dataclass(frozen=True)
class Credentials:
    """What a login is checked against."""

    agent_id: int
    password_hash: str
    active: bool


def _agent(row: Any) -> Agent:
    return Agent(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        active=bool(row.active),
        last_seen=row.last_seen,
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_username(username: str) -> str:
    """The username if it is 3-32 characters of ``a-z 0-9 _ . -``; InvalidInput otherwise."""
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise InvalidInput("username must be 3-32 characters of a-z, 0-9, '_', '.', '-'")
    return username


def check_password(password: str) -> str:
    """The password if it has 8-128 characters; InvalidInput otherwise."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"password must have {MIN_PASSWORD}-{MAX_PASSWORD} characters")
    return password


def _check_display_name(name: str) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not 1 <= len(name) <= MAX_DISPLAY_NAME or any(unicodedata.category(c)[0] == "C" for c in name):
        raise InvalidInput(f"display name must have 1-{MAX_DISPLAY_NAME} printable characters")
    return name


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_THROTTLE_KEY:
        raise InvalidInput(f"throttle key must have 1-{MAX_THROTTLE_KEY} characters")
    return key


def _check_seconds(seconds: float) -> timedelta:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds > 0:
        raise InvalidInput("a duration must be a positive number of seconds")
    return timedelta(seconds=seconds)


class AgentStore(Database):
    """Agents, sessions and login throttling (the console's side of the store)."""

    # --- agents -------------------------------------------------------------
    def add_agent(self, username: str, display_name: str, password: str, role: str = "agent") -> Agent:
        """Create an active agent.

        Raises:
            InvalidInput: bad username, display name, password (8-128 characters) or role.
            Conflict: the username is taken.
        """
        check_username(username)
        display_name = _check_display_name(display_name)
        check_password(password)
        if role not in ROLES:
            raise InvalidInput("role must be 'agent' or 'supervisor'")
        hashed = hash_password(password)  # slow on purpose: outside the transaction
        try:
            with self._tx() as conn:
                if conn.execute(select(agents.c.id).where(agents.c.username == username)).first():
                    raise Conflict("that username is taken")
                result = conn.execute(
                    insert(agents).values(
                        username=username,
                        display_name=display_name,
                        password_hash=hashed,
                        role=role,
                        active=True,
                        created_at=self._now(),
                    )
                )
                agent_id = int(result.inserted_primary_key[0])
                self._audit(conn, None, "agent_added", None, username)
        except IntegrityError as error:  # the same username added by another process just now
            raise Conflict("that username is taken") from error
        return self.get_agent(agent_id)

    def set_agent_active(self, username: str, active: bool) -> Agent:
        """Enable or disable an agent; disabling ends their sessions. NotFound if unknown."""
        with self._tx() as conn:
            agent = self._agent_by_username(conn, username)
            conn.execute(update(agents).where(agents.c.id == agent.id).values(active=bool(active)))
            if not active:
                conn.execute(delete(sessions).where(sessions.c.agent_id == agent.id))
            self._audit(conn, None, "agent_enabled" if active else "agent_disabled", None, username)
        return replace(agent, active=bool(active))

    def set_password(self, username: str, password: str) -> None:
        """Replace an agent's password and end their sessions (InvalidInput, NotFound)."""
        check_password(password)
        hashed = hash_password(password)
        with self._tx() as conn:
            agent = self._agent_by_username(conn, username)
            conn.execute(update(agents).where(agents.c.id == agent.id).values(password_hash=hashed))
            conn.execute(delete(sessions).where(sessions.c.agent_id == agent.id))
            self._audit(conn, None, "password_set", None, username)

    def get_agent(self, agent_id: int) -> Agent:
        """The agent with that id; NotFound if there is none."""
        with self._read() as conn:
            return self._agent_by_id(conn, agent_id)

    def list_agents(self) -> list[Agent]:
        """Every agent, enabled or not, in the order they were added."""
        with self._read() as conn:
            return [_agent(row) for row in conn.execute(_AGENT.order_by(agents.c.id))]

    def authenticate(self, username: str, password: str) -> Agent | None:
        """The agent if the username and password match and the agent is enabled, else None.

        An unknown username costs the same hash work as a known one. Blocking (argon2): the
        console does the same in steps, hashing outside the Rasa server's process.
        """
        if not isinstance(password, str) or len(password) > MAX_PASSWORD:
            password = ""
        found = self.credentials(username)
        if found is None:
            burn_time(password)
            return None
        if not password or not verify_password(found.password_hash, password) or not found.active:
            return None
        if needs_rehash(found.password_hash):
            self.replace_hash(found.agent_id, hash_password(password))
        return self.get_agent(found.agent_id)

    def credentials(self, username: str) -> Credentials | None:
        """The stored hash and state of a well-formed, known username; None otherwise."""
        if not isinstance(username, str) or not USERNAME.fullmatch(username):
            return None
        query = select(agents.c.id, agents.c.password_hash, agents.c.active).where(
            agents.c.username == username
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else Credentials(int(row.id), str(row.password_hash), bool(row.active))

    def replace_hash(self, agent_id: int, hashed: str) -> None:
        """Store a new hash of the same password (made with today's parameters)."""
        with self._tx() as conn:
            conn.execute(update(agents).where(agents.c.id == agent_id).values(password_hash=hashed))

    def touch_agent(self, agent_id: int) -> None:
        """Record that the agent is online now (``last_seen``); NotFound if unknown."""
        with self._tx() as conn:
            result = conn.execute(update(agents).where(agents.c.id == agent_id).values(last_seen=self._now()))
            if result.rowcount != 1:
                raise NotFound("no such agent")

    def agents_on_duty(self, within_seconds: float = 120) -> list[Agent]:
        """Enabled agents with a live (unexpired) session, seen within the last ``within_seconds``.

        An agent whose sessions all expired or were ended (logout, disabled, new password) is
        not on duty, however recently they were seen; nor is one who set themselves 离开.
        """
        now = self._now()
        since = now - _check_seconds(within_seconds)
        live = exists().where(sessions.c.agent_id == agents.c.id, sessions.c.expires_at > now)
        away = exists().where(presence.c.agent_id == agents.c.id, presence.c.status == "away")
        query = _AGENT.where(agents.c.active.is_(True), agents.c.last_seen >= since, live, ~away).order_by(
            agents.c.id
        )
        with self._read() as conn:
            return [_agent(row) for row in conn.execute(query)]

    def agent_load(self) -> dict[int, int]:
        """How many conversations each agent has assigned now (every agent, zero included)."""
        assigned = (handoffs.c.assigned_agent_id == agents.c.id) & (handoffs.c.status == "assigned")
        query = (
            select(agents.c.id, func.count(handoffs.c.id))
            .select_from(agents.outerjoin(handoffs, assigned))
            .group_by(agents.c.id)
        )
        with self._read() as conn:
            return {int(agent_id): int(count) for agent_id, count in conn.execute(query)}

    # --- sessions -----------------------------------------------------------
    def create_session(self, agent_id: int, ttl_seconds: int = 8 * 3600) -> str:
        """A new session token for an enabled agent; only its SHA-256 is stored.

        Raises:
            InvalidInput: ``ttl_seconds`` is not positive.
            NotFound: no such agent.
            Conflict: the agent is disabled.
        """
        ttl = _check_seconds(ttl_seconds)
        token = secrets.token_urlsafe(32)
        now = self._now()
        with self._tx() as conn:
            self._enabled_agent(conn, agent_id)
            conn.execute(
                insert(sessions).values(
                    token_hash=_token_hash(token), agent_id=agent_id, created_at=now, expires_at=now + ttl
                )
            )
            conn.execute(update(agents).where(agents.c.id == agent_id).values(last_seen=now))
        return token

    def session_agent(self, token: str) -> Agent | None:
        """The enabled agent of an unexpired session (and marks them seen now), else None."""
        if not isinstance(token, str) or not 1 <= len(token) <= MAX_TOKEN:
            return None
        now = self._now()
        query = (
            _AGENT.select_from(sessions.join(agents, sessions.c.agent_id == agents.c.id))
            .where(sessions.c.token_hash == _token_hash(token))
            .where(sessions.c.expires_at > now, agents.c.active.is_(True))
        )
        with self._tx() as conn:
            row = conn.execute(query).first()
            if row is None:
                return None
            conn.execute(update(agents).where(agents.c.id == row.id).values(last_seen=now))
        return replace(_agent(row), last_seen=now)

    def end_session(self, token: str) -> None:
        """Forget a session (logout); unknown tokens are ignored."""
        if isinstance(token, str) and 1 <= len(token) <= MAX_TOKEN:
            with self._tx() as conn:
                conn.execute(delete(sessions).where(sessions.c.token_hash == _token_hash(token)))

    def purge_sessions(self) -> int:
        """Delete expired sessions; returns how many."""
        with self._tx() as conn:
            return int(conn.execute(delete(sessions).where(sessions.c.expires_at <= self._now())).rowcount)

    # --- login throttling ---------------------------------------------------
    def record_failed_login(self, key: str) -> None:
        """Count one failed login for ``key`` (e.g. ``"username|ip"``); day-old ones are dropped."""
        self.record_failed_logins([key])

    def record_failed_logins(self, keys: Sequence[str]) -> None:
        """Count one failed login for each key, in one transaction; day-old ones are dropped."""
        checked = [_check_key(key) for key in keys]
        if not checked:
            return
        now = self._now()
        with self._tx() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.at < now - FAILURE_RETENTION))
            conn.execute(insert(login_failures), [{"key": key, "at": now} for key in checked])

    def failure_counts(self, windows: Mapping[str, float]) -> dict[str, int]:
        """How many failed logins each key had within its own window, in one query.

        ``windows`` maps keys to seconds; every key is in the answer (zero included).
        """
        if not windows:
            return {}
        now = self._now()
        within = [
            (login_failures.c.key == _check_key(key)) & (login_failures.c.at > now - _check_seconds(seconds))
            for key, seconds in windows.items()
        ]
        query = select(login_failures.c.key, func.count()).where(or_(*within)).group_by(login_failures.c.key)
        with self._read() as conn:
            found = {str(key): int(count) for key, count in conn.execute(query)}
        return {key: found.get(key, 0) for key in windows}

    def failed_logins(self, key: str, within_seconds: float = 900) -> int:
        """How many failed logins ``key`` had in the last ``within_seconds``."""
        _check_key(key)
        since = self._now() - _check_seconds(within_seconds)
        query = select(func.count()).where(login_failures.c.key == key, login_failures.c.at > since)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def clear_failed_logins(self, key: str) -> None:
        """Forget the failed logins of ``key`` (after a successful login)."""
        _check_key(key)
        with self._tx() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.key == key))

    # --- helpers ------------------------------------------------------------
    def _agent_by_id(self, conn: Connection, agent_id: int) -> Agent:
        row = conn.execute(_AGENT.where(agents.c.id == agent_id)).first()
        if row is None:
            raise NotFound("no such agent")
        return _agent(row)

    def _agent_by_username(self, conn: Connection, username: str) -> Agent:
        row = conn.execute(_AGENT.where(agents.c.username == check_username(username))).first()
        if row is None:
            raise NotFound("no such agent")
        return _agent(row)

    def _enabled_agent(self, conn: Connection, agent_id: int) -> Agent:
        agent = self._agent_by_id(conn, agent_id)
        if not agent.active:
            raise Conflict("that agent is disabled")
        return agent
