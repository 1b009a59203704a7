"""Flow 5, security: the five tips; theft, unknown transactions or a lost phone →
offer to freeze, a priority security ticket and a priority person."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend.errors import BackendError
from actions.flows.base import CONTROL_INTENTS, WalletFormValidation, backend, backend_call
from actions.flows.hints import flow_messages, flow_step_key
from actions.flows.text import contains_secret, latest_intent, user_text, yes_or_no
from bot.handoff.attachment_refs import with_references
from bot.masking import mask_text

WORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "security_incidents.yml"


@lru_cache(maxsize=1)
def incident_words() -> tuple[str, ...]:
    """The words that mark an incident (read on first use)."""
    data = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    return tuple(str(word).lower() for word in data["incident_words"])


def asks_to_freeze(text: str) -> bool:
    """ "帮我冻结账户" (not "先不冻结")."""
    start = text.find("冻结")
    return start >= 0 and not any(ch in "不别没未" for ch in text[max(0, start - 2) : start])


def declines_freeze(text: str) -> bool:
    """ "暂不冻结" / "先不冻结了" / "别冻结"."""
    start = text.find("冻结")
    return start >= 0 and any(ch in "不别" for ch in text[max(0, start - 2) : start])


def is_incident(text: str) -> bool:
    """Suspected theft, unknown transaction, phishing or a lost phone."""
    lowered = text.lower()
    return any(word in lowered for word in incident_words())


class ActionSecurityTriage(Action):
    """Advice, or an incident that needs the account frozen."""

    def name(self) -> str:
        """The action's name."""
        return "action_security_triage"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Warn about a typed secret; tips for advice; the freeze offer for an incident."""
        text = user_text(tracker)
        if contains_secret(text):
            dispatcher.utter_message(response="utter_secret_warning")
        if is_incident(text):
            dispatcher.utter_message(response="utter_security_incident")
            return [SlotSet("security_case", "incident"), SlotSet("security_report", mask_text(text)[:300])]
        dispatcher.utter_message(response="utter_account_security")
        return [SlotSet("security_case", "advice")]


class ValidateSecurityForm(WalletFormValidation):
    """Freeze or not; identity only when freezing."""

    identity_required = True

    def name(self) -> str:
        """The action's name."""
        return "validate_security_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """A user who does not want to freeze does not need to prove identity."""
        if tracker.get_slot("freeze_confirm") is False:
            return ["freeze_confirm"]
        return await super().required_slots(domain_slots, dispatcher, tracker, domain)

    async def extract_freeze_confirm(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """ "立即冻结" / "好" / "暂不冻结" / "不用"; or "帮我冻结" in the first message."""
        asked = tracker.get_slot("requested_slot") == "freeze_confirm"
        if (
            not asked
            and tracker.get_slot("freeze_confirm") is None
            and not tracker.get_slot("requested_slot")
        ):
            first = flow_messages(tracker)[:1]
            return (
                {"freeze_confirm": True} if first and asks_to_freeze(str(first[0].get("text") or "")) else {}
            )
        if not asked and tracker.get_slot("freeze_confirm") and declines_freeze(user_text(tracker)):
            return {"freeze_confirm": False}  # changed their mind while asked to prove identity
        if not asked or latest_intent(tracker) in CONTROL_INTENTS:
            return {}
        answer = yes_or_no(tracker)
        return {} if answer is None else {"freeze_confirm": answer}

    async def validate_freeze_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Yes or no from the buttons or the words."""
        return {"freeze_confirm": bool(value), "form_failures": 0.0}


class ActionSecuritySubmit(Action):
    """Freeze (when asked and verified), open an urgent security ticket, offer a person."""

    def name(self) -> str:
        """The action's name."""
        return "action_security_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The ticket is opened whether or not the account was frozen."""
        account_id = tracker.get_slot("account_id")
        freeze = tracker.get_slot("freeze_confirm") is True and bool(account_id)
        if tracker.get_slot("flow_aborted"):
            return [SlotSet("next_step", "offer_human"), SlotSet("freeze_confirm", None)]
        report = tracker.get_slot("security_report") or "安全事件"
        summary = f"安全事件（{'已冻结账户' if freeze else '未冻结'}）：{report}"
        summary = with_references(summary, tracker.events)  # the images the user sent, if any
        try:
            if freeze:
                key = flow_step_key(tracker, "freeze", account_id)
                await backend_call(backend().freeze_account, account_id, report, idempotency_key=key)
            ticket = await backend_call(
                backend().create_ticket,
                account_id,
                "security",
                "urgent",
                summary,
                idempotency_key=flow_step_key(tracker, "ticket:security", freeze),
            )
        except BackendError:
            dispatcher.utter_message(response="utter_backend_busy_write")
            return [SlotSet("next_step", "offer_human")]
        dispatcher.utter_message(
            response="utter_security_frozen" if freeze else "utter_security_not_frozen",
            ticket_id=ticket.ticket_id,
        )
        return [
            SlotSet("ticket_id", ticket.ticket_id),
            SlotSet("freeze_confirm", None),
            SlotSet("handoff_priority", "urgent"),
            SlotSet("next_step", "offer_human"),
        ]
