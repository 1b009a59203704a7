"""The Rule policy's bounded search (bot.runtime.rules) finds exactly Rasa's applicable rules."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker

from bot.runtime import rules
from tests.bot.runtime.test_trackers import _conversations

pytestmark = pytest.mark.model
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def lookup(model_path: Path) -> dict[str, Any]:
    with tarfile.open(model_path) as archive:
        member = archive.extractfile("components/train_RulePolicy1/rule_policy.json")
        assert member is not None
        return json.load(member)["lookup"]


def _stock(lookup: dict[str, Any], states: list[Any]) -> set[str]:
    policy = SimpleNamespace()
    policy._is_rule_applicable = lambda key, index, state: RulePolicy._is_rule_applicable(
        policy, key, index, state
    )  # type: ignore[arg-type]
    policy._rule_key_to_state = RulePolicy._rule_key_to_state
    policy._does_rule_match_state = RulePolicy._does_rule_match_state
    return rules.stock_get_possible_keys(policy, lookup, states)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(_conversations()))
def test_the_same_rules_apply(lookup: dict[str, Any], name: str) -> None:
    domain = Domain.load(str(ROOT / "domain.yml"))
    events = _conversations()[name]
    compared = 0
    for end in range(1, len(events) + 1):
        tracker = DialogueStateTracker.from_events("u", events[:end], domain.slots)
        for ignore_rule_only in (False, True):
            states = domain.states_for_tracker_history(tracker, ignore_rule_only_turns=ignore_rule_only)
            for table in ("rules", "rules_for_loop_unhappy_path"):
                expected = _stock(lookup[table], states)
                assert rules.get_possible_keys(None, lookup[table], states) == expected  # type: ignore[arg-type]
                compared += len(expected)
    if name in ("complaint", "restarted"):  # conversations the trained rules know
        assert compared > 0


def test_the_walk_is_bounded(lookup: dict[str, Any]) -> None:
    longest = max(len(rules.reversed_states(key)) for key in lookup["rules"])
    assert longest <= 10
    checked: list[State] = []
    original = rules._state_applies

    def counting(rule_state: State, previous_action: Any, state: State) -> bool:
        checked.append(state)
        return original(rule_state, previous_action, state)

    rules._state_applies = counting  # type: ignore[assignment]
    try:
        listen = {"action_name": "action_listen"}
        states = [{"prev_action": listen, "user": {"intent": "greet"}} for _ in range(500)]
        rules.get_possible_keys(None, lookup["rules"], states)  # type: ignore[arg-type]
    finally:
        rules._state_applies = original  # type: ignore[assignment]
    newest = {id(state): index for index, state in enumerate(reversed(states))}
    reached = {newest[id(state)] for state in checked}
    assert checked and max(reached) < longest
    # only the rule states that name this previous action and intent (or none) are matched
    at_newest = sum(1 for state in checked if state is states[-1])
    assert 0 < at_newest < len(lookup["rules"]) / 10


def test_a_real_turn_checks_few_rule_states(lookup: dict[str, Any]) -> None:
    checked: list[State] = []
    original = rules._state_applies

    def counting(rule_state: State, previous_action: Any, state: State) -> bool:
        checked.append(state)
        return original(rule_state, previous_action, state)

    states = [
        {},
        {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "forgot_password"}},
    ]
    rules._state_applies = counting  # type: ignore[assignment]
    try:
        found = rules.get_possible_keys(None, lookup["rules"], states)  # type: ignore[arg-type]
    finally:
        rules._state_applies = original  # type: ignore[assignment]
    assert found == _stock(lookup["rules"], states)
    assert found and len(checked) < len(lookup["rules"]) / 10


def test_the_states_are_formatted_only_for_a_debug_log() -> None:
    import logging

    from bot.runtime.rules import format_tracker_states, stock_format_tracker_states

    states = [{}, {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}]
    log = logging.getLogger("rasa.core.policies.rule_policy")
    level = log.level
    try:
        log.setLevel(logging.INFO)
        assert format_tracker_states(states) == ""
        log.setLevel(logging.DEBUG)
        assert format_tracker_states(states) == stock_format_tracker_states(states)
        assert "greet" in format_tracker_states(states)
    finally:
        log.setLevel(level)
