"""The console cannot be stalled or fooled: a login flood does not slow the users' chat; logins
are throttled per username, per address and globally; the live stream ends with the session;
the cookie is HttpOnly, SameSite=Strict and Secure; a denial never cancels a wait.

Different client addresses are loopback aliases (127.0.0.x), which Linux routes to the server.
"""

from __future__ import annotations

import concurrent.futures
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from tests.server.console_helpers import (
    PASSWORD,
    clear_login_failures,
    ensure_agents,
    expire_sessions,
    handoff_store,
    login,
    new_sender,
    say,
    try_login,
)
from tests.servers import REST_HEADERS, Servers

pytestmark = pytest.mark.server
TURNS = ["你好", "怎么联系客服", "谢谢", "你们的客服热线是多少", "你好", "我想投诉"]
FLOODERS = 32  # parallel clients, each from its own address, each sending bad logins non-stop
FLOOD_SECONDS = 6.0
MAX_TURNS = 25  # the REST channel allows one sender 30 messages a minute


@pytest.fixture(scope="module")
def store(servers: Servers) -> Iterator[Any]:
    handoffs = handoff_store(servers)
    ensure_agents(handoffs, ("guard_a", "守甲", "agent"), ("guard_b", "守乙", "agent"))
    yield handoffs
    clear_login_failures(handoffs)


@pytest.fixture(autouse=True)
def no_failures_left(store: Any) -> Iterator[None]:
    """Every test starts and ends without counted failures (the limits are the defaults)."""
    clear_login_failures(store)
    yield
    clear_login_failures(store)


def _turn_seconds(servers: Servers, sender: str, text: str) -> float:
    started = time.perf_counter()
    assert say(servers, sender, text)
    return time.perf_counter() - started


def test_a_login_flood_does_not_slow_the_conversation(servers: Servers, store: Any) -> None:
    sender = new_sender()
    say(servers, sender, "你好")  # warm up this conversation
    before = statistics.median(_turn_seconds(servers, sender, t) for t in TURNS)

    stop, codes, lock = threading.Event(), [], threading.Lock()

    def flood(worker: int) -> None:
        with httpx.Client(
            base_url=f"{servers.rasa_url}/console",
            headers={"X-Console-Request": "1"},
            timeout=30,
            transport=httpx.HTTPTransport(local_address=f"127.0.0.{10 + worker}"),
        ) as client:
            while not stop.is_set():
                name = f"intruder{uuid.uuid4().hex[:8]}"
                reply = client.post("/api/login", json={"username": name, "password": "guess-12345"})
                with lock:
                    codes.append(reply.status_code)

    sender = new_sender()  # a fresh sender: the REST rate limit counts per sender
    say(servers, sender, "你好")
    during_turns: list[float] = []
    with concurrent.futures.ThreadPoolExecutor(FLOODERS) as pool:
        floods = [pool.submit(flood, n) for n in range(FLOODERS)]
        try:
            time.sleep(0.5)
            started = time.monotonic()
            # a turn at a time for the flood's length, within the REST limit of 30 a minute
            while len(during_turns) < len(TURNS) or (
                time.monotonic() - started < FLOOD_SECONDS and len(during_turns) < MAX_TURNS
            ):
                during_turns.append(_turn_seconds(servers, sender, TURNS[len(during_turns) % len(TURNS)]))
        finally:
            stop.set()
        for f in floods:
            f.result()
    during = statistics.median(during_turns)
    refused = codes.count(429)
    print(f"median turn {before:.3f}s before, {during:.3f}s during {len(codes)} logins ({refused} refused)")
    assert len(codes) >= 2 * FLOODERS and set(codes) <= {401, 429}, set(codes)
    assert 401 in codes and refused > codes.count(401)  # argon2 ran, but most were refused before it
    assert during <= 3 * before + 0.2, (before, during, len(codes))


def test_logins_are_throttled_per_username(servers: Servers, store: Any) -> None:
    for n in range(5):  # one username, from five addresses
        assert try_login(servers, "guard_a", "wrong-password", f"127.0.0.{40 + n}").status_code == 401
    started = time.monotonic()
    refused = try_login(servers, "guard_a", PASSWORD, "127.0.0.50")  # the right password, from elsewhere
    assert time.monotonic() - started >= 0.9  # a refusal is answered after a delay (1 s by default)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.json()["error"] == "rate_limited" and "wrong" not in refused.text
    assert try_login(servers, "guard_b", PASSWORD, "127.0.0.50").status_code == 200


def test_logins_are_throttled_per_address(servers: Servers, store: Any) -> None:
    for n in range(20):  # twenty usernames, from one address
        assert try_login(servers, f"nobody{n}", "wrong-password", "127.0.0.60").status_code == 401
    assert try_login(servers, "guard_a", PASSWORD, "127.0.0.60").status_code == 429
    assert try_login(servers, "guard_a", PASSWORD, "127.0.0.61").status_code == 200


def test_logins_are_throttled_globally(servers: Servers, store: Any) -> None:
    for n in range(30):  # a distributed attack: every attempt from another address, another name
        assert try_login(servers, f"spread{n}", "wrong-password", f"127.0.1.{n + 1}").status_code == 401
    refused = try_login(servers, "guard_b", PASSWORD, "127.0.2.1")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) <= 60
    clear_login_failures(store)  # (the window would let it pass after a minute)
    assert try_login(servers, "guard_b", PASSWORD, "127.0.2.1").status_code == 200


def test_the_session_cookie_is_httponly_strict_and_secure(servers: Servers, store: Any) -> None:
    reply = try_login(servers, "guard_a", PASSWORD)
    cookie = reply.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite", "path", "max-age"} <= attributes
    assert "SameSite=Strict" in cookie and "Path=/console" in cookie
    client = login(servers, "guard_a")
    cleared = client.post("/api/logout").headers["set-cookie"]
    assert "Max-Age=0" in cleared and "Path=/console" in cleared and "Secure" in cleared


def _events(client: httpx.Client, seconds: float) -> Iterator[str]:
    """The event names of the live stream until it ends (or ``seconds`` pass)."""
    deadline = time.monotonic() + seconds
    with client.stream("GET", "/api/events", timeout=httpx.Timeout(seconds, read=seconds)) as stream:
        assert stream.status_code == 200
        for line in stream.iter_lines():
            if line.startswith("event: "):
                yield line.removeprefix("event: ")
            if time.monotonic() > deadline:
                return


def test_the_live_stream_ends_when_the_session_expires(servers: Servers, store: Any) -> None:
    client = login(servers, "guard_a")
    agent = client.get("/api/me").json()["agent"]
    assert agent["id"] in [a.id for a in store.agents_on_duty()]
    seen = []
    started = time.monotonic()
    for event in _events(client, 20):
        seen.append(event)
        if len(seen) == 1:
            expire_sessions(store, agent["id"])
    assert seen[0] == "changed" and seen[-1] == "session_ended", seen
    assert time.monotonic() - started < 10  # re-checked every second, not at the next login
    assert agent["id"] not in [a.id for a in store.agents_on_duty()]  # no live session: off duty
    assert client.get("/api/me").status_code == 401


def test_the_live_stream_ends_when_the_session_is_revoked(servers: Servers, store: Any) -> None:
    client = login(servers, "guard_b")
    seen = []
    for event in _events(client, 20):
        seen.append(event)
        if len(seen) == 1:
            assert client.post("/api/logout").status_code == 204  # logout from another tab
    assert seen[-1] == "session_ended", seen


def test_a_denial_does_not_cancel_an_urgent_wait_but_an_explicit_stop_does(
    servers: Servers, store: Any
) -> None:
    from bot.handoff.schema import handoffs

    agent = login(servers, "guard_a")  # on duty: the user is queued, not asked to leave a message
    assert agent.get("/api/me").status_code == 200
    sender = new_sender()
    assert "排队" in say(servers, sender, "转人工")
    conversation = f"rest:{sender}"
    waiting = store.active_for(conversation)
    with store.engine.begin() as conn:  # as a security incident queues it
        conn.execute(update(handoffs).where(handoffs.c.id == waiting.id).values(priority="urgent"))
    for text in ("不是我操作的", "不", "不是", "算了"):
        assert say(servers, sender, text) == ""  # the bot stays silent while the user waits
        assert store.get(waiting.id).status == "pending", text
    say(servers, sender, "不等了")
    assert store.get(waiting.id).status == "cancelled"
    assert "客服热线" in say(servers, sender, "怎么联系客服")  # the bot answers again


def test_the_cancel_button_typed_as_its_number_cancels(servers: Servers, store: Any) -> None:
    login(servers, "guard_b")  # on duty
    sender = new_sender()
    reply = httpx.post(
        f"{servers.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": "转人工"},
        headers=REST_HEADERS,
        timeout=60,
    ).json()
    assert {"title": "不等了", "payload": "/stop"} in [b for m in reply for b in m.get("buttons", [])]
    say(servers, sender, "1")  # typed, as on a channel without buttons
    assert store.latest_for(f"rest:{sender}").status == "cancelled"
