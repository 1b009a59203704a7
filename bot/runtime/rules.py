"""The Rule policy's search for applicable rules, stopped where no rule reaches.

For every prediction Rasa 3.6's ``RulePolicy._get_possible_keys`` filters all of its rules
(428 here) against every past state of the conversation, newest first. Once the turn index
passes a rule's length, ``_is_rule_applicable`` answers True for it: only the first
``longest rule`` states (6 here) can change the result, yet Rasa walks all of them, a cost
that grows with the conversation. Here the walk stops once the index passes the longest rule
still possible, and each rule's states are parsed and reversed once, not at every check: the
same set of keys, in a bounded number of steps. And the rules are grouped once per lookup by
the state they expect at each step (306 distinct of 428 at the newest step, 209, 114, … further
back), indexed by the previous action and intent those states name: a rule state naming
another action or intent than the conversation's cannot match, so only the groups naming the
conversation's own (or none) are matched, each once.
``tests/bot/runtime/test_rules.py`` compares it with Rasa's own on real conversations. The
policy's debug rendering of all those states is built only when debug logging is on.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER
from rasa.shared.core.domain import State
from rasa.shared.nlu.constants import ACTION_NAME, INTENT

from bot.runtime.history import REACH

_reversed: dict[str, tuple[State, ...]] = {}
stock_get_possible_keys = RulePolicy._get_possible_keys


def reversed_states(rule_key: str) -> tuple[State, ...]:
    """A rule's states, newest first (the keys are the trained model's: a bounded set)."""
    states = _reversed.get(rule_key)
    if states is None:
        states = tuple(reversed(json.loads(rule_key)))
        _reversed[rule_key] = states
    return states


_Group = tuple[State, Any, frozenset[str]]  # (the expected state, its previous action, the rules)
_Key = tuple[Any, Any]  # (previous action's name, user intent); None where the rule names none


@dataclass(frozen=True)
class _Step:
    """The rules long enough to reach one step back, grouped by the state they expect there."""

    # rules expecting no previous action: they apply exactly when the conversation has none
    without_previous: tuple[_Group, ...]
    # the others, by the previous action and intent they name: a rule naming another action or
    # intent than the conversation's cannot match, so only four keys' groups are ever checked
    by_key: dict[_Key, tuple[_Group, ...]]
    reaching: frozenset[str]


@dataclass(frozen=True)
class _Steps:
    """A lookup's rules, step by step back from the newest state."""

    keys: frozenset[str]
    length: dict[str, int]
    steps: tuple[_Step, ...]


_steps: dict[int, tuple[Any, _Steps]] = {}


def _named(sub_state: Any, name: str) -> Any:
    """What a rule's sub-state requires of ``name``, None when it requires no particular value."""
    value = sub_state.get(name) if isinstance(sub_state, dict) else None
    return value if isinstance(value, str) and value and value != SHOULD_NOT_BE_SET else None


def _step(lookup: dict[str, Any], length: dict[str, int], step: int) -> _Step:
    by_state: dict[str, tuple[State, set[str]]] = {}
    for key in lookup:
        if length[key] > step:
            state = reversed_states(key)[step]
            by_state.setdefault(json.dumps(state, sort_keys=True), (state, set()))[1].add(key)
    without: list[_Group] = []
    by_key: dict[_Key, list[_Group]] = {}
    for state, keys in by_state.values():
        previous = state.get(PREVIOUS_ACTION)
        group = (state, previous, frozenset(keys))
        if not previous:
            without.append(group)
        else:
            names = (_named(previous, ACTION_NAME), _named(state.get(USER), INTENT))
            by_key.setdefault(names, []).append(group)
    reaching = frozenset(k for k in lookup if length[k] > step)
    return _Step(tuple(without), {k: tuple(v) for k, v in by_key.items()}, reaching)


def _steps_of(lookup: dict[str, Any]) -> _Steps:
    """The grouping of a lookup, built once (a trained policy's lookup does not change)."""
    cached = _steps.get(id(lookup))
    if cached is not None and cached[0] is lookup:
        return cached[1]
    length = {key: len(reversed_states(key)) for key in lookup}
    steps = tuple(_step(lookup, length, step) for step in range(max(length.values(), default=0)))
    grouped = _Steps(frozenset(lookup), length, steps)
    _steps[id(lookup)] = (lookup, grouped)
    return grouped


def _state_applies(rule_state: State, rule_previous_action: Any, conversation_state: State) -> bool:
    """``RulePolicy._is_rule_applicable`` (Rasa 3.6.21) for a rule whose state at this step is
    ``rule_state`` (a rule shorter than the step applies: it is in no group of that step)."""
    current_previous_action = conversation_state.get(PREVIOUS_ACTION)
    if not rule_previous_action and not current_previous_action:
        return True
    if not rule_previous_action or not current_previous_action:
        return False
    return RulePolicy._does_rule_match_state(rule_state, conversation_state)


def _candidates(step: _Step, conversation_state: State) -> list[_Group]:
    """The groups of a step that can apply to the conversation's state; every other fails."""
    previous = conversation_state.get(PREVIOUS_ACTION)
    if not previous:
        return list(step.without_previous)
    name = _named(previous, ACTION_NAME)
    intent = _named(conversation_state.get(USER), INTENT)
    keys = {(None, None), (name, None), (None, intent), (name, intent)}
    return [group for key in keys for group in step.by_key.get(key, ())]


def get_possible_keys(self: RulePolicy, lookup: dict[str, Any], states: list[State]) -> set[str]:
    """``RulePolicy._get_possible_keys``, stopped past the longest rule still possible, with
    each distinct rule state that can match checked once per step."""
    grouped = _steps_of(lookup)
    possible = set(grouped.keys)
    for index, state in enumerate(reversed(states)):
        if not possible or index >= max(grouped.length[key] for key in possible):
            break
        step = grouped.steps[index]
        applying = possible - step.reaching  # shorter rules apply whatever the state
        for rule_state, rule_previous_action, keys in _candidates(step, state):
            if not possible.isdisjoint(keys) and _state_applies(rule_state, rule_previous_action, state):
                applying |= keys & possible
        possible = applying
    return possible


def reach(self: RulePolicy) -> int:
    """How many of the newest states the policy's rules read at most: its longest rule."""
    lookups = [self.lookup.get(RULES) or {}, self.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH) or {}]
    return max(1, *(len(_steps_of(lookup).steps) for lookup in lookups))


stock_prediction_states = RulePolicy._prediction_states


def prediction_states(
    self: RulePolicy,
    tracker: Any,
    domain: Any,
    use_text_for_last_user_input: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """``RulePolicy._prediction_states`` with the states bounded by the longest rule.

    Rasa gives the Rule policy every state of the conversation: its featurizer has no
    ``max_history``. A rule of n states is checked against the newest n (a rule longer than the
    conversation against all it has), so the newest ``reach`` states give the same applicable
    rules; past them the policy only used the states for the source it reports when no rule
    applies, a key that then names no rule either way. The featurizer
    (``bot.runtime.history.prediction_states``) takes that many from the folds.
    """
    setattr(self.featurizer, REACH, reach(self))
    states: list[State] = stock_prediction_states(
        self, tracker, domain, use_text_for_last_user_input, rule_only_data
    )
    return states


stock_format_tracker_states = RulePolicy.format_tracker_states
_rule_policy_log = logging.getLogger(RulePolicy.__module__)


def format_tracker_states(states: list[State]) -> str:
    """``Policy.format_tracker_states``, only when it is logged: its one caller (the Rule
    policy, before every search) formats every past state of the conversation for a debug
    log line, whatever the log level, a cost that grows with the conversation."""
    if _rule_policy_log.isEnabledFor(logging.DEBUG):
        return str(stock_format_tracker_states(states))
    return ""


def install() -> None:
    """Replace ``RulePolicy._get_possible_keys``, its prediction states and their formatting
    (Rasa 3.6.21)."""
    RulePolicy._get_possible_keys = get_possible_keys  # type: ignore[method-assign]
    RulePolicy._prediction_states = prediction_states  # type: ignore[method-assign]
    RulePolicy.format_tracker_states = staticmethod(format_tracker_states)  # type: ignore[method-assign, assignment]
