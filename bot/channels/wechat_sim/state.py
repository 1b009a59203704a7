"""What the fake WeChat knows: tokens, users and their sending windows, every 客服消息
delivery, media, the menu, the faults a test injects, and each user's chat as WeChat shows it.

Sending windows (``enforce_windows``, on by default): a user's message opens 5 messages within
48 h; a subscribe or a menu click, when no message window is open, 3 within a minute; an
unsubscribe closes everything. Outside a window: 45015; past the count: 45047. Injected faults
(``close_window``, ``exhaust_quota``) hold until the user writes again, as a new message opens
a new window in WeChat too. Thread-safe: the API runs in its own thread, tests read from theirs.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.channels.wechat_sim import errcodes
from bot.channels.wechat_sim.account import Account
from bot.channels.wechat_sim.messages import Inbound
from bot.channels.wechat_sim.tokens import TokenBook

MESSAGE_WINDOW = (48 * 3600.0, 5)
EVENT_WINDOW = (60.0, 3)
OPENING_EVENTS = frozenset({"subscribe", "CLICK", "SCAN"})


@dataclass(frozen=True)
class Entry:
    """A line of one user's chat: ``side`` user, bot (the user sees it) or notice (only the
    simulator's operator does); ``via`` message, passive, custom or system."""

    seq: int
    at: float
    openid: str
    side: str
    via: str
    text: str
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        """For the simulator page."""
        return {
            "seq": self.seq,
            "at": self.at,
            "openid": self.openid,
            "side": self.side,
            "via": self.via,
            "text": self.text,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Delivery:
    """One ``message/custom/send`` call, accepted (``errcode`` 0) or not."""

    seq: int
    at: float
    openid: str
    msgtype: str
    text: str
    body: dict[str, Any]
    errcode: int
    ascii_escaped: bool = False

    @property
    def delivered(self) -> bool:
        """WeChat accepted it."""
        return self.errcode == errcodes.OK


@dataclass
class Window:
    """Messages the account may still send to a user."""

    kind: str
    opened_at: float
    ttl: float
    limit: int
    used: int = 0


@dataclass
class User:
    """A follower of the account."""

    openid: str
    subscribed: bool = True
    window: Window | None = None
    forced: int | None = None


@dataclass(frozen=True)
class Media:
    """A file served by media/get."""

    media_id: str
    data: bytes
    content_type: str
    filename: str


@dataclass(frozen=True)
class Call:
    """One API call and WeChat's errcode for it."""

    path: str
    errcode: int
    at: float


@dataclass
class WeChatState:
    """The fake WeChat's records for one Official Account."""

    account: Account
    clock: Callable[[], float] = time.time
    enforce_windows: bool = True
    token_ttl: float = 7200.0
    token_grace: float = 300.0
    users: dict[str, User] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    timeline: list[Entry] = field(default_factory=list)
    media: dict[str, Media] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    menu: dict[str, Any] | None = None
    delays: dict[str, float] = field(default_factory=dict)
    failures: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tokens = TokenBook(self.clock, self.token_ttl, self.token_grace)
        self.changed = threading.Condition()
        self._seq = 0

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _entry(self, openid: str, side: str, via: str, text: str, detail: str = "") -> Entry:
        entry = Entry(self._next(), self.clock(), openid, side, via, text, detail)
        self.timeline.append(entry)
        self.changed.notify_all()
        return entry

    # --- the WeChat server's side: what users do and what they are shown ---------------
    def user_wrote(self, message: Inbound) -> None:
        """A user sent ``message``: it opens (or closes) the user's sending window."""
        with self.changed:
            user = self.users.setdefault(message.openid, User(message.openid))
            now = self.clock()
            if message.kind != "event":
                user.subscribed, user.forced = True, None
                user.window = Window("message", now, *MESSAGE_WINDOW)
            elif message.event == "unsubscribe":
                user.subscribed, user.window = False, None
            elif message.event in OPENING_EVENTS:
                user.subscribed = True
                if message.event == "subscribe":
                    user.forced = None
                if not self._open(user):
                    user.window = Window("event", now, *EVENT_WINDOW)
            self._entry(message.openid, "user", "message", message.summary)

    def shown(self, openid: str, text: str, via: str = "passive", detail: str = "") -> None:
        """WeChat showed the user ``text`` (a passive reply, or its service error)."""
        with self.changed:
            self._entry(openid, "bot", via, text, detail)

    def note(self, openid: str, text: str, detail: str = "") -> None:
        """A line for the simulator's operator (a retry, a refused delivery)."""
        with self.changed:
            self._entry(openid, "notice", "system", text, detail)

    def _open(self, user: User) -> bool:
        window = user.window
        return window is not None and self.clock() < window.opened_at + window.ttl

    # --- faults ----------------------------------------------------------------------
    def expire_tokens(self) -> None:
        """Every access_token expires now: the next call with one gets 42001."""
        with self.changed:
            self.tokens.expire_all()

    def invalidate_tokens(self) -> None:
        """Every access_token is invalid now: the next call with one gets 40001."""
        with self.changed:
            self.tokens.invalidate_all()

    def close_window(self, openid: str) -> None:
        """Sending to ``openid`` gets 45015 (48 h over) until the user writes again."""
        with self.changed:
            self.users.setdefault(openid, User(openid)).forced = errcodes.WINDOW_CLOSED

    def exhaust_quota(self, openid: str) -> None:
        """Sending to ``openid`` gets 45047 (quota used) until the user writes again."""
        with self.changed:
            self.users.setdefault(openid, User(openid)).forced = errcodes.QUOTA_USED

    def clear_faults(self) -> None:
        """No forced errors, delays or queued failures any more."""
        with self.changed:
            for user in self.users.values():
                user.forced = None
            self.delays.clear()
            self.failures.clear()

    def set_delay(self, seconds: float, path: str = "*") -> None:
        """Answer calls to ``path`` (``*``: every API path) after ``seconds``."""
        with self.changed:
            if seconds > 0:
                self.delays[path] = seconds
            else:
                self.delays.pop(path, None)

    def fail_next(self, path: str, errcode: int, times: int = 1) -> None:
        """The next ``times`` calls to ``path`` answer ``errcode`` (after the token check)."""
        with self.changed:
            self.failures.setdefault(path, []).extend([errcode] * times)

    # --- the API's side -------------------------------------------------------------
    def delay_for(self, path: str) -> float:
        """How long to hold the answer to a call to ``path``."""
        with self.changed:
            return self.delays.get(path, self.delays.get("*", 0.0))

    def record_call(self, path: str, errcode: int) -> None:
        """Log a call and its answer."""
        with self.changed:
            self.calls.append(Call(path, errcode, self.clock()))
            self.changed.notify_all()

    def issue_token(self, force: bool | None) -> tuple[str, int]:
        """A token and its ``expires_in``: ``cgi-bin/token`` (``force`` None) or
        ``cgi-bin/stable_token`` (normal mode, or ``force_refresh``)."""
        with self.changed:
            token = self.tokens.issue_basic() if force is None else self.tokens.stable(force)
            return token.value, self.tokens.expires_in(token)

    def check_token(self, value: str | None) -> int:
        """0 or the errcode for a call with this access_token."""
        with self.changed:
            return self.tokens.check(value)

    def injected(self, path: str) -> int | None:
        """A queued failure for ``path``, if any."""
        with self.changed:
            queued = self.failures.get(path)
            return queued.pop(0) if queued else None

    def _may_send(self, openid: str) -> int:
        user = self.users.get(openid)
        if user is not None and user.forced is not None:
            return user.forced
        if not self.enforce_windows:
            return errcodes.OK
        if user is None:
            return errcodes.INVALID_OPENID
        if not user.subscribed or not self._open(user) or user.window is None:
            return errcodes.WINDOW_CLOSED
        if user.window.used >= user.window.limit:
            return errcodes.QUOTA_USED
        user.window.used += 1
        return errcodes.OK

    def deliver(self, openid: str, msgtype: str, text: str, body: dict[str, Any], escaped: bool) -> int:
        """A valid 客服消息 for ``openid``: sent if the window allows; recorded either way."""
        with self.changed:
            errcode = self._may_send(openid)
            self.record_send(openid, msgtype, text, body, errcode, escaped)
            return errcode

    def record_send(
        self, openid: str, msgtype: str, text: str, body: dict[str, Any], errcode: int, escaped: bool = False
    ) -> None:
        """Record a custom/send call and what became of it."""
        with self.changed:
            self.deliveries.append(
                Delivery(self._next(), self.clock(), openid, msgtype, text, body, errcode, escaped)
            )
            if errcode == errcodes.OK:
                self._entry(openid, "bot", "custom", text)
            elif openid:
                self._entry(openid, "notice", "system", f"客服消息未送达：{errcode}", text)
            self.changed.notify_all()

    def add_media(self, data: bytes, content_type: str, filename: str) -> str:
        """Register a file for media/get; its media_id."""
        media_id = secrets.token_urlsafe(48)
        with self.changed:
            self.media[media_id] = Media(media_id, data, content_type, filename)
        return media_id

    def get_media(self, media_id: str) -> Media | None:
        """The file, or None."""
        with self.changed:
            return self.media.get(media_id)

    def set_menu(self, menu: dict[str, Any] | None) -> None:
        """The account's custom menu (None: deleted)."""
        with self.changed:
            self.menu = menu
            self.changed.notify_all()

    # --- reading ----------------------------------------------------------------------
    def deliveries_to(self, openid: str | None = None, delivered: bool | None = None) -> list[Delivery]:
        """custom/send calls (to ``openid``; only accepted ones, or only refused ones)."""
        with self.changed:
            return [
                d
                for d in self.deliveries
                if (openid is None or d.openid == openid) and (delivered is None or d.delivered == delivered)
            ]

    def entries(self, openid: str | None = None, after: int = 0) -> list[Entry]:
        """Chat lines (of ``openid``) after sequence number ``after``."""
        with self.changed:
            return [e for e in self.timeline if e.seq > after and (openid is None or e.openid == openid)]

    def last_seq(self) -> int:
        """The latest sequence number (a mark to read from)."""
        with self.changed:
            return self._seq

    def token_fetches(self, since: float = 0.0) -> int:
        """Token requests answered since ``since`` (a ``clock()`` value)."""
        with self.changed:
            return self.tokens.fetch_count(since)

    def calls_to(self, path: str) -> list[Call]:
        """The calls to one API path."""
        with self.changed:
            return [c for c in self.calls if c.path == path]

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait (at most ``timeout`` s) until ``predicate()`` holds; whether it does.
        ``predicate`` may call this object's readers (the lock is re-entrant)."""
        with self.changed:
            return self.changed.wait_for(predicate, timeout)
