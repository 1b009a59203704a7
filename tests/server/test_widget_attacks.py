"""Attacks on the widget's sessions against the running servers: joining or writing to a
session that was not issued to you, forged and tampered proofs, reading a transcript without
the proof, other origins, another user's token in a signed-in session, the demo sign-in.

The test servers run without WIDGET_DEMO_IDENTITY and without cors_allowed_origins."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from bot.identity import sign_identity
from tests.bad_inputs import bad_messages, bad_payloads
from tests.server.widget_client import Widget
from tests.servers import IDENTITY_SECRET, REST_HEADERS, Servers

pytestmark = pytest.mark.server
EVIL = "https://evil.example"


@pytest.fixture()
def victim(servers: Servers) -> Any:
    """A widget user with a conversation: one message answered."""
    widget = Widget(servers.rasa_url)
    widget.connect()
    widget.say("你好", client_message_id="v1")
    widget.wait_for("bot_uttered")
    yield widget
    widget.close()


def _history(servers: Servers, headers: dict[str, Any] | None = None, **params: str) -> httpx.Response:
    return httpx.get(f"{servers.rasa_url}/widget/history", headers=headers or {}, params=params)


def _history_post(
    servers: Servers, body: str | bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    """The widget's way: the proof as the text/plain body."""
    return httpx.post(
        f"{servers.rasa_url}/widget/history",
        content=body,
        headers={"Content-Type": "text/plain;charset=UTF-8", **(headers or {})},
    )


def _texts(value: Any) -> list[str]:
    """Every string value inside a JSON-like value, to check that a reply echoes none of them."""
    if isinstance(value, str):
        return [value] if len(value.strip()) >= 2 else []
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def _corpus() -> list[Any]:
    """The shared bad inputs as socket event data: every message, every webhook body."""
    payloads = [p.get("body", p.get("raw")) for p in bad_payloads().values()]
    return [*bad_messages().values(), *payloads]


# --- the socket -------------------------------------------------------------------------------
def test_a_foreign_session_id_is_refused_and_gets_nothing(servers: Servers, victim: Widget) -> None:
    attacker = Widget(servers.rasa_url)
    attacker.connect()
    for foreign in (victim.session_id, f"widget:{victim.session_id}", victim.session_token):
        attacker.say("我忘记密码了", session_id=foreign, client_message_id="a1")
    errors = attacker.wait_for("wallet_error", count=3)
    assert errors[0]["code"] == "session_mismatch"  # the others are not even shaped like an id
    assert {e["code"] for e in errors} == {"session_mismatch", "invalid_event"}
    assert all(e.get("client_message_id") == "a1" for e in errors)
    victim.say("谢谢", client_message_id="v2")
    victim.wait_for("bot_uttered", count=2)
    time.sleep(1)
    assert attacker.of("message_ack") == [] and attacker.of("bot_uttered") == []
    assert victim.session_token is not None
    texts = [
        m["text"] for m in _history(servers, {"X-Widget-Session": victim.session_token}).json()["messages"]
    ]
    assert "我忘记密码了" not in texts and "谢谢" in texts  # nothing of the attacker's was processed
    attacker.close()


def test_a_message_before_any_session_is_refused(servers: Servers) -> None:
    widget = Widget(servers.rasa_url)
    widget.open()
    widget.say("你好", session_id="0123456789abcdef0123456789abcdef", client_message_id="x1")
    assert widget.wait_for("wallet_error")[0]["code"] == "session_required"
    widget.close()


def test_bare_forged_and_tampered_proofs_get_a_new_session(servers: Servers, victim: Widget) -> None:
    assert victim.session_id is not None and victim.session_token is not None
    attacker = Widget(servers.rasa_url)
    own = attacker.connect()
    signature = victim.session_token.split(".")[1]
    attempts: list[Any] = [
        {"session_id": victim.session_id},  # a bare id, as Rasa's own widget sends it
        victim.session_id,
        {"session_token": victim.session_id},
        {"session_token": f"{victim.session_id}.{'A' * 43}"},  # forged signature
        {"session_token": f"{victim.session_id}.{own['session_token'].split('.')[1]}"},  # tampered id
        {"session_token": f"{own['session_id']}.{signature}"},  # a signature moved to another id
        {"session_token": victim.session_token.upper()},
        {"session_token": victim.session_token + "="},
        {"session_token": f"widget:{victim.session_id}"},
        *({"session_token": value} for value in _corpus()),
        *_corpus(),
    ]
    for data in attempts:
        confirm = attacker.request_session(data)
        assert confirm["resumed"] is False and confirm["session_id"] not in (
            victim.session_id,
            own["session_id"],
        )
    victim.say("谢谢", client_message_id="v3")
    victim.wait_for("bot_uttered", count=2)
    time.sleep(1)
    assert attacker.of("bot_uttered") == []
    attacker.close()


def test_bad_user_events_are_refused_without_echo(servers: Servers) -> None:
    widget = Widget(servers.rasa_url)
    widget.connect()
    corpus = _corpus()
    # One at a time: a long-polling batch of more than 16 packets is refused whole by engine.io.
    for data in corpus:
        count = len(widget.of("wallet_error"))
        widget.client.emit("user_uttered", data)
        widget.wait_for("wallet_error", count=count + 1)
    for text in bad_messages().values():  # odd session ids
        count = len(widget.of("wallet_error"))
        widget.say("你好", session_id=text)
        widget.wait_for("wallet_error", count=count + 1)
    errors = widget.of("wallet_error")
    assert len(errors) == len(corpus) + len(bad_messages())
    assert {e["code"] for e in errors} <= {"invalid_event", "session_mismatch", "message_too_long"}
    texts = _texts(corpus)
    for error in errors:
        assert not any(t.strip() in error["message"] for t in texts)
    assert widget.of("message_ack") == [] and widget.of("bot_uttered") == []
    widget.close()


def test_a_token_for_another_user_is_refused_in_a_signed_in_session(servers: Servers) -> None:
    widget = Widget(servers.rasa_url)
    widget.connect()
    widget.say("你好", client_message_id="i1", identity_token=sign_identity("U1001", IDENTITY_SECRET))
    widget.wait_for("bot_uttered")
    widget.say("谢谢", client_message_id="i2", identity_token=sign_identity("U1002", IDENTITY_SECRET))
    error = widget.wait_for("wallet_error")[0]
    assert error == {"code": "identity_changed", "message": error["message"], "client_message_id": "i2"}
    assert widget.of("message_ack") == [{"client_message_id": "i1"}]
    widget.say("谢谢", client_message_id="i3", identity_token=sign_identity("U1001", IDENTITY_SECRET))
    assert widget.wait_for("message_ack", count=2)[1] == {"client_message_id": "i3"}
    widget.say("谢谢", client_message_id="i4", identity_token=sign_identity("U1002", "forged-secret"))
    assert widget.wait_for("message_ack", count=3)[2] == {"client_message_id": "i4"}  # the bot ignores it
    widget.close()


def test_no_other_channel_can_address_a_widget_conversation(servers: Servers, victim: Widget) -> None:
    assert victim.session_token is not None
    before = _history(servers, {"X-Widget-Session": victim.session_token}).json()["messages"]
    reply = httpx.post(
        f"{servers.rasa_url}/webhooks/rest/webhook",
        json={"sender": f"widget:{victim.session_id}", "message": "我忘记密码了"},
        headers=REST_HEADERS,
        timeout=60,
    )
    assert reply.status_code == 200
    assert all(m["recipient_id"] == f"rest:widget:{victim.session_id}" for m in reply.json())
    assert _history(servers, {"X-Widget-Session": victim.session_token}).json()["messages"] == before


# --- history ------------------------------------------------------------------------------------
def test_history_without_a_proof_is_refused(servers: Servers, victim: Widget) -> None:
    assert victim.session_id is not None and victim.session_token is not None
    for params in ({}, {"session_id": victim.session_id}, {"session_token": victim.session_token}):
        for reply in (_history(servers, **params), _history_post(servers, "  ")):
            assert reply.status_code == 401 and reply.json()["error"] == "session_required"
            assert victim.session_id not in reply.text
    reply = httpx.post(f"{servers.rasa_url}/widget/history", params={"session_id": victim.session_id})
    assert reply.status_code == 401


def test_history_with_a_forged_proof_is_refused(servers: Servers, victim: Widget) -> None:
    assert victim.session_id is not None and victim.session_token is not None
    other = Widget(servers.rasa_url)
    other.connect()
    assert other.session_token is not None
    for proof in (
        victim.session_id,
        f"{victim.session_id}.{'A' * 43}",
        f"{victim.session_id}.{other.session_token.split('.')[1]}",
        f"widget:{victim.session_id}",
        victim.session_token[:-1] + ("A" if victim.session_token[-1] != "A" else "B"),
    ):
        for reply in (
            _history(servers, {"X-Widget-Session": proof}),
            _history_post(servers, proof),
            _history_post(servers, json.dumps({"session_id": victim.session_id, "session_token": proof})),
        ):
            assert reply.status_code == 403 and reply.json() == {
                "error": "invalid_session",
                "message": reply.json()["message"],
            }
            assert victim.session_id not in reply.text
    other.close()


@pytest.mark.parametrize(
    "value", [*bad_messages().values(), *(json.dumps(p.get("body")) for p in bad_payloads().values())]
)
def test_history_refuses_the_bad_input_corpus_as_a_proof(servers: Servers, value: str) -> None:
    try:
        reply = _history(servers, {"X-Widget-Session": value.encode("utf-8")})
    except httpx.LocalProtocolError:
        return  # line breaks or NUL: no HTTP client can send it as a header
    assert reply.status_code in (400, 401, 403, 413, 431)
    assert not any(t in reply.text for t in _texts(value) if len(t) > 3)


@pytest.mark.parametrize("name", sorted(bad_payloads()))
def test_history_refuses_the_bad_payloads_as_a_body(servers: Servers, name: str) -> None:
    payload = bad_payloads()[name]
    body = payload["raw"] if "raw" in payload else json.dumps(payload["body"], ensure_ascii=False)
    reply = _history_post(servers, body)
    assert reply.status_code in (401, 403) and reply.json()["error"] in (
        "session_required",
        "invalid_session",
    )
    assert not any(t in reply.text for t in _texts(payload.get("body")) if len(t) > 3)


def test_history_with_the_proof_is_that_sessions_only(servers: Servers, victim: Widget) -> None:
    assert victim.session_token is not None
    for reply in (
        _history_post(servers, victim.session_token),
        _history(servers, {"X-Widget-Session": victim.session_token}),
    ):
        assert reply.status_code == 200 and [m["role"] for m in reply.json()["messages"]][:2] == [
            "user",
            "bot",
        ]
        assert reply.headers["cache-control"] == "no-store"
    other = Widget(servers.rasa_url)
    other.connect()
    assert other.session_token is not None
    assert _history(servers, {"X-Widget-Session": other.session_token}).json() == {"messages": []}
    other.close()


# --- origins and the demo sign-in ----------------------------------------------------------------
def test_no_cors_headers_for_an_unconfigured_origin(servers: Servers, victim: Widget) -> None:
    assert victim.session_token is not None
    proof = {"X-Widget-Session": victim.session_token}
    for reply in (
        _history(servers, {**proof, "Origin": EVIL}),
        _history_post(servers, victim.session_token, {"Origin": EVIL}),
        httpx.options(
            f"{servers.rasa_url}/widget/history",
            headers={
                "Origin": EVIL,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-widget-session",
            },
        ),
        _history(servers, {"Origin": EVIL}),
        httpx.get(f"{servers.rasa_url}/widget/demo-token", headers={"Origin": EVIL}),
        httpx.get(f"{servers.rasa_url}/widget/widget.js", headers={"Origin": EVIL}),
        httpx.get(f"{servers.rasa_url}/widget/shared.js", headers={"Origin": EVIL}),
    ):
        assert "access-control-allow-origin" not in reply.headers, reply.request.url
        assert "access-control-allow-credentials" not in reply.headers


def test_the_socket_refuses_other_origins_and_takes_its_own(servers: Servers) -> None:
    handshake = f"{servers.rasa_url}/socket.io/?EIO=4&transport=polling"
    refused = httpx.get(handshake, headers={"Origin": EVIL})
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    own = httpx.get(handshake, headers={"Origin": servers.rasa_url})
    assert own.status_code == 200 and own.headers.get("access-control-allow-origin") == servers.rasa_url
    assert httpx.get(handshake).status_code == 200  # no Origin: not a browser page


def test_the_demo_token_is_404_without_the_flag(servers: Servers) -> None:
    reply = httpx.get(f"{servers.rasa_url}/widget/demo-token")
    assert reply.status_code == 404 and reply.json()["error"] == "not_found"
    assert "token" not in reply.json()
