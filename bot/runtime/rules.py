"""The Rule policy's search for applicable rules, stopped where no rule reaches.

For every prediction Rasa 3.6's ``RulePolicy._get_possible_keys`` filters all of its rules
(428 here) against every past state of the conversation, newest first. Once the turn index
passes a rule's length, ``_is_rule_applicable`` answers True for it: only the first
``longest rule`` states (6 here) can change the result, yet Rasa walks all of them, a cost
that grows with the conversation. Here the walk stops once the index passes the longest rule
still possible, and each rule's states are parsed and reversed once, not at every check: the
same set of keys, in a bounded number of steps.
``tests/bot/runtime/test_rules.py`` compares it with Rasa's own on real conversations. The
policy's debug rendering of all those states is built only when debug logging is on.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import State

_reversed: dict[str, tuple[State, ...]] = {}
stock_get_possible_keys = RulePolicy._get_possible_keys


def reversed_states(rule_key: str) -> tuple[State, ...]:
    """A rule's states, newest first (the keys are the trained model's: a bounded set)."""
    states = _reversed.get(rule_key)
    if states is None:
        states = tuple(reversed(json.loads(rule_key)))
        _reversed[rule_key] = states
    return states


def _applicable(rule_key: str, turn_index: int, conversation_state: State) -> bool:
    """``RulePolicy._is_rule_applicable`` (Rasa 3.6.21) on the parsed, reversed rule."""
    rule_states = reversed_states(rule_key)
    if turn_index >= len(rule_states):
        return True
    current_previous_action = conversation_state.get(PREVIOUS_ACTION)
    rule_previous_action = rule_states[turn_index].get(PREVIOUS_ACTION)
    if not rule_previous_action and not current_previous_action:
        return True
    if not rule_previous_action or not current_previous_action:
        return False
    return RulePolicy._does_rule_match_state(rule_states[turn_index], conversation_state)


def get_possible_keys(self: RulePolicy, lookup: dict[str, Any], states: list[State]) -> set[str]:
    """``RulePolicy._get_possible_keys``, stopped past the longest rule still possible."""
    possible = set(lookup.keys())
    for index, state in enumerate(reversed(states)):
        if not possible or index >= max(len(reversed_states(key)) for key in possible):
            break
        possible = {key for key in possible if _applicable(key, index, state)}
    return possible


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
    """Replace ``RulePolicy._get_possible_keys`` and its states' formatting (Rasa 3.6.21)."""
    RulePolicy._get_possible_keys = get_possible_keys  # type: ignore[method-assign]
    RulePolicy.format_tracker_states = staticmethod(format_tracker_states)  # type: ignore[method-assign, assignment]
