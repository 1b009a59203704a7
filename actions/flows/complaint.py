"""Flow 6, complaint: category, description, time, evidence → ticket → escalation path."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend.errors import BackendError
from actions.flows.base import WalletFormValidation, backend, backend_call
from actions.flows.hints import entity_values, flow_messages, flow_step_key
from actions.flows.text import answer_kind, entity_value, latest_intent, user_text
from bot.dialogue.lexicon import load_lexicon, normalize
from bot.dialogue.questions import Question, options_of
from bot.dialogue.reading import mentioned_option
from bot.handoff.attachment_refs import with_references
from bot.masking import mask_text

SLOTS = ("complaint_category", "complaint_description", "complaint_time", "complaint_evidence")
CATEGORY_QUESTION = "utter_ask_complaint_category"
# A first message longer than this, once the words of "I want to complain" are gone, already
# describes what happened.
MIN_DESCRIPTION_CHARS = 8
_GENERIC = ("我要投诉", "我想投诉", "我要举报", "投诉一下", "投诉", "举报", "你们", "我要", "我想", "一下")


class ValidateComplaintForm(WalletFormValidation):
    """Free answers, masked before they are kept."""

    def name(self) -> str:
        """The action's name."""
        return "validate_complaint_form"

    def _free_text(self, slot: str, tracker: Tracker) -> dict[str, Any]:
        if not self.takes_reply(tracker, slot):
            return {}
        text = user_text(tracker)
        return {slot: mask_text(text)[:1000]} if text else {}

    def _opening(self, tracker: Tracker) -> dict[str, Any] | None:
        """The flow's first message, while the form is being filled from it."""
        if tracker.get_slot("requested_slot"):
            return None
        first = flow_messages(tracker)[:1]
        return first[0] if first else None

    async def extract_complaint_category(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A category option (typed or clicked), the user's own words, or one the first
        message names ("客服态度太差")."""
        category = entity_value(tracker, "complaint_category")
        asked = tracker.get_slot("requested_slot") == "complaint_category"
        if category and (asked or not tracker.get_slot("complaint_category")):
            return {"complaint_category": str(category)}
        if asked:
            return self._free_text("complaint_category", tracker)
        opening = self._opening(tracker)
        if opening is None or tracker.get_slot("complaint_category"):
            return {}
        buttons = ((domain.get("responses") or {}).get(CATEGORY_QUESTION) or [{}])[0].get("buttons")
        question = Question(CATEGORY_QUESTION, options_of(_formatted(buttons)))
        option = mentioned_option(str(opening.get("text") or ""), question, load_lexicon())
        return {"complaint_category": option.entities["complaint_category"]} if option else {}

    async def extract_complaint_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """What happened, in the user's words (also in a first message that already says it)."""
        if tracker.get_slot("requested_slot") == "complaint_description":
            return self._free_text("complaint_description", tracker)
        opening = self._opening(tracker)
        if opening is None or tracker.get_slot("complaint_description"):
            return {}
        text = str(opening.get("text") or "")
        rest = normalize(text)
        for word in _GENERIC:
            rest = rest.replace(word, "")
        return {"complaint_description": mask_text(text)[:1000]} if len(rest) >= MIN_DESCRIPTION_CHARS else {}

    async def extract_complaint_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """When it happened (a time expression, or "不记得"; also one in the first message)."""
        if tracker.get_slot("requested_slot") == "complaint_time":
            return self._free_text("complaint_time", tracker)
        opening = self._opening(tracker)
        if opening is None or tracker.get_slot("complaint_time"):
            return {}
        times = [t for t in entity_values(opening, "time") if isinstance(t, dict) and t.get("from")]
        if not times:
            return {}
        spans = [e for e in opening.get("entities") or [] if e.get("entity") == "time"]
        text = str(opening.get("text") or "")
        surface = text[spans[0]["start"] : spans[0]["end"]] if spans and "start" in spans[0] else "见描述"
        return {
            "complaint_time": f"{surface}（{times[0]['from'][:16]} 至 {str(times[0].get('to', ''))[:16]}）"
        }

    async def extract_complaint_evidence(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """What evidence the user has (screenshots, chat records), or none."""
        asked = tracker.get_slot("requested_slot") == "complaint_evidence"
        if asked and latest_intent(tracker) == "deny" and answer_kind(tracker) != "other":
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
        if isinstance(time, dict) and time.get("from") and "（" not in str(value):
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
        summary = with_references(summary, tracker.events)  # the screenshots the user sent, if any
        try:
            ticket = await backend_call(
                backend().create_ticket,
                tracker.get_slot("account_id"),
                "complaint",
                "normal",
                summary,
                idempotency_key=flow_step_key(tracker, "ticket:complaint"),
            )
        except BackendError:
            dispatcher.utter_message(response="utter_backend_busy_write")
            return [SlotSet("next_step", "offer_human")]
        dispatcher.utter_message(response="utter_complaint_filed", ticket_id=ticket.ticket_id)
        return [
            *[SlotSet(slot, None) for slot in SLOTS],
            SlotSet("ticket_id", ticket.ticket_id),
            SlotSet("next_step", "none"),
        ]


def _formatted(buttons: Any) -> list[dict[str, Any]]:
    """Domain buttons as sent: the template's doubled braces made single."""
    return [
        {**b, "payload": str(b.get("payload", "")).replace("{{", "{").replace("}}", "}")}
        for b in buttons or []
        if isinstance(b, dict)
    ]
