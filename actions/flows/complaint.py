"""Flow 6, complaint: category, description, time, evidence → ticket → escalation path."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend.errors import BackendError
from actions.flows.base import CONTROL_INTENTS, WalletFormValidation, backend, backend_call
from actions.flows.text import entity_value, latest_intent, user_text
from bot.masking import mask_text

SLOTS = ("complaint_category", "complaint_description", "complaint_time", "complaint_evidence")


class ValidateComplaintForm(WalletFormValidation):
    """Free answers, masked before they are kept."""

    def name(self) -> str:
        """The action's name."""
        return "validate_complaint_form"

    def _free_text(self, slot: str, tracker: Tracker) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != slot or latest_intent(tracker) in CONTROL_INTENTS:
            return {}
        text = user_text(tracker)
        return {slot: mask_text(text)[:1000]} if text else {}

    async def extract_complaint_category(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A button title or the user's own words."""
        return self._free_text("complaint_category", tracker)

    async def extract_complaint_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """What happened, in the user's words."""
        return self._free_text("complaint_description", tracker)

    async def extract_complaint_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """When it happened (a time expression, or "不记得")."""
        return self._free_text("complaint_time", tracker)

    async def extract_complaint_evidence(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """What evidence the user has (screenshots, chat records), or none."""
        if tracker.get_slot("requested_slot") == "complaint_evidence" and latest_intent(tracker) == "deny":
            return {"complaint_evidence": "无"}
        return self._free_text("complaint_evidence", tracker)

    async def validate_complaint_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A description needs a few words to be useful."""
        if len(str(value).strip()) < 4:
            return self.invalid(dispatcher, tracker, "complaint_description", "utter_complaint_too_short")
        return {"complaint_description": value, "form_failures": 0.0}

    async def validate_complaint_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Keep the words; add the normalized range when there is one."""
        time = entity_value(tracker, "time")
        if isinstance(time, dict) and time.get("from"):
            return {"complaint_time": f"{value}（{time['from'][:16]} 至 {str(time.get('to', ''))[:16]}）"}
        return {"complaint_time": value}


class ActionSubmitComplaint(Action):
    """Open the complaint ticket and explain the escalation path."""

    def name(self) -> str:
        """The action's name."""
        return "action_submit_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The ticket summary holds the four answers (already masked)."""
        values = {slot: tracker.get_slot(slot) for slot in SLOTS}
        if not all(values.values()):
            return [SlotSet("next_step", "none")]
        summary = mask_text(
            "；".join(
                f"{label}：{values[slot]}"
                for label, slot in zip(("类别", "描述", "时间", "证据"), SLOTS, strict=True)
            )
        )
        try:
            ticket = await backend_call(
                backend().create_ticket, tracker.get_slot("account_id"), "complaint", "normal", summary
            )
        except BackendError:
            dispatcher.utter_message(response="utter_backend_busy")
            return [SlotSet("next_step", "offer_human")]
        dispatcher.utter_message(response="utter_complaint_filed", ticket_id=ticket.ticket_id)
        return [
            *[SlotSet(slot, None) for slot in SLOTS],
            SlotSet("ticket_id", ticket.ticket_id),
            SlotSet("next_step", "none"),
        ]
