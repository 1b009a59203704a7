"""The widget's socket.io channel and HTTP routes, against the running Rasa server."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
import socketio

from tests.servers import Servers

pytestmark = pytest.mark.server


class Widget:
    """A socket.io client that speaks the widget's protocol and records what arrives.

    The synchronous client over long-polling: python-socketio's asyncio client needs a newer
    aiohttp than Rasa 3.6 allows. The browser tests cover the websocket transport.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = socketio.Client(reconnection=False)
        self.received: list[tuple[str, Any]] = []
        self.session_id: str | None = None
        for event in ("session_confirm", "bot_uttered", "message_ack", "wallet_error"):
            self.client.on(event, self._recorder(event))

    def _recorder(self, event: str):  # type: ignore[no-untyped-def]
        def record(data: Any = None) -> None:
            self.received.append((event, data))
            if event == "session_confirm":
                self.session_id = data if isinstance(data, str) else data.get("session_id")

        return record

    def connect(self, session_id: str | None = None) -> None:
        self.client.connect(self.url, socketio_path="/socket.io", transports=["polling"])
        self.client.emit("session_request", {"session_id": session_id})
        self.wait_for("session_confirm")

    def wait_for(self, event: str, count: int = 1, timeout: float = 30) -> list[Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [d for e, d in self.received if e == event]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {event} within {timeout}s: {self.received}")

    def close(self) -> None:
        """Drop the connection without waiting for the pending long-poll to end."""
        self.client.eio.disconnect(abort=True)

    def say(self, text: str, **custom: Any) -> None:
        self.client.emit(
            "user_uttered", {"message": text, "session_id": self.session_id, "customData": custom}
        )


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
    assert len([e for e, _ in widget.received if e == "bot_uttered"]) == 1
    widget.close()


def test_the_session_persists_and_history_is_restored(servers: Servers) -> None:
    session_id = uuid.uuid4().hex
    first = Widget(servers.rasa_url)
    first.connect(session_id)
    assert first.session_id == session_id
    first.say("你好", client_message_id="h1")
    first.wait_for("bot_uttered")
    first.close()
    history = httpx.get(f"{servers.rasa_url}/widget/history", params={"session_id": session_id}).json()
    roles = [m["role"] for m in history["messages"]]
    assert roles[:2] == ["user", "bot"] and "欢迎" in history["messages"][1]["text"]
    second = Widget(servers.rasa_url)  # a reload: same session id, a new socket
    second.connect(session_id)
    second.say("谢谢", client_message_id="h2")
    assert "不客气" in (second.wait_for("bot_uttered"))[0]["text"]
    second.close()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"message": "长" * 1001, "session_id": "sessionsession"}, "message_too_long"),
        ({"message": "hi"}, "invalid_event"),
        ("just a string", "invalid_event"),
        ({"message": "hi", "session_id": "sessionsession", "customData": "x"}, "invalid_event"),
    ],
)
def test_bad_events_get_an_error_and_no_crash(servers: Servers, data: Any, code: str) -> None:
    widget = Widget(servers.rasa_url)
    widget.connect("sessionsession")
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


def test_history_needs_a_valid_session_id(servers: Servers) -> None:
    for params in ({}, {"session_id": "../etc/passwd"}, {"session_id": "x" * 500}):
        reply = httpx.get(f"{servers.rasa_url}/widget/history", params=params)
        assert reply.status_code == 400 and "passwd" not in reply.text
    unknown = httpx.get(f"{servers.rasa_url}/widget/history", params={"session_id": uuid.uuid4().hex})
    assert unknown.json() == {"messages": []}


def test_widget_files_are_served_and_nothing_else(servers: Servers) -> None:
    script = httpx.get(f"{servers.rasa_url}/widget/widget.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert httpx.get(f"{servers.rasa_url}/widget/vendor/socket.io.min.js").status_code == 200
    assert httpx.get(f"{servers.rasa_url}/widget/../channels/widget.py").status_code in (400, 404)
    assert httpx.get(f"{servers.rasa_url}/widget/%2e%2e/channels/widget.py").status_code in (400, 404)


def test_demo_token_signs_in_the_demo_user(servers: Servers) -> None:
    body = httpx.get(f"{servers.rasa_url}/widget/demo-token").json()
    assert body["name"] == "张伟" and body["token"].count(".") == 1
