"""The kept folds of bot.runtime.history give exactly Rasa's applied events and past states."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.runtime import history
from bot.runtime.trackers import fast_copy
from tests.bot.runtime.test_trackers import _conversations, _user

ROOT = Path(__file__).resolve().parents[3]
RULE_ONLY = {"slots": ["requested_slot"], "active_loops": ["complaint_form"]}
OPTIONS: list[tuple[bool, bool, Any]] = [(False, False, None), (True, False, None), (False, True, RULE_ONLY)]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@contextmanager
def stock() -> Iterator[None]:
    """Rasa's own functions, whatever another test installed."""
    patched = DialogueStateTracker.applied_events
    DialogueStateTracker.applied_events = history._original_applied_events  # type: ignore[method-assign]
    try:
        yield
    finally:
        DialogueStateTracker.applied_events = patched  # type: ignore[method-assign]


def _reference(domain: Domain, tracker: DialogueStateTracker, options: tuple[bool, bool, Any]) -> Any:
    with stock():
        return (
            [e.as_dict() for e in tracker.applied_events()],
            domain.states_for_tracker_history(tracker, *options),
        )


def _ours(domain: Domain, tracker: DialogueStateTracker, options: tuple[bool, bool, Any]) -> Any:
    return [e.as_dict() for e in history.applied_events(tracker)], history.past_states(
        tracker, domain, *options
    )


@pytest.mark.parametrize("name", sorted(_conversations()))
@pytest.mark.parametrize("options", OPTIONS, ids=["plain", "omit-unset", "rule-only"])
def test_a_growing_conversation(domain: Domain, name: str, options: tuple[bool, bool, Any]) -> None:
    """One tracker growing event by event (the folds extended), then its copies."""
    history.forget()
    tracker = DialogueStateTracker(f"grow-{name}", domain.slots)
    for event in _conversations()[name]:
        tracker.update(event)
        assert _ours(domain, tracker, options) == _reference(domain, tracker, options)
        duplicate = fast_copy(tracker)  # the processor's copy shares the events: extended too
        duplicate.update(ActionExecuted("action_listen"))
        assert _ours(domain, duplicate, options) == _reference(domain, duplicate, options)


@pytest.mark.parametrize("options", OPTIONS, ids=["plain", "omit-unset", "rule-only"])
def test_reverts_a_new_form_and_a_rebuilt_tracker_start_again(
    domain: Domain, options: tuple[bool, bool, Any]
) -> None:
    history.forget()
    events = _conversations()["reverts"]
    tracker = DialogueStateTracker.from_events("same", events[:6], domain.slots)
    assert _ours(domain, tracker, options) == _reference(domain, tracker, options)
    for event in events[6:]:  # UserUtteranceReverted, ActionReverted reach into the folded part
        tracker.update(event)
        assert _ours(domain, tracker, options) == _reference(domain, tracker, options)
    tracker.update(UserUttered("我要投诉", {"name": "complaint", "confidence": 0.9}))
    tracker.update(ActionExecuted("complaint_form"))
    tracker.update(ActiveLoop("complaint_form"))  # a form the fold had not seen
    tracker.update(SlotSet("requested_slot", "complaint_category"))
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("服务态度", {"name": "inform", "confidence": 0.9}))
    tracker.update(ActionExecuted("complaint_form"))
    assert _ours(domain, tracker, options) == _reference(domain, tracker, options)
    rebuilt = DialogueStateTracker.from_dict("same", [e.as_dict() for e in tracker.events], domain.slots)
    assert _ours(domain, rebuilt, options) == _reference(domain, rebuilt, options)  # new objects
    shorter = DialogueStateTracker.from_events("same", list(tracker.events)[:5], domain.slots)
    assert _ours(domain, shorter, options) == _reference(domain, shorter, options)


def test_returned_states_can_be_changed_by_the_caller(domain: Domain) -> None:
    history.forget()
    tracker = DialogueStateTracker.from_events("mutable", _conversations()["complaint"], domain.slots)
    first = history.past_states(tracker, domain)
    for state in first:
        for sub in state.values():
            sub.clear()  # type: ignore[attr-defined]
    assert history.past_states(tracker, domain) == _reference(domain, tracker, OPTIONS[0])[1]


def test_the_kept_folds_are_bounded(domain: Domain, monkeypatch: pytest.MonkeyPatch) -> None:
    history.forget()
    monkeypatch.setattr(history, "KEPT", 5)
    for i in range(20):
        tracker = DialogueStateTracker.from_events(f"s{i}", _conversations()["complaint"][:6], domain.slots)
        history.past_states(tracker, domain)
    assert len(history._applied) <= 5 and len(history._states) <= 5


def _as_read(states: list[Any]) -> list[Any]:
    """The states as the policies read them: the text of a message dropped where it has an
    intent (``TrackerFeaturizer._remove_user_text_if_intent``)."""
    from rasa.core.featurizers.tracker_featurizers import TrackerFeaturizer

    copied = [{name: dict(sub) for name, sub in state.items()} for state in states]
    TrackerFeaturizer._remove_user_text_if_intent([copied])
    return copied


def test_the_stores_masked_copy_extends_the_fold(domain: Domain, monkeypatch: pytest.MonkeyPatch) -> None:
    """The conversation store reads the conversation back with its personal data masked, as new
    objects (a phone number in a message, the hotline in a reply): the fold goes on from them."""
    from rasa.shared.core.events import BotUttered, deserialise_events

    from bot.tracker_store import mask_event

    history.forget()
    events = list(_conversations()["long"][:60])
    events[20] = BotUttered("客服热线：400-820-8820", timestamp=events[20].timestamp)
    events[31] = _user("我的手机号是13800138000", "inform", phone="13800138000")
    events[31].timestamp = events[30].timestamp + 0.5
    tracker = DialogueStateTracker.from_events("masked", events, domain.slots)
    for options in OPTIONS:
        history.past_states(tracker, domain, *options)
    stored = deserialise_events([mask_event(event.as_dict()) for event in events])
    assert "13800138000" not in str([e.as_dict() for e in stored])
    assert all(a is not b for a, b in zip(stored, events, strict=True))
    restarts: list[Any] = []
    fresh = history._fresh
    monkeypatch.setattr(history, "_fresh", lambda t: restarts.append(t) or fresh(t))
    read_back = DialogueStateTracker.from_events("masked", stored, domain.slots)
    read_back.update(_user("谢谢", "thank"))
    for options in OPTIONS:
        expected_events, expected = _reference(domain, read_back, options)
        found_events, found = _ours(domain, read_back, options)
        assert found_events == expected_events
        assert _as_read(found) == _as_read(expected)  # the user's own text only where it is kept
        assert found[-1] == expected[-1]
    assert restarts == []
    other = DialogueStateTracker.from_events("masked", _conversations()["complaint"], domain.slots)
    assert _ours(domain, other, OPTIONS[0]) == _reference(domain, other, OPTIONS[0])
    assert len(restarts) == 1  # another conversation under the same id: from the start


@pytest.mark.parametrize("options", OPTIONS, ids=["plain", "omit-unset", "rule-only"])
def test_a_tail_is_the_end_of_the_states(domain: Domain, options: tuple[bool, bool, Any]) -> None:
    history.forget()
    tracker = DialogueStateTracker(f"tail-{options[0]}-{options[1]}", domain.slots)
    for event in _conversations()["complaint"] + _conversations()["long"][3:30]:
        tracker.update(event)
        every = _reference(domain, tracker, options)[1]
        for tail in (1, 2, 5, 50):
            assert history.past_states(tracker, domain, *options, tail=tail) == every[-tail:]
