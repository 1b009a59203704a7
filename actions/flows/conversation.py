"""Actions every flow shares: offering and requesting a person, leaving a flow,
not understanding twice in a row."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

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
