"""The widget's socket.io channel and HTTP routes, against the running Rasa server: what the
widget relies on (sessions, acks, de-duplication, tabs, history, limits). Attacks on sessions,
history and origins: test_widget_attacks.py."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.server.widget_client import Widget
from tests.servers import Servers

pytestmark = pytest.mark.server


def _history(servers: Servers, proof: str) -> list[dict[str, Any]]:
    reply = httpx.get(f"{servers.rasa_url}/widget/history", headers={"X-Widget-Session": proof})
    assert reply.status_code == 200, reply.text
    return list(reply.json()["messages"])


def test_the_server_issues_a_signed_session(servers: Servers) -> None:
    widget = Widget(servers.rasa_url)
    confirm = widget.connect()
    assert confirm["resumed"] is False and len(confirm["session_id"]) == 32
    assert confirm["session_token"].startswith(confirm["session_id"] + ".")
    widget.close()


def test_a_message_is_acknowledged_and_answered(servers: Servers) -> None:
    widget = Widget(servers.rasa_url)
    widget.connect()
    widget.say("你好", client_message_id="m1")
    assert (widget.wait_for("message_ack"))[0] == {"client_message_id": "m1"}
    replies = widget.wait_for("bot_uttered")
    assert "欢迎" in replies[0]["text"]
    assert any(q["payload"] == "/forgot_password" for q in replies[0].get("quick_replies", []))
    widget.close()


def test_a_resent_message_is_answered_once(servers: Servers) -> None:
    widget = Widget(servers.rasa_url)
    widget.connect()
    widget.say("谢谢", client_message_id="dup-1")
    widget.say("谢谢", client_message_id="dup-1")
    widget.wait_for("message_ack", count=2)
    widget.wait_for("bot_uttered")
    time.sleep(2)
    assert len(widget.of("bot_uttered")) == 1
    widget.close()


def test_the_session_resumes_with_its_proof_and_history_is_restored(servers: Servers) -> None:
    first = Widget(servers.rasa_url)
    first.connect()
    session_id, proof = first.session_id, first.session_token
    assert proof is not None
    first.say("你好", client_message_id="h1")
    first.wait_for("bot_uttered")
    first.close()
    history = _history(servers, proof)
    assert [m["role"] for m in history][:2] == ["user", "bot"] and "欢迎" in history[1]["text"]
    second = Widget(servers.rasa_url)  # a reload: a new socket, the stored proof
    confirm = second.connect(proof)
    assert confirm["resumed"] is True and second.session_id == session_id
    second.say("谢谢", client_message_id="h2")
    assert "不客气" in (second.wait_for("bot_uttered"))[0]["text"]
    second.close()


def test_every_tab_of_a_session_sees_the_replies(servers: Servers) -> None:
    first = Widget(servers.rasa_url)
    first.connect()
    second = Widget(servers.rasa_url)
    second.connect(first.session_token)
    assert second.session_id == first.session_id
    first.say("谢谢", client_message_id="t1")
    assert "不客气" in first.wait_for("bot_uttered")[0]["text"]
    assert "不客气" in second.wait_for("bot_uttered")[0]["text"]
    assert second.of("message_ack") == []  # the ack is for the tab that sent it
    first.close()
    second.close()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"message": "长" * 1001}, "message_too_long"),
        ({"message": "hi", "session_id": None}, "invalid_event"),
        ("just a string", "invalid_event"),
        ({"message": "hi", "customData": "x"}, "invalid_event"),
    ],
)
def test_bad_events_get_an_error_and_no_crash(servers: Servers, data: Any, code: str) -> None:
    widget = Widget(servers.rasa_url)
    widget.connect()
    if isinstance(data, dict) and "session_id" not in data:
        data = {**data, "session_id": widget.session_id}
    widget.client.emit("user_uttered", data)
    errors = widget.wait_for("wallet_error")
    assert errors[0]["code"] == code and "长长长" not in errors[0]["message"]
    widget.client.emit("no_such_event", {"x": 1})
    assert (widget.wait_for("wallet_error", count=2))[1]["code"] == "invalid_event"
    widget.close()


def test_a_flood_is_rate_limited(servers: Servers) -> None:
    widget = Widget(servers.rasa_url)
    widget.connect()
    for i in range(25):
        widget.say("/thank", client_message_id=f"f{i}")
        time.sleep(0.02)  # one polling request per message (this test client cannot batch them)
    errors = widget.wait_for("wallet_error")
    assert errors[0]["code"] == "rate_limited"
    widget.close()


def test_a_new_session_has_an_empty_history(servers: Servers) -> None:
    widget = Widget(servers.rasa_url)
    widget.connect()
    assert widget.session_token is not None
    assert _history(servers, widget.session_token) == []
    widget.close()


def test_widget_files_are_served_and_nothing_else(servers: Servers) -> None:
    script = httpx.get(f"{servers.rasa_url}/widget/widget.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert httpx.get(f"{servers.rasa_url}/widget/vendor/socket.io.min.js").status_code == 200
    # the helpers the widget shares with the console: one ES module, served by both
    shared = httpx.get(f"{servers.rasa_url}/widget/shared.js")
    assert shared.status_code == 200 and "javascript" in shared.headers["content-type"]
    assert "export function el(" in shared.text
    assert httpx.get(f"{servers.rasa_url}/console/static/shared.js").text == shared.text
    assert httpx.get(f"{servers.rasa_url}/widget/../channels/widget.py").status_code in (400, 404)
    assert httpx.get(f"{servers.rasa_url}/widget/%2e%2e/channels/widget.py").status_code in (400, 404)
