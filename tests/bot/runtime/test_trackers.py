"""The tracker copy of bot.runtime.trackers equals Rasa's replay and is independent of the original."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    Event,
    FollowupAction,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.runtime.trackers import fast_copy

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def _user(text: str, intent: str, **entities: str) -> UserUttered:
    return UserUttered(
        text,
        {"name": intent, "confidence": 0.93},
        [{"entity": k, "value": v, "start": 0, "end": 1} for k, v in entities.items()],
    )


def _conversations() -> dict[str, list[Event]]:
    t = time.time() - 1000
    start = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    complaint = [
        *start,
        _user("我要投诉", "complaint"),
        ActionExecuted("complaint_form"),
        ActiveLoop("complaint_form"),
        SlotSet("requested_slot", "complaint_category"),
        BotUttered("请问您要投诉哪方面？", {"buttons": [{"title": "服务态度", "payload": "/inform"}]}),
        ActionExecuted("action_listen"),
        _user("服务态度", "inform", complaint_category="服务态度"),
        SlotSet("complaint_category", "服务态度"),
        LoopInterrupted(True),
        ActionExecuted("utter_ask_continue"),
        ActionExecuted("action_listen"),
        _user("继续", "affirm"),
        LoopInterrupted(False),
        ActionExecuted("complaint_form"),
        SlotSet("requested_slot", None),
        ActiveLoop(None),
        FollowupAction("action_listen"),
    ]
    reverts = [
        *start,
        _user("我昨天给李娜转账没成功", "transfer_failed", payee="李娜"),
        SlotSet("payee", "李娜"),
        ActionExecuted("utter_ask_phone"),
        ActionExecuted("action_listen"),
        _user("嗯", "chitchat"),
        UserUtteranceReverted(),
        ActionExecuted("action_default_fallback"),
        ActionReverted(),
        ActionExecuted("action_listen"),
    ]
    restarted = [*complaint[:10], Restarted(), *start, _user("你好", "greet")]
    long = list(start)
    for i in range(60):
        long += [
            _user(f"第{i}个问题", "ask_fee"),
            SlotSet("amount", str(i)),
            ActionExecuted("utter_fee"),
            BotUttered(f"回答{i}"),
            ActionExecuted("action_listen"),
        ]
    conversations = {"complaint": complaint, "reverts": reverts, "restarted": restarted, "long": long}
    for events in conversations.values():
        for i, event in enumerate(events):
            event.timestamp = t + i
    return conversations


def _state(tracker: DialogueStateTracker) -> dict:
    state = tracker.current_state(EventVerbosity.ALL)
    state["applied"] = [e.as_dict() for e in tracker.applied_events()]
    state["paused"] = tracker.is_paused()
    state["followup"] = tracker.followup_action
    state["loop"] = (
        None
        if tracker.active_loop is None
        else (tracker.active_loop.name, tracker.active_loop.is_interrupted, tracker.active_loop.rejected)
    )
    return state


@pytest.mark.parametrize("name", sorted(_conversations()))
def test_the_copy_is_what_rasa_replays(domain: Domain, name: str) -> None:
    events = _conversations()[name]
    for end in range(1, len(events) + 1):  # every prefix: every state a turn can copy
        tracker = DialogueStateTracker.from_events("u", events[:end], domain.slots)
        assert _state(fast_copy(tracker)) == _state(tracker.travel_back_in_time(float("inf")))


def test_the_copy_is_independent(domain: Domain) -> None:
    tracker = DialogueStateTracker.from_events("u", _conversations()["complaint"][:8], domain.slots)
    before = _state(tracker)
    duplicate = fast_copy(tracker)
    duplicate.update(SlotSet("complaint_category", "到账时间"))
    duplicate.update(LoopInterrupted(True))
    duplicate.update(ActionExecuted("action_listen"))
    duplicate.latest_action["action_name"] = "changed"  # type: ignore[index]
    assert _state(tracker) == before
    assert tracker.get_slot("complaint_category") is None
    assert duplicate.get_slot("complaint_category") == "到账时间"
    assert len(duplicate.events) == len(tracker.events) + 3


def test_rasa_copies_through_it_once_installed(domain: Domain) -> None:
    from bot import runtime

    assert runtime.install()
    tracker = DialogueStateTracker.from_events("u", _conversations()["long"], domain.slots)
    assert DialogueStateTracker.copy is fast_copy
    assert _state(tracker.copy()) == _state(tracker.travel_back_in_time(float("inf")))


def test_a_bounded_history_keeps_its_bound(domain: Domain) -> None:
    tracker = DialogueStateTracker.from_events(
        "u", _conversations()["long"], domain.slots, max_event_history=20
    )
    duplicate = fast_copy(tracker)
    duplicate.update(ActionExecuted("action_listen"))
    assert len(duplicate.events) == 20 and duplicate.events.maxlen == 20
