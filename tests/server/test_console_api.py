"""The agent console's API: login, authorization for every endpoint, bad input, the race."""

from __future__ import annotations

import concurrent.futures
import contextlib
import uuid
from typing import Any

import httpx
import pytest

from tests.bad_inputs import bad_payloads
from tests.servers import REST_HEADERS, Servers

pytestmark = pytest.mark.server
HEADERS = {"X-Console-Request": "1"}
PASSWORD = "console-Passw0rd"


@pytest.fixture(scope="module")
def store(servers: Servers) -> Any:
    from bot.handoff.errors import Conflict
    from bot.handoff.store import HandoffStore

    handoffs = HandoffStore(servers.handoff_db_url)
    handoffs.create_schema()
    for username, name, role in (
        ("agent_a", "阿甲", "agent"),
        ("agent_b", "阿乙", "agent"),
        ("boss", "主管", "supervisor"),
    ):
        with contextlib.suppress(Conflict):  # already there from an earlier run of this module
            handoffs.add_agent(username, name, PASSWORD, role=role)
    return handoffs


def _login(servers: Servers, username: str) -> httpx.Client:
    client = httpx.Client(base_url=f"{servers.rasa_url}/console", headers=HEADERS, timeout=30)
    reply = client.post("/api/login", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return client


def _handoff(store: Any) -> Any:
    return store.request_handoff(
        uuid.uuid4().hex, "rest", "normal", "交易失败", "话题：交易失败；用户说：转人工"
    )


ENDPOINTS = [
    ("GET", "/api/me"),
    ("GET", "/api/queue"),
    ("GET", "/api/conversations"),
    ("POST", "/api/conversations/1/take"),
    ("GET", "/api/conversations/1/transcript"),
    ("POST", "/api/conversations/1/messages"),
    ("POST", "/api/conversations/1/handback"),
    ("POST", "/api/conversations/1/transfer"),
    ("POST", "/api/conversations/1/resolve"),
    ("GET", "/api/agents"),
    ("GET", "/api/canned"),
    ("GET", "/api/audit"),
    ("GET", "/api/events"),
    ("POST", "/api/logout"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_a_login(servers: Servers, store: Any, method: str, path: str) -> None:
    reply = httpx.request(method, f"{servers.rasa_url}/console{path}", headers=HEADERS, json={}, timeout=30)
    assert reply.status_code == 401
    forged = httpx.request(
        method,
        f"{servers.rasa_url}/console{path}",
        headers=HEADERS,
        cookies={"uw_console": "forged"},
        timeout=30,
    )
    assert forged.status_code == 401


def test_login_is_throttled_and_never_echoes(servers: Servers, store: Any) -> None:
    url = f"{servers.rasa_url}/console/api/login"
    for _ in range(5):
        reply = httpx.post(url, headers=HEADERS, json={"username": "agent_b", "password": "wrong<script>"})
        assert reply.status_code == 401 and "script" not in reply.text
    assert (
        httpx.post(url, headers=HEADERS, json={"username": "agent_b", "password": PASSWORD}).status_code
        == 429
    )
    assert (
        httpx.post(url, json={"username": "agent_a", "password": PASSWORD}).status_code == 403
    )  # no CSRF header


@pytest.mark.parametrize("name", sorted(bad_payloads()))
def test_bad_login_bodies(servers: Servers, store: Any, name: str) -> None:
    case = bad_payloads()[name]
    url = f"{servers.rasa_url}/console/api/login"
    if "raw" in case:
        reply = httpx.post(url, headers=HEADERS, content=str(case["raw"]).encode())
    else:
        reply = httpx.post(url, headers=HEADERS, json=case["body"])
    assert reply.status_code in (400, 401, 413, 429)


def test_only_the_assigned_agent_or_a_supervisor_reads_and_writes(servers: Servers, store: Any) -> None:
    a, boss = _login(servers, "agent_a"), _login(servers, "boss")
    store.clear_failed_logins("agent_b|127.0.0.1")  # the throttling test locked agent_b out
    handoff = _handoff(store)
    assert a.post(f"/api/conversations/{handoff.id}/take").status_code == 200
    other = _login(servers, "agent_b")
    for method, path, body in (
        ("GET", "transcript", None),
        ("POST", "messages", {"text": "hi"}),
        ("POST", "handback", {}),
        ("POST", "transfer", {"agent_id": 1}),
        ("POST", "resolve", {"note": ""}),
    ):
        reply = other.request(method, f"/api/conversations/{handoff.id}/{path}", json=body)
        assert reply.status_code == 403, (path, reply.status_code)
    assert boss.get(f"/api/conversations/{handoff.id}/transcript").status_code == 200
    assert a.post(f"/api/conversations/{handoff.id}/messages", json={"text": "您好"}).status_code == 201
    assert a.get("/api/audit").status_code == 403 and boss.get("/api/audit").status_code == 200
    assert a.post(f"/api/conversations/{handoff.id}/resolve", json={"note": "done"}).status_code == 200
    assert a.post(f"/api/conversations/{handoff.id}/messages", json={"text": "again"}).status_code == 409


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"text": 5}', b'{"text": ""}', ('{"text": "' + "长" * 2001 + '"}').encode()],
)
def test_bad_messages_are_refused(servers: Servers, store: Any, body: bytes) -> None:
    a = _login(servers, "agent_a")
    handoff = _handoff(store)
    a.post(f"/api/conversations/{handoff.id}/take")
    reply = a.post(
        f"/api/conversations/{handoff.id}/messages",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert reply.status_code == 400 and "长长长" not in reply.text
    bad_transfer = a.post(f"/api/conversations/{handoff.id}/transfer", json={"agent_id": "x"})
    assert bad_transfer.status_code == 400
    assert a.post("/api/conversations/999999/take").status_code in (404, 409)
    assert a.get("/api/conversations/999999/transcript").status_code == 404


def test_exactly_one_agent_wins_the_race(servers: Servers, store: Any) -> None:
    handoff = _handoff(store)
    clients = [_login(servers, "agent_a"), _login(servers, "boss")]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        codes = sorted(
            pool.map(lambda c: c.post(f"/api/conversations/{handoff.id}/take").status_code, clients)
        )
    assert codes == [200, 409]


def test_console_page_and_canned_replies(servers: Servers, store: Any) -> None:
    assert "<html" in httpx.get(f"{servers.rasa_url}/console/").text.lower()
    assert httpx.get(f"{servers.rasa_url}/console/static/../../handoff/store.py").status_code == 404
    assert _login(servers, "agent_a").get("/api/canned").json()["replies"]


@pytest.mark.parametrize("step", ["take", "messages", "handback", "transfer", "resolve", "logout"])
@pytest.mark.parametrize("body", [b"not json", b"[]", b'"text"', b"{"])
def test_garbage_bodies_on_every_post_endpoint(servers: Servers, store: Any, step: str, body: bytes) -> None:
    a = _login(servers, "agent_a")
    handoff = _handoff(store)
    if step != "take":
        a.post(f"/api/conversations/{handoff.id}/take")
    path = "/api/logout" if step == "logout" else f"/api/conversations/{handoff.id}/{step}"
    reply = a.post(path, content=body, headers={"Content-Type": "application/json"})
    assert reply.status_code in (200, 204, 400), (step, reply.status_code)
    assert "not json" not in reply.text
    if step in ("messages", "transfer"):
        assert reply.status_code == 400


def test_a_waiting_user_can_stop_waiting(servers: Servers, store: Any) -> None:
    agent = store.get_agent(_login(servers, "agent_a").get("/api/me").json()["agent"]["id"])
    store.touch_agent(agent.id)
    sender = uuid.uuid4().hex

    def say(text: str) -> str:
        reply = httpx.post(
            f"{servers.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers=REST_HEADERS,
            timeout=60,
        )
        return "\n".join(m.get("text", "") for m in reply.json())

    assert "排队" in say("转人工")
    conversation = f"rest:{sender}"
    assert store.active_for(conversation).status == "pending"
    assert say("还要等多久") == ""  # the bot is silent while the user waits
    say("算了 不用了")
    assert store.active_for(conversation) is None and store.latest_for(conversation).status == "cancelled"
    assert "客服热线" in say("怎么联系客服")  # the bot answers again
