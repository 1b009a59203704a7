"""Helpers of the console's HTTP tests: logged-in clients, the store behind the servers.

The console's cookie is ``Secure``. Browsers send Secure cookies to http://127.0.0.1 (it is a
potentially trustworthy origin), but httpx's cookie jar sends them over https only, so a
test client carries the session token in its own ``Cookie`` header.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import delete, update

from tests.servers import REST_HEADERS, Servers

HEADERS = {"X-Console-Request": "1"}
COOKIE = "uw_console"
PASSWORD = "console-Passw0rd"


def console_client(servers: Servers, address: str | None = None, **kwargs: Any) -> httpx.Client:
    """A client of the console API (from ``address``, a loopback address such as 127.0.0.7)."""
    transport = httpx.HTTPTransport(local_address=address) if address else None
    return httpx.Client(
        base_url=f"{servers.rasa_url}/console", headers=HEADERS, timeout=30, transport=transport, **kwargs
    )


def try_login(servers: Servers, username: str, password: str, address: str | None = None) -> httpx.Response:
    """One login attempt."""
    with console_client(servers, address) as client:
        return client.post("/api/login", json={"username": username, "password": password})


def login(
    servers: Servers, username: str, password: str = PASSWORD, address: str | None = None
) -> httpx.Client:
    """A client logged in as ``username`` (fails the test otherwise)."""
    reply = try_login(servers, username, password, address)
    assert reply.status_code == 200, reply.text
    client = console_client(servers, address)
    client.headers["Cookie"] = f"{COOKIE}={reply.cookies[COOKIE]}"
    return client


def handoff_store(servers: Servers) -> Any:
    """The handoff store both servers use."""
    from bot.handoff.store import HandoffStore

    store = HandoffStore(servers.handoff_db_url)
    store.create_schema()
    return store


def ensure_agents(store: Any, *accounts: tuple[str, str, str]) -> None:
    """Add agents (username, display name, role) that are not there yet."""
    from bot.handoff.errors import Conflict

    for username, name, role in accounts:
        with contextlib.suppress(Conflict):  # already there from an earlier test
            store.add_agent(username, name, PASSWORD, role=role)


def clear_login_failures(store: Any) -> None:
    """Forget every failed login (so that one test's throttling does not lock out the next)."""
    from bot.handoff.schema import login_failures

    with store.engine.begin() as conn:
        conn.execute(delete(login_failures))


def expire_sessions(store: Any, agent_id: int) -> None:
    """Make the agent's sessions expire now, as time would."""
    from bot.handoff.db import utcnow
    from bot.handoff.schema import sessions

    with store.engine.begin() as conn:
        conn.execute(
            update(sessions)
            .where(sessions.c.agent_id == agent_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


def say(servers: Servers, sender: str, text: str) -> str:
    """One REST turn; the bot's texts."""
    reply = httpx.post(
        f"{servers.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        headers=REST_HEADERS,
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    return "\n".join(m.get("text", "") for m in reply.json())


def new_sender() -> str:
    """A fresh REST sender (the conversation is ``rest:<sender>``)."""
    return uuid.uuid4().hex
