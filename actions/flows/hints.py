"""What the user said since the current flow started, for filling a form without asking twice.

A flow starts with ``action_start_flow`` right after the user's first message about it;
every user message from that one on is a hint (the transaction's time, amount and payee,
the field and its new value, the complaint's category and time).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker

FLOWS_FILE = Path(__file__).resolve().parent.parent / "data" / "flows.yml"
START_ACTION = "action_start_flow"
# Messages that answered the identity step are not hints about the flow's subject.
_IDENTITY_SLOTS = frozenset({"identity_contact", "identity_code"})
_MAX_EVENTS = 600  # a flow is never longer than this


@lru_cache(maxsize=1)
def flows_data() -> dict[str, Any]:
    """The flows file (read on first use)."""
    return dict(yaml.safe_load(FLOWS_FILE.read_text(encoding="utf-8")))


def flow_of_intent(intent: str | None) -> dict[str, str] | None:
    """The flow an intent starts (form and name), if any."""
    flow = flows_data()["flows"].get(intent or "")
    return dict(flow) if flow else None


def flow_name_of_form(form: str | None) -> str:
    """How the bot names the flow of a form ("投诉登记")."""
    for flow in flows_data()["flows"].values():
        if flow["form"] == form:
            return str(flow["name"])
    return "当前的办理"


def flow_messages(tracker: Tracker) -> list[dict[str, Any]]:
    """Parse data of the user's messages since the flow started, oldest first; identity
    answers left out."""
    messages: list[dict[str, Any]] = []
    started = False
    for count, event in enumerate(reversed(tracker.events)):
        if count > _MAX_EVENTS:
            break
        if event.get("event") == "action" and event.get("name") == START_ACTION:
            started = True
            continue
        if event.get("event") != "user":
            continue
        parse = dict(event.get("parse_data") or {})
        parse.setdefault("text", event.get("text"))
        if (parse.get("answer") or {}).get("slot") not in _IDENTITY_SLOTS:
            messages.append(parse)
        if started:
            break
    if not started:  # no flow start on record: only the latest message counts
        messages = messages[:1]
    return messages[::-1]


def entity_values(parse: dict[str, Any], name: str) -> list[Any]:
    """The values of one entity type in a message's parse data."""
    return [e.get("value") for e in parse.get("entities") or [] if e.get("entity") == name]


def after_marker(text: str) -> str | None:
    """The words after "改成"/"换成"… ("把昵称改成小李吧" → "小李吧"), or None."""
    markers = sorted(flows_data()["new_value_markers"], key=len, reverse=True)
    pattern = re.compile("(?:" + "|".join(map(re.escape, markers)) + r")\s*[:：]?\s*(.+)$")
    match = pattern.search(text)
    return match[1].strip(" 。.!！~～吧") if match else None


def _latest_timestamp(tracker: Tracker, event_kind: str, name: str | None = None) -> float:
    for event in reversed(tracker.events):
        if event.get("event") == event_kind and (name is None or event.get("name") == name):
            return float(event.get("timestamp") or 0.0)
    return 0.0


def flow_step_key(tracker: Tracker, step: str, *parts: object) -> str:
    """The idempotency key of a write done once per flow (a freeze, a ticket, a change): the
    same flow asking again is replayed by the backend, a new flow does it anew."""
    from actions.backend.idempotency import step_key

    return step_key(tracker.sender_id, step, _latest_timestamp(tracker, "action", START_ACTION), *parts)


def turn_step_key(tracker: Tracker, step: str, *parts: object) -> str:
    """The idempotency key of a write done once per user message (sending a code or a link:
    "没收到" is a new message, so a resend is a new write)."""
    from actions.backend.idempotency import step_key

    return step_key(tracker.sender_id, step, _latest_timestamp(tracker, "user"), *parts)
