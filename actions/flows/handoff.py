"""Handing the conversation to a person: queue it (and pause the bot), or, outside agent
hours or with nobody on duty, take a message with a reference number (and a ticket, after
asking an anonymous user for a contact: ``actions.flows.messages_left``). Also the rating
the user gives after an agent resolved the conversation.

The handoff is reached through its narrow client (``bot.handoff.client``), nothing else of it.
When the handoff store is down the user hears ``utter_handoff_unavailable`` (never silence or an
error) and the request is kept on disk and recorded as a message, with raised priority, when
the store is back.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from functools import lru_cache

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.flows import messages_left
from actions.flows.text import entity_value, user_text
from bot.handoff.client import HandoffClient, HandoffError, StoreUnavailable
from bot.masking import mask_text

logger = logging.getLogger(__name__)
TOPIC_NAMES = {
    "forgot_password": "找回密码",
    "transaction_failed": "交易失败",
    "update_account_info": "修改账户信息",
    "contact_support": "联系客服",
    "account_security": "账户安全",
    "complaint": "投诉",
}
KNOWN_SLOTS = {
    "identity_contact": "已验证联系方式",
    "transaction_id": "交易单号",
    "ticket_id": "工单号",
    "field_name": "要修改的信息",
    "reset_masked": "重置链接发送至",
    "security_case": "安全情况",
    "verified_by": "身份验证方式",
}


PLUMBING = {
    "action_listen",
    "action_session_start",
    "action_extract_slots",
    "action_deactivate_loop",
    "action_handoff",
}


@lru_cache(maxsize=1)
def handoff_client() -> HandoffClient:
    """The handoff client shared by the actions (it connects on first use)."""
    return HandoffClient.from_env()


def _printable(text: str) -> str:
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C")


def topic_of(tracker: Tracker) -> str:
    """The last problem the user raised, in Chinese."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if name in TOPIC_NAMES:
                return TOPIC_NAMES[name]
    return "其他"


def summary_of(tracker: Tracker) -> str:
    """What the bot learned, masked: the topic, known facts and the user's last messages."""
    facts = [
        f"{label}：{tracker.get_slot(slot)}" for slot, label in KNOWN_SLOTS.items() if tracker.get_slot(slot)
    ]
    texts = [str(e.get("text") or "") for e in tracker.events if e.get("event") == "user"]
    said = " / ".join(t for t in texts[-5:] if t and not t.startswith("/"))
    tried = [
        str(e.get("name"))
        for e in tracker.events
        if e.get("event") == "action"
        and str(e.get("name", "")).startswith(("action_", "utter_"))
        and e.get("name") not in PLUMBING
    ]
    parts = [
        f"话题：{topic_of(tracker)}",
        *facts,
        f"用户说：{said}",
        f"已尝试：{', '.join(dict.fromkeys(tried)) or '无'}",
    ]
    return mask_text(_printable("；".join(parts)))[:1500]


class ActionHandoff(Action):
    """Queue the conversation for a person and pause the bot (or take a message)."""

    def name(self) -> str:
        """The action's name."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The user hears what happens next; the bot stays silent while a person helps."""
        client = handoff_client()
        priority = tracker.get_slot("handoff_priority") or "normal"
        channel = tracker.get_latest_input_channel() or "rest"
        topic, summary = topic_of(tracker), summary_of(tracker)
        reset = [SlotSet("handoff_priority", None), SlotSet("next_step", "none")]
        try:
            outcome = await asyncio.to_thread(
                client.request_person, tracker.sender_id, channel, priority, topic, summary
            )
        except StoreUnavailable:
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return reset
        except HandoffError:  # a request the store refuses: nothing to retry, still a polite answer
            logger.error("action_handoff: the handoff store refused the request")
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return reset
        if not outcome.queued:
            dispatcher.utter_message(
                response="utter_handoff_message_left",
                reference=outcome.reference,
                agent_hours=client.agent_hours,
            )
            try:
                left = await asyncio.to_thread(client.message_awaiting_ticket, tracker.sender_id)
            except HandoffError:
                logger.warning("action_handoff: the message left was recorded, its ticket waits")
                return reset
            return reset + (await messages_left.continue_message(dispatcher, tracker, left) if left else [])
        dispatcher.utter_message(
            response="utter_handoff_queued",
            position=max(outcome.position, 1),
            wait_minutes=client.expected_wait_minutes(outcome.position),
            buttons=[client.cancel_button()],
        )
        return [*reset, ConversationPaused()]


class ActionRecordSatisfaction(Action):
    """The one-to-five rating after an agent resolved the conversation."""

    def name(self) -> str:
        """The action's name."""
        return "action_record_satisfaction"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Store the score on the user's latest resolved handoff."""
        raw = entity_value(tracker, "satisfaction") or user_text(tracker)
        match = re.search(r"[1-5]", str(raw))
        if not match:
            dispatcher.utter_message(response="utter_rating_unclear")
            return []
        try:
            recorded = await asyncio.to_thread(handoff_client().rate, tracker.sender_id, int(match[0]))
        except HandoffError:
            logger.warning("action_record_satisfaction: the handoff store is unavailable")
            recorded = True  # thanked all the same: the user did their part
        dispatcher.utter_message(response="utter_rating_thanks" if recorded else "utter_rating_no_service")
        return []
