"""The trained Memoization and Rule policies predict exactly as with Rasa's own states when
given only the states they read (bot.runtime.history.prediction_states, bot.runtime.rules).

Conversations far longer than the longest rule, driven by the policies themselves: each user
turn is followed by the actions the stock policies predict, so the states are the ones a real
conversation has (rules chaining actions, a form active, slots set and unset).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot.runtime import history, rules
from tests.bot.runtime.test_trackers import _conversations, _user

pytestmark = pytest.mark.model

USER_TURNS = [
    ("你好", "greet", {}),
    ("怎么联系客服", "contact_support", {}),
    ("谢谢", "thank", {}),
    ("你是机器人吗", "bot_challenge", {}),
    ("好的", "affirm", {}),
    ("不用了", "deny", {}),
    ("我要投诉", "complaint", {}),
    ("服务态度", "inform", {"complaint_category": "服务态度"}),
    ("算了", "stop", {}),
    ("今天天气怎么样", "out_of_scope", {}),
    ("我昨天转账失败了", "transaction_failed", {"time": "昨天"}),
    ("转人工", "request_human", {}),
    ("再见", "goodbye", {}),
]


@pytest.fixture(scope="module")
def policies(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Domain, Any, Any]:
    storage, metadata = LocalModelStorage.from_model_archive(tmp_path_factory.mktemp("model"), model_path)
    context = ExecutionContext(metadata.predict_schema, metadata.model_id)
    loaded = {}
    for node in metadata.predict_schema.nodes.values():
        if node.uses in (MemoizationPolicy, RulePolicy):
            config = {**node.uses.get_default_config(), **node.config}
            loaded[node.uses] = node.uses.load(config, storage, node.resource, context)
    return metadata.domain, loaded[MemoizationPolicy], loaded[RulePolicy]


@contextmanager
def stock() -> Iterator[None]:
    """Rasa's own past states, featurizer and Rule policy states, whatever is installed."""
    saved = (
        DialogueStateTracker.applied_events,
        DialogueStateTracker.past_states,
        MaxHistoryTrackerFeaturizer.prediction_states,
        RulePolicy._prediction_states,
    )
    DialogueStateTracker.applied_events = history._original_applied_events  # type: ignore[method-assign]
    DialogueStateTracker.past_states = history._original_past_states  # type: ignore[method-assign]
    MaxHistoryTrackerFeaturizer.prediction_states = history._stock_prediction_states  # type: ignore[method-assign]
    RulePolicy._prediction_states = rules.stock_prediction_states  # type: ignore[method-assign]
    try:
        yield
    finally:
        (
            DialogueStateTracker.applied_events,
            DialogueStateTracker.past_states,
            MaxHistoryTrackerFeaturizer.prediction_states,
            RulePolicy._prediction_states,
        ) = saved  # type: ignore[method-assign]


@contextmanager
def ours() -> Iterator[None]:
    with stock():
        history.install()
        RulePolicy._prediction_states = rules.prediction_states  # type: ignore[method-assign]
        yield


def _predictions(domain: Domain, memo: Any, rule: Any, tracker: DialogueStateTracker) -> list[Any]:
    rule_only = rule._get_rule_only_data()
    found = []
    for policy in (memo, rule):
        prediction = policy.predict_action_probabilities(tracker, domain, rule_only_data=rule_only)
        found.append(
            (
                prediction.probabilities,
                prediction.events,
                prediction.hide_rule_turn,
                prediction.is_end_to_end_prediction,
                prediction.is_no_user_prediction,
            )
        )
    return found


def _best(domain: Domain, found: list[Any]) -> str:
    probabilities = max((f[0] for f in found), key=max)
    return domain.action_names_or_texts[probabilities.index(max(probabilities))]


def _drive(domain: Domain, memo: Any, rule: Any, start: list[Event], turns: int) -> int:
    """Play ``turns`` user turns after ``start``; after each, the actions the stock policies
    predict, each prediction compared with ours. The number of predictions compared."""
    history.forget()
    tracker = DialogueStateTracker.from_events("drive", start, domain.slots)
    compared = 0
    for index, (text, intent, entities) in zip(range(turns), itertools.cycle(USER_TURNS)):
        tracker.update(_user(text, intent, **entities))
        for _ in range(4):  # the actions of one turn, up to the next action_listen
            with stock():
                expected = _predictions(domain, memo, rule, tracker)
            with ours():
                assert _predictions(domain, memo, rule, tracker) == expected, (index, text)
            compared += 1
            action = _best(domain, expected)
            tracker.update(ActionExecuted(action))
            if action == "action_listen":
                break
        else:
            tracker.update(ActionExecuted("action_listen"))
    return compared


def test_a_long_conversation_is_predicted_as_by_rasa(policies: tuple[Domain, Any, Any]) -> None:
    domain, memo, rule = policies
    start = _conversations()["complaint"][:3]  # the session's start
    assert _drive(domain, memo, rule, start, 3 * len(USER_TURNS)) > 3 * len(USER_TURNS)


def test_inside_a_form_too(policies: tuple[Domain, Any, Any]) -> None:
    domain, memo, rule = policies
    in_form = _conversations()["complaint"][:10]  # the complaint form active, asking a slot
    assert _drive(domain, memo, rule, in_form, 2 * len(USER_TURNS)) > 2 * len(USER_TURNS)


def test_the_rule_policy_reads_a_bounded_number_of_states(policies: tuple[Domain, Any, Any]) -> None:
    domain, _, rule = policies
    events = list(_conversations()["complaint"][:3])
    for text, intent, entities in USER_TURNS * 3:
        events += [
            _user(text, intent, **entities),
            ActionExecuted("utter_thank"),
            ActionExecuted("action_listen"),
        ]
    tracker = DialogueStateTracker.from_events("long", events, domain.slots)
    with ours():
        states = rule._prediction_states(tracker, domain, rule_only_data=rule._get_rule_only_data())
    with stock():
        every = rule._prediction_states(tracker, domain, rule_only_data=rule._get_rule_only_data())
    assert 2 <= rules.reach(rule) <= 10
    assert len(states) == rules.reach(rule) < len(every)
    assert states == every[-len(states) :]
