"""access_tokens as WeChat issues and checks them.

``cgi-bin/token`` issues a new token at every call; the previous one stays valid for a grace
period (WeChat: five minutes) and is then refused with 40001. ``cgi-bin/stable_token`` is kept
apart: in normal mode it returns the current stable token while that has more than five
minutes left (then a new one, the old one living out its time); ``force_refresh`` makes a new
one and ends the old one at once, but not twice within 30 s. Faults: ``expire_all`` (next use
42001), ``invalidate_all`` (next use 40001).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.channels.wechat_sim import errcodes

BASIC, STABLE = "token", "stable_token"
_SHAPE = re.compile(r"^[A-Za-z0-9_\-]{16,512}$")
RENEW_BEFORE = 300.0
FORCE_INTERVAL = 30.0


@dataclass
class Token:
    """One issued token; ``ends_at``: refused with 40001 from then on."""

    value: str
    kind: str
    issued_at: float
    expires_at: float
    ends_at: float | None = None


@dataclass(frozen=True)
class Fetch:
    """One successful token request (what a test counts)."""

    kind: str
    at: float
    forced: bool = False


@dataclass
class TokenBook:
    """Every token issued, the current one of each kind, and the fetches."""

    clock: Callable[[], float]
    ttl: float = 7200.0
    grace: float = 300.0
    tokens: dict[str, Token] = field(default_factory=dict)
    current: dict[str, Token] = field(default_factory=dict)
    fetches: list[Fetch] = field(default_factory=list)
    _last_forced: float | None = None

    def _issue(self, kind: str) -> Token:
        now = self.clock()
        token = Token(secrets.token_urlsafe(120), kind, now, now + self.ttl)
        self.tokens[token.value] = token
        self.current[kind] = token
        return token

    def _alive(self, token: Token | None) -> bool:
        now = self.clock()
        return token is not None and token.expires_at > now and (token.ends_at is None or token.ends_at > now)

    def issue_basic(self) -> Token:
        """``cgi-bin/token``: a new token; the previous one ends after the grace period."""
        previous = self.current.get(BASIC)
        if self._alive(previous):
            assert previous is not None
            previous.ends_at = min(previous.expires_at, self.clock() + self.grace)
        self.fetches.append(Fetch(BASIC, self.clock()))
        return self._issue(BASIC)

    def stable(self, force: bool) -> Token:
        """``cgi-bin/stable_token``: the current stable token, or a new one."""
        now, current = self.clock(), self.current.get(STABLE)
        self.fetches.append(Fetch(STABLE, now, force))
        if force:
            recently = self._last_forced is not None and now - self._last_forced < FORCE_INTERVAL
            if recently and self._alive(current):
                assert current is not None
                return current
            self._last_forced = now
            if current is not None and self._alive(current):
                current.ends_at = now
            return self._issue(STABLE)
        if current is not None and self._alive(current) and current.expires_at - now > RENEW_BEFORE:
            return current
        return self._issue(STABLE)

    def expires_in(self, token: Token) -> int:
        """Seconds left, as the answer's ``expires_in``."""
        return max(0, int(token.expires_at - self.clock()))

    def check(self, value: str | None) -> int:
        """0 when ``value`` may call the API, else WeChat's errcode."""
        if not value:
            return errcodes.ACCESS_TOKEN_MISSING
        if not _SHAPE.match(value):
            return errcodes.INVALID_ACCESS_TOKEN
        token = self.tokens.get(value)
        now = self.clock()
        if token is None or (token.ends_at is not None and token.ends_at <= now):
            return errcodes.INVALID_CREDENTIAL
        if token.expires_at <= now:
            return errcodes.ACCESS_TOKEN_EXPIRED
        return errcodes.OK

    def expire_all(self) -> None:
        """Every live token expires now (next use: 42001); the next fetch gets a new one."""
        now = self.clock()
        for token in self.tokens.values():
            if self._alive(token):
                token.expires_at = now
        self.current.clear()

    def invalidate_all(self) -> None:
        """Every live token is invalid now (next use: 40001), as after a refresh elsewhere."""
        now = self.clock()
        for token in self.tokens.values():
            if self._alive(token):
                token.ends_at = now
        self.current.clear()

    def fetch_count(self, since: float = 0.0) -> int:
        """Token requests (both kinds) answered since ``since``."""
        return sum(1 for fetch in self.fetches if fetch.at >= since)
