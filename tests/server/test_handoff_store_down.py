"""The handoff database goes away while both servers run: the user who asks for a person hears
utter_handoff_unavailable (never silence or an error), the bot keeps answering, the console
answers 503, and the request is recorded as a message once the database is back."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.console_helpers import ensure_agents, handoff_store, login, new_sender, say
from tests.servers import Servers

pytestmark = pytest.mark.server
UNAVAILABLE = "人工客服线路正忙"


class StoreOutage:
    """Takes the servers' SQLite handoff database away (a directory stands in its place)."""

    def __init__(self, servers: Servers) -> None:
        self.path = Path(servers.handoff_db_url.removeprefix("sqlite:///"))
        self.moved: list[tuple[Path, Path]] = []

    def __enter__(self) -> StoreOutage:
        for suffix in ("", "-wal", "-shm"):
            source = self.path.with_name(self.path.name + suffix)
            if source.exists():
                target = source.with_name(source.name + ".away")
                os.rename(source, target)
                self.moved.append((source, target))
        self.path.mkdir()  # opening a directory as a database fails
        return self

    def __exit__(self, *exc: Any) -> None:
        self.path.rmdir()
        for source, target in reversed(self.moved):
            os.rename(target, source)


@pytest.fixture(scope="module")
def store(servers: Servers) -> Iterator[Any]:
    handoffs = handoff_store(servers)
    ensure_agents(handoffs, ("outage_a", "断甲", "agent"))
    yield handoffs


def test_a_request_for_a_person_while_the_store_is_down(servers: Servers, store: Any) -> None:
    agent = login(servers, "outage_a")
    first, second = new_sender(), new_sender()
    with StoreOutage(servers):
        reply = say(servers, first, "转人工")
        assert UNAVAILABLE in reply and "Traceback" not in reply
        assert "客服热线" in say(servers, first, "怎么联系客服")  # not paused: the bot still answers
        say(servers, first, "不等了")  # the gate finds the store down: still a normal answer
        down = agent.get("/api/queue")
        assert down.status_code == 503 and down.json()["error"] == "store_unavailable"
        login_down = httpx.post(
            f"{servers.rasa_url}/console/api/login",
            headers={"X-Console-Request": "1"},
            json={"username": "outage_a", "password": "whatever-123"},
        )
        assert login_down.status_code == 503
    # back: the next request works, and the one that failed is recorded as a message
    assert "排队" in say(servers, second, "转人工")
    deadline = time.monotonic() + 30
    kept = None
    while time.monotonic() < deadline:
        kept = store.latest_for(f"rest:{first}")
        if kept is not None:
            break
        time.sleep(0.5)
    assert kept is not None and kept.status == "message_left" and kept.priority == "high"
    assert agent.get("/api/queue").status_code == 200
    store.cancel(store.active_for(f"rest:{second}").id)  # leave no one waiting for later tests
