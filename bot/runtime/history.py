"""A conversation's applied events and dialogue states, extended instead of recomputed.

For every prediction Rasa 3.6's Memoization and Rule policies ask the tracker for its
``past_states``: a replay of every applied event of the session, with the dialogue state
computed before each action (``Domain.states_for_tracker_history``), and the applied events
themselves are recomputed from all events each time. At turn 100 that was 46 ms of a
prediction's 60 (issue 13's profile), growing with the conversation.

Both are left-to-right folds over the events, and a conversation only grows: here each fold
is kept per conversation, with anchors (the count, and the first, middle and last element it
covered, compared by identity: a tracker's copies share their event objects), and extended
by the events added since. A fold is recomputed from the start when its anchors do not match
(another tracker, a store rebuild, a bounded history that dropped events), when an event
reverts into the folded part (the applied events then do not extend the folded ones), or when
a new form appears (``applied_events`` treats executions of forms by the forms the whole
conversation activates). ``tests/bot/runtime/test_history.py`` checks every prefix of real
conversations against Rasa's own functions.
"""

from __future__ import annotations

import itertools
import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

KEPT = 2000  # conversations whose folds are kept (the least recently used are dropped)


@dataclass
class _Anchor:
    """Where a fold over a sequence ended: its length and three of its elements."""

    count: int
    marks: tuple[tuple[int, Any], ...]

    @classmethod
    def of(cls, items: Sequence[Any]) -> _Anchor:
        count = len(items)
        positions = sorted({0, count // 2, count - 1}) if count else []
        return cls(count, tuple((i, items[i]) for i in positions))

    def extended_by(self, items: Sequence[Any]) -> bool:
        """Whether ``items`` starts with what this fold covered (the same objects)."""
        return len(items) >= self.count and all(items[i] is item for i, item in self.marks)


@dataclass
class _Applied:
    anchor: _Anchor
    applied: list[Event]
    loop_names: frozenset[str]


@dataclass
class _States:
    anchor: _Anchor  # over the applied events folded
    replay: DialogueStateTracker
    domain: Domain | None = None  # held: its id in the key is never another domain's
    states: list[State] = field(default_factory=list)
    last_ml_action: Any = None
    turn_was_hidden: bool = False


class _Kept(OrderedDict[Any, Any]):
    def recall(self, key: Any) -> Any:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def keep(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > KEPT:
            self.popitem(last=False)


_applied = _Kept()
_states = _Kept()
_original_applied_events = DialogueStateTracker.applied_events


def _loop_names(events: Sequence[Event]) -> frozenset[str]:
    return frozenset(e.name for e in events if isinstance(e, ActiveLoop) and e.name)


def _apply(
    tracker: DialogueStateTracker, event: Event, applied: list[Event], loops: frozenset[str]
) -> list[Event]:
    """One step of ``DialogueStateTracker.applied_events`` (Rasa 3.6.21), in place."""
    if isinstance(event, Restarted | SessionStarted):
        return []
    if isinstance(event, ActionReverted):
        tracker._undo_till_previous(ActionExecuted, applied)
    elif isinstance(event, UserUtteranceReverted):
        tracker._undo_till_previous(UserUttered, applied)
        tracker._undo_till_previous(ActionExecuted, applied)
    elif (
        isinstance(event, ActionExecuted)
        and event.action_name in loops
        and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
    ):
        tracker._undo_till_previous_loop_execution(event.action_name, applied)
    else:
        applied.append(event)
    return applied


def applied_events(self: DialogueStateTracker) -> list[Event]:
    """``DialogueStateTracker.applied_events``, extended from the kept fold when it can be."""
    events = self.events
    kept: _Applied | None = _applied.recall(self.sender_id)
    if kept is not None and kept.anchor.extended_by(events):
        new = list(itertools.islice(events, kept.anchor.count, None))
        if _loop_names(new) <= kept.loop_names:
            applied = list(kept.applied)
            for event in new:
                applied = _apply(self, event, applied, kept.loop_names)
            _applied.keep(self.sender_id, _Applied(_Anchor.of(events), applied, kept.loop_names))
            return list(applied)
    applied = _original_applied_events(self)
    _applied.keep(self.sender_id, _Applied(_Anchor.of(events), list(applied), _loop_names(events)))
    return applied


def _step(domain: Domain, fold: _States, hide_rule_turn: bool, options: tuple[bool, bool, Any]) -> None:
    """One step of ``Domain.states_for_tracker_history`` (Rasa 3.6.21) on ``fold.replay``."""
    omit_unset_slots, ignore_rule_only_turns, rule_only_data = options
    tracker = fold.replay
    if ignore_rule_only_turns:
        if not fold.turn_was_hidden:
            fold.last_ml_action = domain._get_prev_action_sub_state(tracker)
        if not tracker.followup_action and tracker.latest_action_name != tracker.active_loop_name:
            fold.turn_was_hidden = hide_rule_turn
        if fold.turn_was_hidden:
            return
    state = domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if fold.states:
            domain._substitute_rule_only_user_input(state, fold.states[-1])
        if fold.last_ml_action:
            state[PREVIOUS_ACTION] = fold.last_ml_action
    fold.states.append(domain._clean_state(state))


def _fresh(tracker: DialogueStateTracker) -> _States:
    return _States(_Anchor(0, ()), tracker.init_copy())


def past_states(
    self: DialogueStateTracker,
    domain: Domain,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """``DialogueStateTracker.past_states``, the fold extended from where it was kept."""
    options = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    rules = json.dumps(rule_only_data, sort_keys=True, default=str) if ignore_rule_only_turns else None
    key = (self.sender_id, id(domain), omit_unset_slots, rules)  # rule_only_data: read only if ignored
    applied = self.applied_events()
    fold: _States | None = _states.recall(key)
    if fold is None or fold.domain is not domain or not fold.anchor.extended_by(applied):
        fold = _fresh(self)
        fold.domain = domain
    for event in applied[fold.anchor.count :]:
        if isinstance(event, ActionExecuted):
            _step(domain, fold, event.hide_rule_turn, options)
        fold.replay.update(event)
    fold.anchor = _Anchor.of(applied)
    _states.keep(key, fold)
    last = _States(
        fold.anchor, fold.replay, domain, list(fold.states), fold.last_ml_action, fold.turn_was_hidden
    )
    _step(domain, last, False, options)  # the state after the last event (not kept)
    return [{name: dict(sub) for name, sub in state.items()} for state in last.states]


def forget() -> None:
    """Drop every kept fold (tests)."""
    _applied.clear()
    _states.clear()


def install() -> None:
    """Replace ``applied_events`` and ``past_states`` of ``DialogueStateTracker`` (Rasa 3.6.21)."""
    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]
    DialogueStateTracker.past_states = past_states  # type: ignore[method-assign]
