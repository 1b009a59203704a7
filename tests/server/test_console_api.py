"""The agent console's API: login, authorization for every endpoint, bad input, the race."""

from __future__ import annotations

import concurrent.futures
import unicodedata
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.bad_inputs import bad_messages, bad_payloads
from tests.server.console_helpers import (
    HEADERS,
    PASSWORD,
    clear_login_failures,
    ensure_agents,
    handoff_store,
    login,
)
from tests.servers import REST_HEADERS, Servers

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def store(servers: Servers) -> Iterator[Any]:
    handoffs = handoff_store(servers)
    ensure_agents(
        handoffs, ("agent_a", "阿甲", "agent"), ("agent_b", "阿乙", "agent"), ("boss", "主管", "supervisor")
    )
    clear_login_failures(handoffs)
    yield handoffs
    clear_login_failures(handoffs)


def _login(servers: Servers, username: str) -> httpx.Client:
    return login(servers, username)


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
    ("GET", "/api/attachments/aaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
    ("GET", "/api/conversations/1/suggestions"),
    ("POST", "/api/me/status"),
    ("GET", "/api/messages"),
    ("GET", "/api/messages/1"),
    ("POST", "/api/messages/1/reply"),
    ("POST", "/api/messages/1/callback"),
    ("GET", "/api/conversations/1/context"),
    ("POST", "/api/conversations/1/notes"),
    ("POST", "/api/conversations/1/tags"),
    ("POST", "/api/conversations/1/tags/remove"),
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
    reply = _post_case(
        httpx.Client(base_url=f"{servers.rasa_url}/console", headers=HEADERS), "/api/login", case
    )
    assert reply.status_code in (400, 401, 413, 429)
    _never_echoes(reply, case)


def _post_case(client: httpx.Client, path: str, case: dict[str, Any]) -> httpx.Response:
    """POST one case of the bad-input corpus (a raw body, text or bytes, or a JSON body)."""
    if "raw" in case:
        raw = case["raw"]
        content = raw if isinstance(raw, bytes) else str(raw).encode()
        return client.post(path, content=content, headers={"Content-Type": "application/json"})
    return client.post(path, json=case["body"])


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _never_echoes(reply: httpx.Response, case: dict[str, Any]) -> None:
    if reply.status_code < 400:
        return
    body = reply.json()
    assert set(body) == {"error", "message"}
    for text in _strings(case.get("body")) + ([str(case["raw"])] if isinstance(case.get("raw"), str) else []):
        if len(text.strip()) >= 2:
            assert text.strip() not in body["message"]


@pytest.fixture(scope="module")
def agent_a(servers: Servers, store: Any) -> Iterator[httpx.Client]:
    client = _login(servers, "agent_a")
    yield client
    client.close()


@pytest.mark.parametrize("name", sorted(bad_payloads()))
@pytest.mark.parametrize("step", ["take", "messages", "handback", "transfer", "resolve"])
def test_the_bad_input_corpus_on_every_conversation_post(
    servers: Servers, store: Any, agent_a: httpx.Client, step: str, name: str
) -> None:
    case = bad_payloads()[name]
    handoff = _handoff(store)
    if step != "take":
        assert agent_a.post(f"/api/conversations/{handoff.id}/take").status_code == 200
    reply = _post_case(agent_a, f"/api/conversations/{handoff.id}/{step}", case)
    assert reply.status_code in (200, 400, 413), (step, name, reply.status_code)
    _never_echoes(reply, case)
    if step in ("messages", "transfer"):
        assert reply.status_code in (400, 413)  # neither a text nor an agent id in any case


@pytest.mark.parametrize("name", sorted(bad_payloads()))
def test_the_bad_input_corpus_on_logout(servers: Servers, store: Any, name: str) -> None:
    clear_login_failures(store)  # the throttling test locked agent_b out
    client = _login(servers, "agent_b")
    reply = _post_case(client, "/api/logout", bad_payloads()[name])
    assert reply.status_code == 204  # the body does not matter: the session ends
    assert client.get("/api/me").status_code == 401


@pytest.mark.parametrize("name", sorted(bad_messages()))
def test_bad_message_texts_from_an_agent(
    servers: Servers, store: Any, agent_a: httpx.Client, name: str
) -> None:
    text = bad_messages()[name]
    handoff = _handoff(store)
    assert agent_a.post(f"/api/conversations/{handoff.id}/take").status_code == 200
    reply = agent_a.post(f"/api/conversations/{handoff.id}/messages", json={"text": text})
    control = any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in text)
    if not text.strip() or len(text) > 2000 or control:  # refused: empty, too long, NUL or escapes
        assert reply.status_code == 400 and reply.json()["error"] == "invalid_input"
        assert not text.strip() or text.strip()[:20] not in reply.json()["message"]
    else:
        assert reply.status_code == 201 and reply.json()["message"]["text"] == text.strip()
    resolved = agent_a.post(f"/api/conversations/{handoff.id}/resolve", json={"note": text})
    assert resolved.status_code in (200, 400)


def test_only_the_assigned_agent_or_a_supervisor_reads_and_writes(servers: Servers, store: Any) -> None:
    a, boss = _login(servers, "agent_a"), _login(servers, "boss")
    clear_login_failures(store)  # the throttling test locked agent_b out
    handoff = _handoff(store)
    assert a.post(f"/api/conversations/{handoff.id}/take").status_code == 200
    other = _login(servers, "agent_b")
    for method, path, body in (
        ("GET", "transcript", None),
        ("POST", "messages", {"text": "hi"}),
        ("POST", "handback", {}),
        ("POST", "transfer", {"agent_id": 1}),
        ("POST", "resolve", {"note": ""}),
        ("GET", "suggestions", None),
        ("GET", "context", None),
        ("POST", "notes", {"text": "备注"}),
        ("POST", "tags", {"tag": "投诉"}),
        ("POST", "tags/remove", {"tag": "投诉"}),
    ):
        reply = other.request(method, f"/api/conversations/{handoff.id}/{path}", json=body)
        assert reply.status_code == 403, (path, reply.status_code)
    assert boss.get(f"/api/conversations/{handoff.id}/transcript").status_code == 200
    assert boss.get(f"/api/conversations/{handoff.id}/context").status_code == 200
    assert boss.post(f"/api/conversations/{handoff.id}/notes", json={"text": "主管备注"}).status_code == 201
    assert a.post(f"/api/conversations/{handoff.id}/tags", json={"tag": "投诉"}).json()["tags"] == ["投诉"]
    assert a.get(f"/api/conversations/{handoff.id}/context").json()["notes"][0]["text"] == "主管备注"
    assert a.get("/api/conversations/999999/context").status_code == 404
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


def _message_left(store: Any) -> Any:
    left = store.record_message(uuid.uuid4().hex, "rest", "normal", "其他", "话题：其他；用户说：转人工")
    store.messages.attach_ticket(left.id, "T202612010001", "13800138000", "phone")
    return left


@pytest.mark.parametrize("name", sorted(bad_payloads()))
@pytest.mark.parametrize("path", ["messages/{id}/reply", "messages/{id}/callback", "me/status"])
def test_the_bad_input_corpus_on_the_new_posts(
    servers: Servers, store: Any, agent_a: httpx.Client, path: str, name: str
) -> None:
    case = bad_payloads()[name]
    left = _message_left(store)
    reply = _post_case(agent_a, "/api/" + path.format(id=left.id), case)
    assert reply.status_code in (400, 413), (path, name, reply.status_code)
    _never_echoes(reply, case)
    assert store.messages.get(left.id).open


def test_the_message_queue_rights(servers: Servers, store: Any) -> None:
    clear_login_failures(store)
    a, b, boss = _login(servers, "agent_a"), _login(servers, "agent_b"), _login(servers, "boss")
    left = _message_left(store)
    for client in (a, b, boss):  # the 留言 queue belongs to everybody until answered
        listed = client.get("/api/messages")
        assert listed.status_code == 200 and left.id in [m["id"] for m in listed.json()["messages"]]
        assert "13800138000" not in listed.text
    assert a.get(f"/api/messages/{left.id}").status_code == 200
    done = a.post(f"/api/messages/{left.id}/callback", json={"note": "已电话回访"})
    assert done.status_code == 200 and done.json()["message"]["answered_by"] == "阿甲"
    assert b.post(f"/api/messages/{left.id}/callback", json={"note": "我也打了"}).status_code == 409
    assert b.post(f"/api/messages/{left.id}/reply", json={"text": "您好"}).status_code == 409
    assert a.get("/api/messages/999999").status_code == 404
    assert a.get("/api/messages?state=all").status_code == 400
    assert a.post("/api/me/status", json={"status": "busy"}).json() == {"status": "busy"}
    agents = {x["username"]: x for x in boss.get("/api/agents").json()["agents"]}
    assert agents["agent_a"]["status"] == "busy"
    assert a.post("/api/me/status", json={"status": "online"}).status_code == 200
    assert a.post("/api/me/status", json={"status": "asleep"}).status_code == 400


@pytest.mark.parametrize("name", sorted(bad_payloads()))
@pytest.mark.parametrize("path", ["notes", "tags", "tags/remove"])
def test_the_bad_input_corpus_on_notes_and_tags(
    servers: Servers, store: Any, agent_a: httpx.Client, path: str, name: str
) -> None:
    case = bad_payloads()[name]
    handoff = _handoff(store)
    assert agent_a.post(f"/api/conversations/{handoff.id}/take").status_code == 200
    reply = _post_case(agent_a, f"/api/conversations/{handoff.id}/{path}", case)
    assert reply.status_code in (400, 413), (path, name, reply.status_code)  # no text or tag in any case
    _never_echoes(reply, case)
    assert store.annotations.notes(handoff.id) == [] and store.annotations.tags(handoff.id) == []
