"""The closed-loop harness over Rasa's REST channel (``POST /webhooks/rest/webhook``): each of
``concurrency`` users runs conversations back to back, one turn waiting for the previous answer,
until the phase's time or message cap; every turn is checked and timed. Also the readiness probe
(the first answered message) and one long conversation, turn by turn."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from scripts.bench_conversations import Script
from scripts.bench_stats import Summary, Turn, summarize

WEBHOOK = "/webhooks/rest/webhook"
REQUEST_TIMEOUT = 60.0


@dataclass(frozen=True)
class Endpoint:
    """Where a bot answers: its base URL (127.0.0.1 only) and the REST channel's headers."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Load goes to this machine only."""
        if not self.url.startswith(("http://127.0.0.1:", "http://localhost:")):
            raise ValueError("the benchmark only loads 127.0.0.1")


def check_reply(status: int, body: object, failures: Sequence[str] = ()) -> str:
    """What is wrong with an answer (``""``: nothing): not 200, not a list of messages, no
    message with content, or a text that is a failure in disguise (``failures``)."""
    if status != 200:
        return f"HTTP {status}"
    if not isinstance(body, list):
        return "not a list of messages"
    contents = [m for m in body if isinstance(m, dict) and any(m.get(k) for k in _CONTENT)]
    if not contents:
        return "empty reply"
    for message in contents:
        text = str(message.get("text") or "")
        for failure in failures:
            if failure in text:
                return f"reply says {failure}"
    return ""


_CONTENT = ("text", "image", "buttons", "custom", "attachment")


async def say(
    client: httpx.AsyncClient, endpoint: Endpoint, sender: str, text: str, failures: Sequence[str] = ()
) -> Turn:
    """One turn, timed and checked; a transport error or timeout is a turn with status 0."""
    started = time.monotonic()
    try:
        reply = await client.post(
            endpoint.url + WEBHOOK, json={"sender": sender, "message": text}, headers=endpoint.headers
        )
    except httpx.HTTPError as error:
        return Turn(started, time.monotonic() - started, 0, type(error).__name__, text)
    seconds = time.monotonic() - started
    try:
        body: object = reply.json()
    except ValueError:
        body = None
    return Turn(started, seconds, reply.status_code, check_reply(reply.status_code, body, failures), text)


def new_sender(tag: str) -> str:
    """A fresh conversation id."""
    return f"bench-{tag}-{uuid.uuid4().hex[:12]}"


async def closed_loop(
    endpoint: Endpoint, script: Script, concurrency: int, duration: float, max_messages: int
) -> tuple[Summary, list[Turn]]:
    """``concurrency`` users, each running the script's conversations back to back (a new
    sender each), until ``duration`` seconds or ``max_messages`` turns were started; users
    arrive over the first second. The summary and every turn."""
    turns: list[Turn] = []
    started_count = 0
    deadline = time.monotonic() + duration

    def may_send() -> bool:
        return time.monotonic() < deadline and started_count < max_messages

    async def user(client: httpx.AsyncClient, index: int) -> None:
        nonlocal started_count
        await asyncio.sleep(min(1.0, index / max(concurrency, 1)))
        round_ = 0
        while may_send():
            conversation = script.conversations[(index + round_ * concurrency) % len(script.conversations)]
            sender = new_sender(f"c{concurrency}")
            for text in conversation:
                if not may_send():
                    break
                started_count += 1
                turns.append(await say(client, endpoint, sender, text, script.failures))
            round_ += 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT) as client:
        began = time.monotonic()
        await asyncio.gather(*(user(client, i) for i in range(concurrency)))
        seconds = time.monotonic() - began
    return summarize(turns, seconds, concurrency), turns


async def long_conversation(endpoint: Endpoint, script: Script, turns: int, duration: float) -> list[Turn]:
    """One conversation of ``turns`` turns (the script's long cycle, repeated), stopped early
    at ``duration`` seconds."""
    sender = new_sender("long")
    deadline = time.monotonic() + duration
    done: list[Turn] = []
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        for index in range(turns):
            if time.monotonic() > deadline:
                break
            text = script.long_cycle[index % len(script.long_cycle)]
            done.append(await say(client, endpoint, sender, text, script.failures))
    return done


def wait_ready(
    endpoint: Endpoint, script: Script, started: float, alive: Callable[[], bool], timeout: float
) -> float:
    """Seconds from ``started`` (the process's start, monotonic) until the REST channel answers
    a first message with a real reply.

    Raises:
        RuntimeError: the process exited, or no answer within ``timeout`` seconds.
    """
    sender = new_sender("ready")
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        while time.monotonic() - started < timeout:
            if not alive():
                raise RuntimeError("the server exited while starting")
            try:
                reply = client.post(
                    endpoint.url + WEBHOOK,
                    json={"sender": sender, "message": script.probe},
                    headers=endpoint.headers,
                )
                if not check_reply(reply.status_code, reply.json()):
                    return time.monotonic() - started
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer a first message within {timeout:.0f} s")
