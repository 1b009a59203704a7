"""Starts the handoff service with the Rasa server: registered in credentials.yml as
``bot.handoff.startup.HandoffStartup`` (Rasa's way to run code in its server is a channel),
it has no routes, only the server's start and stop.

At start the service (``bot.handoff.service``: store, pools, hasher, expiry task) is installed
at ``app.ctx.handoff``; from then on the gate after each user message, the pushes of the
handoff steps and the console use it, and the expiry task runs on whichever server leads
(``bot.handoff.leader``). Without this entry there is no handoff in the server: the console
answers 503 and channels skip the gate. Settings: the HANDOFF_* environment variables.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic

from bot.handoff.service import HandoffService, handoff_service
from bot.masking import install_log_masking


class HandoffStartup(InputChannel):
    """The handoff service's start and stop, hooked to the Rasa server's."""

    @classmethod
    def name(cls) -> str:
        """The entry's name (it takes no messages)."""
        return "handoff"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> HandoffStartup:
        """The process's service, configured from the environment (validated now)."""
        install_log_masking()
        return cls(handoff_service())

    def __init__(self, service: HandoffService) -> None:
        """Bind the service; nothing starts before the server does."""
        self.service = service

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Listeners only: start the service after the server (and its Rasa agent), stop it first."""
        bp = Blueprint("handoff_service", __name__)
        service = self.service

        @bp.listener("after_server_start")
        async def start(app: Sanic, _: Any) -> None:
            await service.start(app)

        @bp.listener("before_server_stop")
        async def stop(app: Sanic, _: Any) -> None:
            await service.stop()

        return bp
