"""Clients of the cluster for its tests: REST conversations with known replies, the stored
transcript, the console, and a socket.io client over a real websocket.

The socket.io client speaks Engine.IO 4 / Socket.IO 5 itself over ``websockets`` (python-socketio's
asyncio client needs a newer aiohttp than Rasa 3.6 allows, and its sync client has no
websocket transport here): an open packet, ``40`` to join the namespace, ``2``/``3`` ping-pong,
``42[event, data]`` messages; or a long-polling handshake upgraded to a websocket
(``2probe``/``3probe``/``5``), which only works when every request reaches the same instance.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from sqlalchemy import create_engine, text

from tests.server.console_helpers import HEADERS, PASSWORD
from tests.servers import REST_HEADERS

NODE_COOKIE = "WALLET_NODE"
NODE_HEADER = "x-wallet-node"

# A complaint: five turns, each answer depends on what the conversation holds (the form's
# requested slot), so a lost, repeated or reordered message shows in the replies.
COMPLAINT: list[tuple[str, Callable[[str], bool]]] = [
    ("我要投诉你们", lambda reply: "哪方面" in reply),
    ("服务态度", lambda reply: "描述" in reply),
    ("客服态度很差，还挂了我的电话", lambda reply: "什么时候" in reply),
    ("昨天下午", lambda reply: "证据" in reply),
    ("没有", lambda reply: re.search(r"T\d{12}", reply) is not None and "12315" in reply),
]
SMALL_TALK = ["你好", "谢谢", "怎么联系客服"]
BUSY = "系统繁忙"  # utter_backend_busy: a turn abandoned because a service was down


@dataclass
class Turn:
    """One REST request and what came of it."""

    sender: str
    text: str
    status: int
    node: str | None
    reply: str
    started: float
    elapsed: float
    body: Any = None

    @property
    def busy(self) -> bool:
        """Answered with the polite busy reply: the turn was abandoned, nothing of it stored."""
        return self.status == 200 and BUSY in self.reply

    @property
    def answered(self) -> bool:
        """Answered and handled (stored)."""
        return self.status == 200 and not self.busy


def say(
    client: httpx.Client, sender: str, message: str, node: str | None = None, timeout: float = 90
) -> Turn:
    """One turn on the REST webhook through ``client`` (the balancer), pinned to ``node``."""
    cookies = {NODE_COOKIE: node} if node else None
    started = time.monotonic()
    try:
        response = client.post(
            "/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            headers=REST_HEADERS,
            cookies=cookies,
            timeout=timeout,
        )
    except httpx.HTTPError as error:
        return Turn(sender, message, 0, None, type(error).__name__, started, time.monotonic() - started)
    body: Any = None
    reply = ""
    if "json" in response.headers.get("content-type", ""):
        body = response.json()
        if isinstance(body, list):
            reply = "\n".join(str(m.get("text", "")) for m in body)
    return Turn(
        sender, message, response.status_code, response.headers.get(NODE_HEADER), reply, started,
        time.monotonic() - started, body,
    )  # fmt: skip


def new_sender(tag: str) -> str:
    """A fresh REST sender (its conversation is ``rest:<sender>``)."""
    return f"{tag}-{uuid.uuid4().hex[:16]}"


@dataclass
class StoredTurn:
    """An event of the stored transcript that a person sees."""

    kind: str  # user or bot
    text: str


def transcript(db_url: str, conversation_id: str) -> list[StoredTurn]:
    """The user and bot messages of a conversation as stored (masked), in order; every stored
    event must be valid JSON of the kind its row says."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                {"s": conversation_id},
            ).all()
    finally:
        engine.dispose()
    turns = []
    for type_name, data in rows:
        event = json.loads(data)
        assert event["event"] == type_name, f"corrupted event row in {conversation_id}: {type_name}"
        if type_name in ("user", "bot"):
            turns.append(StoredTurn(type_name, str(event.get("text") or "")))
    return turns


def user_texts(turns: list[StoredTurn]) -> list[str]:
    return [t.text for t in turns if t.kind == "user"]


class Agent:
    """An agent logged in to the console at ``base`` (an instance, or the balancer)."""

    def __init__(self, base: str, username: str) -> None:
        login = httpx.post(
            f"{base}/console/api/login",
            json={"username": username, "password": PASSWORD},
            headers=HEADERS,
            timeout=30,
        )
        assert login.status_code == 200, login.text
        self.base = base
        self.cookie = f"uw_console={login.cookies['uw_console']}"
        self.client = httpx.Client(
            base_url=f"{base}/console", headers={**HEADERS, "Cookie": self.cookie}, timeout=30
        )

    def take(self, handoff_id: int) -> dict[str, Any]:
        reply = self.client.post(f"/api/conversations/{handoff_id}/take")
        assert reply.status_code == 200, reply.text
        return dict(reply.json())

    def send(self, handoff_id: int, message: str) -> dict[str, Any]:
        reply = self.client.post(f"/api/conversations/{handoff_id}/messages", json={"text": message})
        assert reply.status_code == 201, reply.text
        return dict(reply.json())

    def transcript_texts(self, handoff_id: int) -> list[str]:
        reply = self.client.get(f"/api/conversations/{handoff_id}/transcript")
        assert reply.status_code == 200, reply.text
        return [str(m.get("text", "")) for m in reply.json()["messages"]]

    def close(self) -> None:
        self.client.close()


@dataclass
class SocketClient:
    """A widget's socket over a websocket: what arrived, by event, in order."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    received: list[tuple[str, Any]] = field(default_factory=list)
    node: str | None = None
    session_id: str | None = None
    session_token: str | None = None
    _ws: Any = None
    _reader: asyncio.Task[None] | None = None

    def _ws_url(self, sid: str | None = None) -> str:
        url = self.base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        return url + (f"&sid={sid}" if sid else "")

    def _headers(self) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {"Cookie": cookie} if cookie else {}

    async def connect(self) -> None:
        """A websocket from the start (no long-polling, no stickiness needed)."""
        self._ws = await websockets.connect(self._ws_url(), extra_headers=self._headers(), open_timeout=30)
        self.node = self._ws.response_headers.get(NODE_HEADER)
        opened = await asyncio.wait_for(self._ws.recv(), 30)
        assert str(opened).startswith("0{"), opened
        await self._ws.send("40")
        await self._expect_connect()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def connect_upgraded(self) -> None:
        """Long-polling first (handshake and namespace), then the upgrade to a websocket."""
        async with httpx.AsyncClient(base_url=self.base, timeout=30, cookies=self.cookies) as http:
            handshake = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
            assert handshake.status_code == 200, handshake.text
            self.cookies.update({k: v for k, v in http.cookies.items()})
            self.node = handshake.headers.get(NODE_HEADER)
            sid = json.loads(handshake.text[1:])["sid"]
            params = {"EIO": "4", "transport": "polling", "sid": sid}
            joined = await http.post("/socket.io/", params=params, content="40")
            assert joined.status_code == 200, joined.text
            polled = await http.get("/socket.io/", params=params)
            assert polled.status_code == 200 and "40{" in polled.text, polled.text
        self._ws = await websockets.connect(self._ws_url(sid), extra_headers=self._headers(), open_timeout=30)
        await self._ws.send("2probe")
        assert await asyncio.wait_for(self._ws.recv(), 30) == "3probe"
        await self._ws.send("5")
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _expect_connect(self) -> None:
        while True:
            packet = str(await asyncio.wait_for(self._ws.recv(), 30))
            if packet == "2":
                await self._ws.send("3")
                continue
            assert packet.startswith("40"), packet
            return

    async def _read(self) -> None:
        async for packet in self._ws:
            packet = str(packet)
            if packet == "2":
                await self._ws.send("3")
            elif packet.startswith("42"):
                event, *data = json.loads(packet[2:])
                self.received.append((event, data[0] if data else None))
                if event == "session_confirm":
                    self.session_id = data[0]["session_id"]
                    self.session_token = data[0]["session_token"]

    async def emit(self, event: str, data: Any) -> None:
        await self._ws.send("42" + json.dumps([event, data], ensure_ascii=False))

    def of(self, event: str) -> list[Any]:
        return [d for e, d in self.received if e == event]

    async def wait_for(
        self, event: str, check: Callable[[Any], bool] = lambda d: True, timeout: float = 60
    ) -> Any:
        """The first ``event`` whose data passes ``check``; fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for data in self.of(event):
                if check(data):
                    return data
            if self._reader is not None and self._reader.done():
                raise AssertionError(f"the socket closed; received {self.received}")
            await asyncio.sleep(0.05)
        raise AssertionError(f"no matching {event} within {timeout:.0f} s: {self.received}")

    async def open_session(self) -> str:
        await self.emit("session_request", {"session_token": None})
        confirm = await self.wait_for("session_confirm")
        return str(confirm["session_id"])

    async def say(self, message: str) -> None:
        await self.emit(
            "user_uttered",
            {
                "message": message,
                "session_id": self.session_id,
                "customData": {"client_message_id": uuid.uuid4().hex},
            },
        )

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
