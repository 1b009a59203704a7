"""How the widget's socket.io servers reach each other's sockets.

Embedded default: python-socketio's in-process manager (one server, its own sockets). With
``SOCKETIO_REDIS_URL`` set (the cluster), python-socketio's Redis manager: every emit to a
session's room is published on a Redis channel (``SOCKETIO_REDIS_CHANNEL``) that every Rasa
server listens on, so an agent's reply sent by any instance reaches the user's socket on
whichever instance holds it (the load balancer keeps each socket on one instance).

A publish that fails is remembered for the emitting task (``emit_reached``), so a push can be
reported to the agent as not delivered instead of silently lost.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

import socketio

logger = logging.getLogger(__name__)
DEFAULT_CHANNEL = "united-wallet-widget"
REDIS_OPTIONS = {"socket_connect_timeout": 5, "socket_keepalive": True}

_publish_failed: contextvars.ContextVar[bool] = contextvars.ContextVar("widget_publish_failed", default=False)


class RedisBus(socketio.AsyncRedisManager):  # type: ignore[misc]
    """python-socketio's Redis manager, noting a publish that failed (it retries once, then
    logs and gives up without telling the caller)."""

    async def _publish(self, data: Any) -> Any:
        sent = await super()._publish(data)
        if sent is None:  # upstream gave up
            _publish_failed.set(True)
        return sent


def client_manager(redis_url: str | None, channel: str = DEFAULT_CHANNEL) -> socketio.AsyncManager | None:
    """The Redis manager for ``redis_url``; None (the in-process default) without one."""
    if not redis_url:
        return None
    logger.info("widget channel: sockets shared across instances through Redis (channel %s)", channel)
    return RedisBus(redis_url, channel=channel, redis_options=dict(REDIS_OPTIONS))


async def emit_reached(sio: socketio.AsyncServer, event: str, data: Any, room: str) -> bool:
    """Emit to a room; False when the message could not be published to the other instances."""
    marker = _publish_failed.set(False)
    try:
        await sio.emit(event, data, room=room)
        return not _publish_failed.get()
    finally:
        _publish_failed.reset(marker)
