"""The identity check run inside the Rasa server instead of over HTTP.

``action_check_identity`` is the custom slot mapping of ``account_id`` (domain.yml), so Rasa
calls it on the action server for every user message, before anything else: a round trip
that serialises the whole conversation (``tracker.current_state``: 125 KB at turn 100), sends
it, has the action server parse it and build its own tracker, and validates the answer, for
a check that reads four slots, the sender and the message's token and does no I/O. Here the
same function (``actions.flows.identity.identity_events``, the one the action server runs)
is called in the Rasa server's process on a tracker view holding just what it reads, with
the same settings (``IDENTITY_SECRET``, ``IDENTITY_CODE_IDLE_SECONDS``, read from the Rasa
server's environment as the action server reads them, and nothing else of the action server's
settings; a bad value stops the Rasa server at start, ``bot.server``). Its answer goes
through Rasa's own event parsing (``deserialise_events``), as the action server's would.

Every other custom action still runs on the action server, and so does this one under stock
``rasa run`` (the action server keeps it registered): the result is the same either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker

from actions.flows.identity import ActionCheckIdentity, identity_events
from actions.settings import identity_settings


def sdk_view(tracker: DialogueStateTracker) -> Tracker:
    """The action SDK's tracker with what the identity check reads: the slots, the sender and
    the latest message's metadata (no events: it reads none)."""
    message = tracker.latest_message
    metadata = message.metadata if message is not None else {}
    return Tracker(
        sender_id=tracker.sender_id,
        slots=tracker.current_slot_values(),
        latest_message={"metadata": metadata or {}},
        events=[],
        paused=tracker.is_paused(),
        followup_action=None,
        active_loop=tracker.active_loop or {},
        latest_action_name=tracker.latest_action_name,
    )


def check_identity(tracker: DialogueStateTracker) -> list[Event]:
    """``action_check_identity`` of the action server, in this process."""
    secret, idle_seconds = identity_settings()
    found = identity_events(sdk_view(tracker), secret, idle_seconds, time.time())
    return deserialise_events([dict(event) for event in found])


LOCAL: dict[str, Callable[[DialogueStateTracker], list[Event]]] = {
    ActionCheckIdentity().name(): check_identity,
}


def install() -> None:
    """Run the actions of ``LOCAL`` here whenever Rasa would call the action server for them."""
    original_run = RemoteAction.run
    if getattr(original_run, "_wallet_local", False):
        return

    async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> Any:
        local = LOCAL.get(self.name())
        if local is None:
            return await original_run(self, output_channel, nlg, tracker, domain)
        return local(tracker)

    run._wallet_local = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[method-assign]
