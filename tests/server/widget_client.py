"""A socket.io client that speaks the widget's protocol, for the tests of the widget channel."""

from __future__ import annotations

import time
from typing import Any

import socketio

EVENTS = ("session_confirm", "bot_uttered", "message_ack", "wallet_error")


class Widget:
    """Records what arrives; ``session_id`` and ``session_token`` follow the last confirm.

    The synchronous client over long-polling: python-socketio's asyncio client needs a newer
    aiohttp than Rasa 3.6 allows. The browser tests cover the websocket transport.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = socketio.Client(reconnection=False)
        self.received: list[tuple[str, Any]] = []
        self.session_id: str | None = None
        self.session_token: str | None = None
        for event in EVENTS:
            self.client.on(event, self._recorder(event))

    def _recorder(self, event: str):  # type: ignore[no-untyped-def]
        def record(data: Any = None) -> None:
            self.received.append((event, data))
            if event == "session_confirm":
                self.session_id = data["session_id"]
                self.session_token = data["session_token"]

        return record

    def open(self, headers: dict[str, str] | None = None) -> None:
        """Connect the socket without asking for a session."""
        self.client.connect(
            self.url, socketio_path="/socket.io", transports=["polling"], headers=headers or {}
        )

    def request_session(self, data: Any = None) -> dict[str, Any]:
        """Send a ``session_request`` and return the confirm it gets."""
        count = len(self.of("session_confirm"))
        self.client.emit("session_request", data)
        return dict(self.wait_for("session_confirm", count=count + 1)[-1])

    def connect(self, session_token: str | None = None) -> dict[str, Any]:
        """Connect and ask for the session of ``session_token`` (None: a new one)."""
        self.open()
        return self.request_session({"session_token": session_token})

    def of(self, event: str) -> list[Any]:
        """What arrived of one event, in order."""
        return [d for e, d in self.received if e == event]

    def wait_for(self, event: str, count: int = 1, timeout: float = 30) -> list[Any]:
        """At least ``count`` of ``event``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(event)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {event} within {timeout}s: {self.received}")

    def close(self) -> None:
        """Drop the connection without waiting for the pending long-poll to end."""
        self.client.eio.disconnect(abort=True)

    def say(self, text: str, session_id: str | None = None, **custom: Any) -> None:
        """A ``user_uttered`` for this socket's session (or the one given)."""
        self.client.emit(
            "user_uttered",
            {
                "message": text,
                "session_id": self.session_id if session_id is None else session_id,
                "customData": custom,
            },
        )
