"""Leaving a message for a person: when no agent can take the conversation (outside agent
hours, nobody on duty, or the wait was too long), the request becomes a message with a ticket
in the wallet backend, and the user is told when they will hear back.

A verified user is called back on their account's registered contact: the ticket is opened at
once. An anonymous user is asked for a phone number or an e-mail address first (``message_form``;
"不留了" leaves the message without one: the agent then answers on the user's channel). The
ticket carries the kind (``message_left``), the message's reference, the channel, the bot's
masked summary and the masked contact; the handoff store links it to the message (the
console's 留言 queue), through the narrow client only.
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend.errors import BackendError
from actions.backend.idempotency import step_key
from actions.flows import handoff as handoff_flow
from actions.flows.base import backend, backend_call
from actions.flows.text import find_contact, latest_intent, user_text
from bot.dialogue.lexicon import normalize
from bot.handoff.attachment_refs import with_references
from bot.handoff.client import Handoff, HandoffError
from bot.masking import mask_text

logger = logging.getLogger(__name__)
WORDS_PATH = Path(__file__).resolve().parent.parent / "data" / "messages_left.yml"
FORM = "message_form"
SLOT = "callback_contact"
NO_CONTACT = "none:"
DECLINE_INTENTS = frozenset({"deny", "stop"})
CHANNEL_NAMES = {"socketio": "网页", "wechat": "微信", "telegram": "Telegram", "rest": "REST"}
TICKET_KIND = "message_left"


@lru_cache(maxsize=1)
def decline_words() -> tuple[frozenset[str], int]:
    """The phrases that decline to leave a contact, and how many tries a user gets."""
    data = yaml.safe_load(WORDS_PATH.read_text(encoding="utf-8")) or {}
    phrases = frozenset(normalize(str(p)) for p in data.get("decline_phrases") or [] if str(p).strip())
    if not phrases:
        raise ValueError(f"{WORDS_PATH} lacks decline_phrases")
    return phrases, int(data.get("max_attempts") or 2)


def declines(tracker: Tracker) -> bool:
    """Whether the reply refuses to leave a contact ("不留了", "不方便", a deny or a stop)."""
    phrases, _ = decline_words()
    text = normalize(user_text(tracker))
    return latest_intent(tracker) in DECLINE_INTENTS or any(p in text for p in phrases)


def ticket_summary(handoff: Handoff, contact: str | None, tracker: Tracker) -> str:
    """What the ticket says: the message's reference, channel, contact and the bot's summary, masked."""
    channel = CHANNEL_NAMES.get(handoff.channel, handoff.channel)
    parts = [f"留言编号：{handoff.reference}", f"渠道：{channel}"]
    if contact:
        parts.append(f"联系方式：{contact}")
    parts.append(handoff.summary)
    return with_references(mask_text("；".join(parts)), tracker.events)


def _contact_of(slot: Any) -> tuple[str, str | None]:
    """(kind, contact) of the slot's ``kind:value`` (``none:`` when the user left none)."""
    kind, _, value = str(slot or NO_CONTACT).partition(":")
    if kind == "sms":
        kind = "phone"
    return (kind, value) if kind in ("phone", "email") and value else ("none", None)


async def open_ticket(
    dispatcher: CollectingDispatcher, tracker: Tracker, handoff: Handoff, kind: str, contact: str | None
) -> None:
    """Open the message's ticket, link it in the handoff store and tell the user when they hear back."""
    client = handoff_flow.handoff_client()
    masked = mask_text(contact) if contact else None
    facts: dict[str, Any] = {
        "reference": handoff.reference,
        "sla_hours": client.message_sla_hours,
        "agent_hours": client.agent_hours,
    }
    try:
        ticket = await backend_call(
            backend().create_ticket,
            tracker.get_slot("account_id"),
            TICKET_KIND,
            "high" if handoff.priority == "urgent" else handoff.priority,
            ticket_summary(handoff, masked, tracker),
            idempotency_key=step_key(tracker.sender_id, "ticket:message_left", handoff.reference),
        )
    except BackendError:
        logger.warning("message left %s: the ticket could not be opened now", handoff.reference)
        dispatcher.utter_message(response="utter_message_left_ticket_busy", **facts)
        return
    try:
        await asyncio.to_thread(client.attach_ticket, handoff.id, ticket.ticket_id, masked, kind)
    except HandoffError:  # the ticket exists; the console lists the message without its number
        logger.warning("message left %s: ticket %s not linked", handoff.reference, ticket.ticket_id)
    facts["ticket_id"] = ticket.ticket_id
    if kind == "account":
        dispatcher.utter_message(response="utter_message_left_done_account", **facts)
    elif masked:
        dispatcher.utter_message(response="utter_message_left_done", contact=masked, **facts)
    else:
        dispatcher.utter_message(response="utter_message_left_done_no_contact", **facts)


async def continue_message(
    dispatcher: CollectingDispatcher, tracker: Tracker, handoff: Handoff
) -> list[EventType]:
    """After a message was left: a verified user's ticket now; an anonymous user is asked first."""
    if tracker.get_slot("account_id"):
        await open_ticket(dispatcher, tracker, handoff, "account", None)
        return []
    return [SlotSet(SLOT, None), SlotSet("form_failures", None), FollowupAction(FORM)]


class ActionMessageLeft(Action):
    """A waiting user's request expired into a message (the Rasa server triggers this)."""

    def name(self) -> str:
        """The action's name."""
        return "action_message_left"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Ask for a contact or open the ticket of the user's message left."""
        try:
            handoff = await asyncio.to_thread(
                handoff_flow.handoff_client().message_awaiting_ticket, tracker.sender_id
            )
        except HandoffError:
            logger.warning("action_message_left: the handoff store is unavailable")
            return []
        return [] if handoff is None else await continue_message(dispatcher, tracker, handoff)


class ValidateMessageForm(FormValidationAction):
    """The contact for a call back: a phone number or an e-mail address, or none."""

    def name(self) -> str:
        """The action's name."""
        return "validate_message_form"

    async def extract_callback_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The reply to "your phone or e-mail?" (only while the form asks it)."""
        if tracker.get_slot("requested_slot") != SLOT:
            return {}
        contact = find_contact(tracker)
        if contact is not None:
            return {SLOT: f"{contact[0]}:{contact[1]}", "form_failures": None}
        if declines(tracker):
            return {SLOT: NO_CONTACT, "form_failures": None}
        failures = int(tracker.get_slot("form_failures") or 0) + 1
        if failures >= decline_words()[1]:
            return {SLOT: NO_CONTACT, "form_failures": None}
        dispatcher.utter_message(response="utter_callback_contact_invalid")
        return {"form_failures": float(failures)}

    async def validate_callback_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep what extraction found."""
        return {SLOT: value}


class ActionLeaveMessage(Action):
    """The contact is known (or declined): open the message's ticket."""

    def name(self) -> str:
        """The action's name."""
        return "action_leave_message"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Open the ticket with the contact the user left."""
        reset: list[EventType] = [SlotSet(SLOT, None), SlotSet("form_failures", None)]
        try:
            handoff = await asyncio.to_thread(
                handoff_flow.handoff_client().message_awaiting_ticket, tracker.sender_id
            )
        except HandoffError:
            logger.warning("action_leave_message: the handoff store is unavailable")
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return reset
        if handoff is None:
            return reset
        kind, contact = _contact_of(tracker.get_slot(SLOT))
        await open_ticket(dispatcher, tracker, handoff, kind, contact)
        return reset
