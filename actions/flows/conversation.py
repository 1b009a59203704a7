"""Actions every flow shares: starting a flow clean, leaving one, a wrong start, an option
number that does not exist, and not understanding (a clarifying question, then a person)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.flows.hints import flow_name_of_form, flow_of_intent
from actions.flows.text import latest_intent
from bot.dialogue.reading import PROBLEM_INTENTS

# Slots of the flows, cleared when a flow starts or the user leaves one ("算了"). A valid
# verification (account_id, verified_by) is kept: it is reused, not repeated.
FLOW_SLOTS = (
    "requested_slot",
    "identity_contact",
    "identity_code",
    "identity_account",
    "identity_channel",
    "identity_code_sent",
    "identity_masked",
    "reset_contact",
    "reset_masked",
    "reset_resends",
    "transaction_id",
    "tx_candidates",
    "account_field",
    "field_name",
    "new_value",
    "new_value_masked",
    "new_value_hint",
    "confirm_update",
    "freeze_confirm",
    "security_case",
    "security_report",
    "complaint_category",
    "complaint_description",
    "complaint_time",
    "complaint_evidence",
    "ticket_id",
    "form_failures",
    "flow_aborted",
)
TOPIC_INTENTS = PROBLEM_INTENTS  # the topics a clarifying question can offer
CLARIFY_MIN_CONFIDENCE = 0.12
CANCEL_RESPONSES = {"stop": "utter_flow_cancelled", "wrong_topic": "utter_wrong_topic_cancelled"}


def clear_flow() -> list[EventType]:
    """Events that forget every flow slot."""
    return [SlotSet(slot, None) for slot in FLOW_SLOTS]


def _buttons(domain: DomainDict, response: str) -> list[dict[str, Any]]:
    variants = (domain.get("responses") or {}).get(response) or [{}]
    return [dict(b) for b in variants[0].get("buttons") or []]


class ActionStartFlow(Action):
    """A flow starts from clean slots; its name is kept for "continue?" questions."""

    def name(self) -> str:
        """The action's name."""
        return "action_start_flow"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Forget the previous flow's answers (not the verification)."""
        flow = flow_of_intent(latest_intent(tracker))
        return [*clear_flow(), SlotSet("flow_name", flow["name"] if flow else None)]


class ActionFlowCancelled(Action):
    """The user left the flow, or it was the wrong one: forget its answers, say what now."""

    def name(self) -> str:
        """The action's name."""
        return "action_flow_cancelled"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Clear the flow's slots; verification of the user is kept."""
        intent = latest_intent(tracker)
        dispatcher.utter_message(response=CANCEL_RESPONSES.get(intent, "utter_switch_flow"))
        if intent == "wrong_topic":
            dispatcher.utter_message(response="utter_topic_menu")
        return clear_flow()


class ActionAskContinueFlow(Action):
    """ "谢谢" in the middle of a form: is the user done, or should the flow go on?"""

    def name(self) -> str:
        """The action's name."""
        return "action_ask_continue_flow"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Ask, naming the flow."""
        name = tracker.get_slot("flow_name") or flow_name_of_form(tracker.active_loop.get("name"))
        dispatcher.utter_message(response="utter_ask_continue_flow", flow_name=name)
        return []


class ActionRepeatQuestion(Action):
    """An option number that does not exist ("选9"): say so and ask the question again."""

    def name(self) -> str:
        """The action's name."""
        return "action_repeat_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The question is asked again: by the form when one is active, else as it was asked
        (its response again, so that the rules that follow it still apply)."""
        asked = _latest_question(tracker)
        buttons = list((asked.get("data") or {}).get("buttons") or []) if asked else []
        if not buttons:
            dispatcher.utter_message(response="utter_no_options")
            return []
        dispatcher.utter_message(response="utter_invalid_option", option_count=len(buttons))
        if tracker.active_loop.get("name") or asked is None:
            return []
        asked_by = (asked.get("metadata") or {}).get("utter_action")
        if asked_by and _buttons(domain, str(asked_by)):  # a response with its own buttons
            return [FollowupAction(str(asked_by))]
        dispatcher.utter_message(text=asked.get("text") or "", buttons=buttons)
        return []


def _latest_question(tracker: Tracker) -> dict[str, Any] | None:
    """The bot's latest message with buttons, before the user's latest message."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif seen_user and event.get("event") == "bot" and (event.get("data") or {}).get("buttons"):
            return event
    return None


class ActionWalletFallback(Action):
    """Not understood: the two likeliest topics as a clarifying question; the second time
    in a row, a person."""

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
        pending = _pending_response(tracker, domain)
        if pending:  # a reply to a question that was not understood: the question again
            dispatcher.utter_message(
                response="utter_default_twice" if streak >= 2 else "utter_not_understood_in_flow"
            )
            return [SlotSet("next_step", "none"), FollowupAction(pending)]
        if streak >= 2:
            dispatcher.utter_message(response="utter_default_twice")
            return [SlotSet("next_step", "offer_human")]
        options = _likeliest_topics(tracker, domain)
        if len(options) == 2:
            deny = {"title": "都不是", "payload": "/deny"}
            dispatcher.utter_message(response="utter_clarify_topic", buttons=[*options, deny])
            return [SlotSet("next_step", "clarify")]
        dispatcher.utter_message(response="utter_default")
        return [SlotSet("next_step", "none")]


def _pending_response(tracker: Tracker, domain: DomainDict) -> str | None:
    """The response with buttons the bot asked just before the misunderstood reply (a question
    such as "请问这样能解决您的问题吗？"), outside forms; None for a first message or a menu."""
    if tracker.active_loop.get("name"):
        return None
    asked = _latest_question(tracker)
    name = str((asked.get("metadata") or {}).get("utter_action") or "") if asked else ""
    menus = ("utter_greet", "utter_default", "utter_out_of_scope", "utter_inform", "utter_topic_menu")
    return name if name and name not in menus and _buttons(domain, name) else None


def _likeliest_topics(tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
    """The menu buttons of the two likeliest topics, when both are plausible."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    topics = [
        r["name"]
        for r in ranking
        if r.get("name") in TOPIC_INTENTS and float(r.get("confidence") or 0) >= CLARIFY_MIN_CONFIDENCE
    ][:2]
    menu = {b.get("payload"): b for b in _buttons(domain, "utter_topic_menu")}
    return [menu[f"/{t}"] for t in topics if f"/{t}" in menu] if len(topics) == 2 else []
