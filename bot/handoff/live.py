"""The console's live updates (server-sent events), as a loop independent of HTTP.

Every round first asks whether the agent's session is still live; when it has expired or
was ended (logout, agent disabled, password replaced) the stream says ``session_ended`` and
stops, and when the store cannot tell it says ``unavailable`` and stops (it fails closed).
Otherwise it sends ``changed`` when the handoffs' version or a visible conversation changed
(its transcript: a message, an image; or the recorded outcome of a push), and a comment line
as a keep-alive.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from bot.handoff.errors import StoreUnavailable

SESSION_ENDED = "event: session_ended\ndata: {}\n\n"
UNAVAILABLE = "event: unavailable\ndata: {}\n\n"
PING = ": ping\n\n"


@dataclass(frozen=True)
class Snapshot:
    """What one round saw: the handoffs' version and, for each visible conversation, a value
    that changes whenever it does (its event count, say); only equality is compared."""

    version: int
    counts: dict[int, Hashable] = field(default_factory=dict)


Poll = Callable[[], Awaitable["Snapshot | None"]]
Send = Callable[[str], Awaitable[Any]]


def changed_event(version: int, conversations: list[int]) -> str:
    """The ``changed`` event for these conversations."""
    return f"event: changed\ndata: {json.dumps({'version': version, 'conversations': conversations})}\n\n"


async def stream_changes(
    send: Send,
    poll: Poll,
    *,
    interval: float = 1.0,
    ping_seconds: float = 15.0,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> str:
    """Send changes until the session ends; returns why it ended (``session_ended``, ``unavailable``).

    Args:
        send: writes one event to the stream.
        poll: checks the session and takes a snapshot; None when the session is no longer live.
        interval: seconds between rounds (the session is checked every round).
        ping_seconds: idle seconds before a keep-alive comment.
        sleep: how to wait (tests pass a fast one).
    """
    version, idle = -1, 0.0
    counts: dict[int, Hashable] = {}
    while True:
        try:
            snapshot = await poll()
        except StoreUnavailable:
            await send(UNAVAILABLE)
            return "unavailable"
        if snapshot is None:
            await send(SESSION_ENDED)
            return "session_ended"
        changed = [i for i, count in snapshot.counts.items() if counts.get(i) != count]
        counts = dict(snapshot.counts)
        if snapshot.version != version or changed:
            version = snapshot.version
            await send(changed_event(version, changed))
            idle = 0.0
        elif idle >= ping_seconds:
            await send(PING)
            idle = 0.0
        await sleep(interval)
        idle += interval
