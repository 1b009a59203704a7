"""Actions every flow shares: offering and requesting a person, leaving a flow,
not understanding twice in a row."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend.errors import BackendError
from actions.flows.base import backend, backend_call
from bot.masking import mask_text

# Slots of the flows, cleared when the user leaves one ("算了").
FLOW_SLOTS = (
    "requested_slot",
    "identity_contact",
    "identity_code",
    "identity_account",
    "identity_channel",
    "identity_code_sent",
    "identity_masked",
    "reset_contact",
    "transaction_id",
    "tx_candidates",
    "account_field",
    "new_value",
    "new_value_masked",
    "confirm_update",
    "freeze_confirm",
    "complaint_category",
    "complaint_description",
    "complaint_time",
    "complaint_evidence",
    "form_failures",
    "flow_aborted",
)
SUMMARY_SLOTS = (
    "transaction_id",
    "ticket_id",
    "field_name",
    "reset_masked",
    "identity_contact",
    "security_case",
)


class ActionFlowCancelled(Action):
    """The user left the flow: forget its answers, say how to come back."""

    def name(self) -> str:
        """The action's name."""
        return "action_flow_cancelled"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Clear the flow's slots; verification of the user is kept."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        dispatcher.utter_message(response="utter_flow_cancelled" if intent == "stop" else "utter_switch_flow")
        return [SlotSet(slot, None) for slot in FLOW_SLOTS]


def _summary(tracker: Tracker) -> str:
    intents = [
        (e.get("parse_data") or {}).get("intent", {}).get("name")
        for e in tracker.events
        if e.get("event") == "user"
    ]
    topics = [
        i for i in intents if i and i not in ("affirm", "deny", "inform", "nlu_fallback", "request_human")
    ]
    texts = [str(e.get("text") or "") for e in tracker.events if e.get("event") == "user"][-5:]
    known = {s: tracker.get_slot(s) for s in SUMMARY_SLOTS if tracker.get_slot(s)}
    return mask_text(f"话题：{topics[-3:]}；已知：{known}；用户最近说：{' / '.join(texts)}")[:1500]


class ActionHandoff(Action):
    """Hand the conversation to a person.

    Until live handoff exists this records a callback request: a ticket with what the bot
    learned, and the hotline for anything urgent. The handoff issue replaces this action.
    """

    def name(self) -> str:
        """The action's name."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Open a callback ticket (priority from the flow), tell the user what happens next."""
        priority = tracker.get_slot("handoff_priority") or "normal"
        try:
            ticket = await backend_call(
                backend().create_ticket,
                tracker.get_slot("account_id"),
                "callback",
                priority,
                _summary(tracker),
            )
        except BackendError:
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return [SlotSet("next_step", "none")]
        dispatcher.utter_message(response="utter_handoff_callback", ticket_id=ticket.ticket_id)
        return [
            SlotSet("ticket_id", ticket.ticket_id),
            SlotSet("handoff_priority", None),
            SlotSet("next_step", "none"),
        ]


class ActionWalletFallback(Action):
    """Not understood: rephrase help; the second time in a row, offer a person."""

    def name(self) -> str:
        """The action's name."""
        return "action_wallet_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Counts the user's consecutive not-understood messages in the tracker."""
        streak = 0
        for event in reversed(tracker.events):
            if event.get("event") != "user":
                continue
            if (event.get("parse_data") or {}).get("intent", {}).get("name") != "nlu_fallback":
                break
            streak += 1
        if streak >= 2:
            dispatcher.utter_message(response="utter_default_twice")
            return [SlotSet("next_step", "offer_human")]
        dispatcher.utter_message(response="utter_default")
        return [SlotSet("next_step", "none")]
