"""Trackers for action tests, built from the snapshots in tests/fixtures/trackers.yml."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "trackers.yml"


@lru_cache(maxsize=1)
def _snapshots() -> dict[str, Any]:
    return yaml.safe_load(FIXTURES.read_text(encoding="utf-8"))


def tracker(name: str, events: list[dict[str, Any]] | None = None, **slots: Any) -> Tracker:
    """The named snapshot; extra slots override the file's, extra events go before the message."""
    snap = _snapshots()[name]
    message = {
        "text": str(snap["text"]),
        "intent": {"name": snap["intent"], "confidence": 1.0},
        "entities": snap.get("entities") or [],
        "metadata": snap.get("metadata") or {},
    }
    if snap.get("answer"):  # how the NLU's answer reader read the reply against the question
        message["answer"] = snap["answer"]
    all_slots = {**(snap.get("slots") or {}), **slots}
    user_event = {"event": "user", "text": message["text"], "parse_data": message}
    return Tracker(
        sender_id="test-user",
        slots=all_slots,
        latest_message=message,
        events=[*(events or []), user_event],
        paused=False,
        followup_action=None,
        active_loop={"name": all_slots.get("_form")} if all_slots.get("_form") else {},
        latest_action_name="action_listen",
    )


def user_event(text: str, intent: str, entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An earlier user message, for trackers that need history."""
    parse = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or []}
    return {"event": "user", "text": text, "parse_data": parse}
