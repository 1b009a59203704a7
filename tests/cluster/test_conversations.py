"""The cluster under normal traffic: two Rasa servers behind HAProxy on PostgreSQL and Redis.

- 50 conversations at once, each message of a conversation on the other instance than the
  one before: every reply right, nothing lost, nothing twice, each transcript in order.
- An agent on one instance talks live with a widget user whose socket is on the other, both
  ways; the console's live stream (SSE) comes through the balancer unbuffered.
- The widget's socket through the balancer: websocket from the start, and long-polling
  upgraded to a websocket (sticky); the masked events reach RabbitMQ.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from actions.backend.sandbox import SandboxBackend
from scripts.cluster_harness import RABBITMQ, wait_for
from scripts.cluster_harness import PrivateCluster as Cluster
from tests.cluster.clients import (
    COMPLAINT,
    NODE_COOKIE,
    Agent,
    SocketClient,
    Turn,
    new_sender,
    say,
    transcript,
    user_texts,
)
from tests.server.console_helpers import ensure_agents

pytestmark = [pytest.mark.server, pytest.mark.cluster]
NODES = ("rasa-1", "rasa-2")
CONVERSATIONS = 50
ARRIVAL_SECONDS = 0.04


def _complaint(client: httpx.Client, index: int) -> list[Turn]:
    # Users arrive over two seconds, not in one instant: else the last turns' 50 tickets reach
    # the sandbox backend (one SQLite file, 5 s busy timeout) in the same moment.
    time.sleep(index * ARRIVAL_SECONDS)
    sender = new_sender(f"load{index}")
    turns = []
    for step, (message, _) in enumerate(COMPLAINT):
        turns.append(say(client, sender, message, node=NODES[(index + step) % 2]))
    return turns


def test_fifty_conversations_with_every_message_on_the_other_instance(cluster: Cluster) -> None:
    limits = httpx.Limits(max_connections=CONVERSATIONS)
    with (
        httpx.Client(base_url=cluster.url, limits=limits) as client,
        ThreadPoolExecutor(CONVERSATIONS) as pool,
    ):
        results = list(pool.map(lambda i: _complaint(client, i), range(CONVERSATIONS)))
    tickets, wrong = set(), []
    for index, turns in enumerate(results):
        for step, turn in enumerate(turns):
            assert turn.status == 200, (turn.text, turn.status, turn.body)
            assert turn.node == NODES[(index + step) % 2], "the balancer did not honour the pin"
            if not COMPLAINT[step][1](turn.reply):
                wrong.append((index, step, turn.reply))
        stored = transcript(cluster.db_url, f"rest:{turns[0].sender}")
        assert user_texts(stored) == [m for m, _ in COMPLAINT], "lost, repeated or reordered"
        starts = [i for i, t in enumerate(stored) if t.kind == "user"]
        for step, position in enumerate(starts):
            end = starts[step + 1] if step + 1 < len(starts) else len(stored)
            said = "\n".join(t.text for t in stored[position + 1 : end] if t.kind == "bot")
            live_right = COMPLAINT[step][1](turns[step].reply)
            assert COMPLAINT[step][1](said) == live_right, ("stored reply out of place", step, said)
        if ticket := re.search(r"T\d{12}", turns[-1].reply):
            tickets.add(ticket[0])
    answered = CONVERSATIONS - sum(1 for _, step, _ in wrong if step == len(COMPLAINT) - 1)
    assert len(tickets) == answered, "one ticket per conversation"
    stored_tickets = {t.ticket_id for t in SandboxBackend(cluster.sandbox_db).tickets()}
    assert tickets <= stored_tickets
    assert not wrong, wrong


@pytest.fixture(scope="module")
def agents(cluster: Cluster) -> None:
    from bot.handoff.store import HandoffStore

    store = HandoffStore(cluster.db_url)
    store.create_schema()
    ensure_agents(store, ("agent_one", "小王", "agent"), ("agent_two", "老李", "agent"))
    store.close()


def _handoff_of(cluster: Cluster, sender_id: str) -> int:
    from bot.handoff.store import HandoffStore

    store = HandoffStore(cluster.db_url)
    try:
        found = [h.id for h in store.queue() if h.sender_id == sender_id]
    finally:
        store.close()
    return found[-1] if found else 0


async def _widget_on(cluster: Cluster, node: str) -> SocketClient:
    widget = SocketClient(cluster.url, cookies={NODE_COOKIE: node})
    await widget.connect_upgraded()
    assert widget.node == node
    await widget.open_session()
    return widget


@pytest.mark.parametrize(("agent_node", "widget_node"), [("rasa-1", "rasa-2"), ("rasa-2", "rasa-1")])
def test_an_agent_on_one_instance_talks_live_with_a_widget_on_the_other(
    cluster: Cluster, agents: None, agent_node: str, widget_node: str
) -> None:
    async def scenario() -> None:
        # On duty first: only agents with a live console session take handoffs.
        agent = Agent(
            cluster.instance_url(agent_node), "agent_one" if agent_node == "rasa-1" else "agent_two"
        )
        widget = await _widget_on(cluster, widget_node)
        try:
            await widget.say("转人工")
            await widget.wait_for("bot_uttered", lambda d: "人工" in str(d.get("text")))
            sender = f"widget:{widget.session_id}"
            handoff_id = await asyncio.to_thread(
                wait_for, lambda: _handoff_of(cluster, sender), 30, "the handoff request in the queue"
            )
            try:
                await asyncio.to_thread(agent.take, handoff_id)
                await widget.wait_for("bot_uttered", lambda d: "接入" in str(d.get("text")), timeout=30)
                words = f"您好，我在 {agent_node}，您在 {widget_node}"
                sent = await asyncio.to_thread(agent.send, handoff_id, words)
                assert sent["delivery"]["delivered"] is True, sent
                await widget.wait_for("bot_uttered", lambda d: words in str(d.get("text")), timeout=30)
                await widget.say("好的，我的问题是转账没到账")
                await asyncio.to_thread(
                    wait_for,
                    lambda: "好的，我的问题是转账没到账" in agent.transcript_texts(handoff_id),
                    30,
                    "the user's message in the agent's transcript",
                )
            finally:
                agent.close()
        finally:
            await widget.close()

    asyncio.run(scenario())


def test_the_console_stream_comes_through_the_balancer_unbuffered(cluster: Cluster, agents: None) -> None:
    """The agent's SSE stream (through the balancer) reports a handoff queued on another instance
    at once: a buffering proxy would hold the few bytes of the event back."""
    agent = Agent(cluster.url, "agent_two")
    events: list[str] = []
    done = threading.Event()

    def listen() -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(10, read=60)) as client,
            client.stream(
                "GET", f"{cluster.url}/console/api/events", headers={"Cookie": agent.cookie}
            ) as stream,
        ):
            assert stream.headers["content-type"].startswith("text/event-stream")
            for line in stream.iter_lines():
                events.append(line)
                if done.is_set():
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    try:
        wait_for(lambda: any(e.startswith("event: changed") for e in events), 30, "the stream's first event")
        before = len(events)
        with httpx.Client(base_url=cluster.url, timeout=90) as client:
            turn = say(client, new_sender("sse"), "转人工")
        assert turn.status == 200
        wait_for(
            lambda: any(e.startswith("event: changed") for e in events[before:]),
            30,
            "a live change in the stream",
        )
    finally:
        done.set()
        agent.close()


def test_a_websocket_only_widget_talks_through_the_balancer(cluster: Cluster) -> None:
    async def scenario() -> None:
        widget = SocketClient(cluster.url)
        await widget.connect()
        try:
            assert widget.node in NODES
            await widget.open_session()
            await widget.say("你好")
            reply = await widget.wait_for("bot_uttered")
            assert "欢迎" in reply["text"]
        finally:
            await widget.close()

    asyncio.run(scenario())


def test_long_polling_upgrades_to_a_websocket_on_the_same_instance(cluster: Cluster) -> None:
    async def scenario() -> None:
        widget = SocketClient(cluster.url)
        await widget.connect_upgraded()  # without stickiness the polls would reach the other instance
        try:
            assert widget.cookies.get(NODE_COOKIE) == widget.node
            await widget.open_session()
            await widget.say("谢谢")
            assert "不客气" in (await widget.wait_for("bot_uttered"))["text"]
        finally:
            await widget.close()

    for _ in range(4):  # both instances, whichever the balancer picks first
        asyncio.run(scenario())


def test_the_events_reach_rabbitmq_masked(cluster: Cluster) -> None:
    import aio_pika

    queue_name = cluster.event_queue or ""
    sender = new_sender("broker")

    async def purge() -> None:
        connection = await aio_pika.connect(RABBITMQ, timeout=10)
        async with connection:
            await (await (await connection.channel()).get_queue(queue_name)).purge()

    async def consume() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        connection = await aio_pika.connect(RABBITMQ, timeout=10)
        async with connection:
            queue = await (await connection.channel()).get_queue(queue_name)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not any(
                e.get("event") == "bot" and "139****5678" in str(e.get("text")) for e in found
            ):
                message = await queue.get(no_ack=True, fail=False, timeout=5)
                if message is None:
                    await asyncio.sleep(0.5)
                    continue
                event = json.loads(message.body)
                if event.get("sender_id") == f"rest:{sender}":
                    found.append(event)
        return found

    asyncio.run(purge())
    with httpx.Client(base_url=cluster.url, timeout=90) as client:
        assert say(client, sender, "我忘记密码了").status == 200
        assert "139****5678" in say(client, sender, "我的手机号是 13912345678").reply
    events = asyncio.run(consume())
    said = json.dumps(events, ensure_ascii=False)
    assert any(e.get("event") == "user" for e in events), "no event of the conversation reached RabbitMQ"
    assert "139****5678" in said and "13912345678" not in said
