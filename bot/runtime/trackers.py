"""``DialogueStateTracker.copy`` without replaying the session.

Rasa 3.6 copies a tracker by building a new one and applying every event of it again
(``travel_back_in_time(inf)``), and the processor copies the tracker before each action it
runs: a cost that grows with the length of the conversation on every turn. The state a
replay rebuilds is exactly the tracker's attributes, so the copy here copies them: the
event list (the events themselves are shared, as a replay shares them), each slot, the
active loop and the latest action; everything else is an immutable value or an event.
``tests/bot/runtime/test_trackers.py`` checks it against Rasa's replay on real conversations.
"""

from __future__ import annotations

import copy

from rasa.shared.core.trackers import DialogueStateTracker

_MUTABLE = ("events", "slots", "active_loop", "latest_action")


def fast_copy(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """A tracker equal to ``tracker`` and independent of it (see the module doc)."""
    duplicate = copy.copy(tracker)
    duplicate.events = tracker._create_events(list(tracker.events))
    slots = type(tracker.slots)()
    slots.update({name: copy.copy(slot) for name, slot in tracker.slots.items()})
    duplicate.slots = slots
    duplicate.active_loop = copy.copy(tracker.active_loop)
    duplicate.latest_action = dict(tracker.latest_action) if tracker.latest_action is not None else None
    return duplicate


def install() -> None:
    """Replace ``DialogueStateTracker.copy`` (Rasa 3.6.21)."""
    DialogueStateTracker.copy = fast_copy  # type: ignore[method-assign]
