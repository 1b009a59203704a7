"""A turn that cannot be completed is abandoned whole, and the user told the system is busy.

Rasa runs each action inside ``except Exception``: when the action server cannot be
reached, the action's events are dropped, the prediction loop goes on without them and the
user usually gets no reply at all; when the conversation store fails, the fail-safe store
answers with an empty conversation and the turn runs without its context. Here, while a
user message is handled (``MessageProcessor.handle_message``), such a failure raises
``TurnAbandoned``, a ``BaseException`` so that those handlers let it through; the handler
then sends ``utter_backend_busy`` and stores nothing of the turn: the conversation stays
where it was (a form keeps its answers) and the same message works once the service is back.

Failures outside a user's turn (a notice pushed to a conversation, a reminder) keep Rasa's
behaviour.
"""

from __future__ import annotations

import contextvars
import logging
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue.script import detect_script
from bot.nlg import SCRIPT_KEY

logger = logging.getLogger(__name__)
BUSY_RESPONSE = "utter_backend_busy"

_in_turn: contextvars.ContextVar[bool] = contextvars.ContextVar("wallet_in_user_turn", default=False)


class TurnAbandoned(BaseException):
    """A service the turn needs is unavailable: the whole turn is dropped (see module doc)."""

    def __init__(self, service: str, detail: str) -> None:
        """``service``: "action server" or "conversation store"; ``detail``: for the log."""
        super().__init__(f"{service} unavailable: {detail}")
        self.service = service


# Whether each conversation was paused when its latest user turn handled here was saved (the
# handoff gate reads it: only a paused conversation can be waiting for a person). Entries are
# dropped when a turn starts, so one exists only for a turn this process saved; bounded.
_PAUSED_AFTER_TURN: OrderedDict[str, bool] = OrderedDict()
_PAUSED_AFTER_TURN_SIZE = 10_000


def paused_after_turn(sender_id: str) -> bool | None:
    """Whether the conversation was paused when this process saved its latest user turn; None
    when it did not (another instance did, the turn was abandoned, or it is handled right now)."""
    return _PAUSED_AFTER_TURN.get(sender_id)


def _saved_turn(sender_id: str, paused: bool) -> None:
    _PAUSED_AFTER_TURN[sender_id] = paused
    _PAUSED_AFTER_TURN.move_to_end(sender_id)
    while len(_PAUSED_AFTER_TURN) > _PAUSED_AFTER_TURN_SIZE:
        _PAUSED_AFTER_TURN.popitem(last=False)


def in_user_turn() -> bool:
    """True while a user message is being handled (a failure then abandons the turn)."""
    return _in_turn.get()


@contextmanager
def user_turn() -> Iterator[None]:
    """Mark the code inside as handling one user message."""
    token = _in_turn.set(True)
    try:
        yield
    finally:
        _in_turn.reset(token)


async def busy_reply(processor: MessageProcessor, message: UserMessage) -> dict[str, Any] | None:
    """Send the busy reply on the message's channel, in the script the user wrote in.

    A collecting channel (REST) has delivered nothing yet: what the abandoned turn had said
    is dropped with it, so the caller gets the busy reply alone.
    """
    output = message.output_channel
    if isinstance(output, CollectingOutputChannel):
        output.messages.clear()
    tracker = DialogueStateTracker(message.sender_id or "default", processor.domain.slots)
    script = detect_script(message.text or "")
    if script:
        tracker.latest_message = UserUttered(parse_data={SCRIPT_KEY: script})  # type: ignore[typeddict-item]
    response = await processor.nlg.generate(BUSY_RESPONSE, tracker, output.name())
    if not response:
        logger.error("the domain has no %s: the abandoned turn gets no reply", BUSY_RESPONSE)
        return None
    await output.send_response(message.sender_id, response)
    return response


def install() -> None:
    """Wrap ``MessageProcessor.handle_message`` and ``save_tracker`` (Rasa 3.6.21)."""
    original = MessageProcessor.handle_message
    if getattr(original, "_wallet_turns", False):
        return
    original_save = MessageProcessor.save_tracker

    async def save_tracker(self: MessageProcessor, tracker: DialogueStateTracker) -> None:
        await original_save(self, tracker)
        if in_user_turn():
            _saved_turn(tracker.sender_id, tracker.is_paused())

    async def handle_message(self: MessageProcessor, message: UserMessage) -> list[dict[str, Any]] | None:
        _PAUSED_AFTER_TURN.pop(message.sender_id or "default", None)
        with user_turn():
            try:
                return await original(self, message)
            except TurnAbandoned as abandoned:
                logger.warning("turn abandoned, nothing of it stored: %s", abandoned)
        await busy_reply(self, message)
        if isinstance(message.output_channel, CollectingOutputChannel):
            return message.output_channel.messages
        return None

    handle_message._wallet_turns = True  # type: ignore[attr-defined]
    MessageProcessor.handle_message = handle_message  # type: ignore[method-assign]
    MessageProcessor.save_tracker = save_tracker  # type: ignore[method-assign]
