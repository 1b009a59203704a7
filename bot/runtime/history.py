"""A conversation's applied events and dialogue states, extended instead of recomputed.

For every prediction Rasa 3.6's Memoization and Rule policies ask the tracker for its
``past_states``: a replay of every applied event of the session, with the dialogue state
computed before each action (``Domain.states_for_tracker_history``), and the applied events
themselves are recomputed from all events each time. At turn 100 that was 46 ms of a
prediction's 60 (issue 13's profile), growing with the conversation.

Both are left-to-right folds over the events, and a conversation only grows: here each fold
is kept per conversation, with anchors (the count, and the first, middle and last element it
covered, compared by identity: a tracker's copies share their event objects; or as the same
event read back masked from the conversation store, see ``_same``), and extended
by the events added since. A fold is recomputed from the start when its anchors do not match
(another tracker, a bounded history that dropped events), when an event
reverts into the folded part (the applied events then do not extend the folded ones), or when
a new form appears (``applied_events`` treats executions of forms by the forms the whole
conversation activates). ``tests/bot/runtime/test_history.py`` checks every prefix of real
conversations against Rasa's own functions.
"""

from __future__ import annotations

import json
import operator
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer, TrackerFeaturizer
from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
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
        """Whether ``items`` starts with what this fold covered (the same events)."""
        return len(items) >= self.count and all(_same(items[i], item) for i, item in self.marks)


def _same(event: Any, folded: Any) -> bool:
    """Whether ``event`` is the event that was folded, or the conversation store's copy of it.

    The store keeps (and rebuilds) a conversation with its personal data masked: an event whose
    text or values masking changed is read back as a new object, with the folded event's type,
    time, action, intent and slot name, and values that are set where they were set: what the
    policies read of it. (A past state keeps a message's text beside its intent; Rasa drops the
    text of every state that has an intent before a policy reads it, and the newest message is
    the processor's own, never a copy.) Compared by identity only, a masked hotline or phone
    number in the conversation restarted its folds every few turns (issue 13).
    """
    if event is folded:
        return True
    if type(event) is not type(folded) or not isinstance(event, Event) or event.timestamp != folded.timestamp:
        return False
    if isinstance(event, ActionExecuted):
        return bool(event.action_name == folded.action_name)
    if isinstance(event, UserUttered):
        return bool(event.intent_name == folded.intent_name)
    if isinstance(event, SlotSet):
        return bool(event.key == folded.key and (event.value is None) == (folded.value is None))
    return True


@dataclass
class _Applied:
    anchor: _Anchor
    positions: list[int]  # where each applied event is in the conversation's events
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
_original_past_states = DialogueStateTracker.past_states


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


def _positions(applied: Sequence[Event], events: Sequence[Event]) -> list[int] | None:
    """Where each applied event is in ``events``; None if an event object is there twice."""
    index = {id(event): i for i, event in enumerate(events)}
    if len(index) != len(events):
        return None
    return [index[id(event)] for event in applied]


def _picked(events: Sequence[Event], positions: Sequence[int]) -> list[Event]:
    if len(positions) > 1:
        return list(operator.itemgetter(*positions)(events))
    return [events[i] for i in positions]


def applied_events(self: DialogueStateTracker) -> list[Event]:
    """``DialogueStateTracker.applied_events``, extended from the kept fold when it can be.

    The fold keeps where the applied events are, not the events: they are taken from this
    tracker's own events, so a conversation read back from the store gives its own (masked)
    objects, exactly as Rasa's replay of it would."""
    events = self.events
    kept: _Applied | None = _applied.recall(self.sender_id)
    if kept is not None and kept.anchor.extended_by(events):
        current = list(events)
        new = current[kept.anchor.count :]
        if _loop_names(new) <= kept.loop_names:
            applied = _picked(current, kept.positions)
            positions: list[int] | None = list(kept.positions)
            for index, event in enumerate(new, start=kept.anchor.count):
                before = len(applied)
                applied = _apply(self, event, applied, kept.loop_names)
                if positions is not None and len(applied) == before + 1 and applied[-1] is event:
                    positions.append(index)
                else:  # an undo or a restart: found again
                    positions = _positions(applied, current)
            if positions is not None:
                _applied.keep(self.sender_id, _Applied(_Anchor.of(current), positions, kept.loop_names))
            return applied
    applied = _original_applied_events(self)
    current = list(events)
    positions = _positions(applied, current)
    if positions is not None:
        _applied.keep(self.sender_id, _Applied(_Anchor.of(current), positions, _loop_names(current)))
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
    tail: int | None = None,
) -> list[State]:
    """``DialogueStateTracker.past_states``, the fold extended from where it was kept; with
    ``tail``, only its last ``tail`` states (as ``slice_state_history`` slices them)."""
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
    previous = fold.states[-1:]  # what the state after the last event is computed against
    last = _States(
        fold.anchor, fold.replay, domain, list(previous), fold.last_ml_action, fold.turn_was_hidden
    )
    _step(domain, last, False, options)  # the state after the last event (not kept)
    states = (fold.states[-tail:] if tail else fold.states) + last.states[len(previous) :]
    if tail:
        states = states[-tail:]
    # copies: callers change the states they are given (the fold's own are kept as they are)
    return [{name: dict(sub) for name, sub in state.items()} for state in states]


_stock_prediction_states = MaxHistoryTrackerFeaturizer.prediction_states
REACH = "_wallet_reach"  # a featurizer attribute: how many states its policy reads at most


def prediction_states(
    self: MaxHistoryTrackerFeaturizer,
    trackers: list[DialogueStateTracker],
    domain: Domain,
    use_text_for_last_user_input: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
    ignore_action_unlikely_intent: bool = False,
) -> list[list[State]]:
    """``MaxHistoryTrackerFeaturizer.prediction_states`` (Rasa 3.6.21), only the states it keeps
    taken from the folds: the last ``max_history`` (or the ``REACH`` its policy set), instead of
    every state of the conversation copied and then sliced, a cost that grew with its length."""
    tail = self.max_history or getattr(self, REACH, None)
    if not tail or type(self)._create_states is not TrackerFeaturizer._create_states:
        return _stock_prediction_states(
            self,
            trackers,
            domain,
            use_text_for_last_user_input,
            ignore_rule_only_turns,
            rule_only_data,
            ignore_action_unlikely_intent,
        )
    trackers_as_states = []
    for tracker in trackers:
        wanted = tail
        while True:
            states = past_states(
                tracker,
                domain,
                ignore_rule_only_turns=ignore_rule_only_turns,
                rule_only_data=rule_only_data,
                tail=wanted,
            )
            kept = states
            if ignore_action_unlikely_intent:  # removed before slicing: take more until enough are left
                kept = self._remove_action_unlikely_intent_from_states(states)
            if len(kept) >= tail or len(states) < wanted:
                break
            wanted *= 2
        trackers_as_states.append(self.slice_state_history(kept, self.max_history))
    self._choose_last_user_input(trackers_as_states, use_text_for_last_user_input)
    return trackers_as_states


def forget() -> None:
    """Drop every kept fold (tests)."""
    _applied.clear()
    _states.clear()


def install() -> None:
    """Replace ``applied_events`` and ``past_states`` of ``DialogueStateTracker`` and the
    prediction states of ``MaxHistoryTrackerFeaturizer`` (Rasa 3.6.21)."""
    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]
    DialogueStateTracker.past_states = past_states  # type: ignore[method-assign]
    MaxHistoryTrackerFeaturizer.prediction_states = prediction_states  # type: ignore[method-assign]
