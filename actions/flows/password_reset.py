"""Flow 1, forgot password: registered phone or e-mail → reset link or SMS → the four steps.

The answer is the same whether or not an account exists; no password is ever asked for.
The contact the link is (re)sent to is kept sealed in ``reset_contact`` (``actions/sealed.py``):
the stored transcript never holds it in plain text.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend.errors import BackendUnavailable, InvalidRequest, TooManyAttempts
from actions.flows.base import WalletFormValidation, backend, backend_call
from actions.flows.hints import turn_step_key
from actions.flows.text import find_contact, mask_contact
from actions.sealed import opened, seal, unseal

CHANNEL_NAMES = {"sms": "短信", "email": "邮件"}
CONTACT_NAMES = {"sms": "手机号", "email": "邮箱"}
MAX_RESENDS = 2


class ValidatePasswordResetForm(WalletFormValidation):
    """Asks for the registered contact of the account whose password is to be reset."""

    def name(self) -> str:
        """The action's name."""
        return "validate_password_reset_form"

    async def extract_reset_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A phone or e-mail in the message (also in the first one: "我用 138… 注册的")."""
        if tracker.get_slot("requested_slot") != "reset_contact":
            contact = find_contact(tracker)
            return {"reset_contact": f"{contact[0]}:{contact[1]}"} if contact else {}
        return self.contact_answer("reset_contact", tracker)

    async def validate_reset_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept a mainland mobile number or an e-mail address; keep it sealed."""
        channel, _, contact = opened(value).partition(":")
        if channel not in CHANNEL_NAMES or not contact:
            return self.invalid(dispatcher, tracker, "reset_contact", "utter_invalid_contact")
        return {
            "reset_contact": seal(f"{channel}:{contact}"),
            "reset_masked": mask_contact(channel, contact),
            "form_failures": 0.0,
        }


def reset_contact(tracker: Tracker) -> str | None:
    """The contact of the reset link (``sms:139…`` / ``email:…``), opened from its sealed slot."""
    _, _, contact = (unseal(tracker.get_slot("reset_contact")) or "").partition(":")
    return contact or None


async def _send(dispatcher: CollectingDispatcher, tracker: Tracker, response: str) -> list[EventType]:
    contact = reset_contact(tracker)
    if not contact:
        return [SlotSet("next_step", "none")]
    try:
        key = turn_step_key(tracker, "send_password_reset", contact)
        delivery = await backend_call(backend().send_password_reset, contact, idempotency_key=key)
    except TooManyAttempts:
        dispatcher.utter_message(response="utter_reset_send_limit")
        return [SlotSet("next_step", "offer_human")]
    except (BackendUnavailable, InvalidRequest):
        dispatcher.utter_message(response="utter_backend_busy")
        return [SlotSet("next_step", "offer_human")]
    dispatcher.utter_message(
        response=response,
        reset_masked=delivery.masked_destination,
        channel_name=CHANNEL_NAMES.get(delivery.channel, "短信"),
        contact_name=CONTACT_NAMES.get(delivery.channel, "手机号"),
    )
    return [SlotSet("reset_masked", delivery.masked_destination), SlotSet("next_step", "ask_received")]


class ActionSendPasswordReset(Action):
    """Submit of the form: send the link, then the article's four steps."""

    def name(self) -> str:
        """The action's name."""
        return "action_send_password_reset"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Send through the backend; the reply only shows the masked destination."""
        return [SlotSet("reset_resends", 0.0), *await _send(dispatcher, tracker, "utter_reset_sent")]


class ActionResetNotReceived(Action):
    """ "没收到": where to look, then offer to send again (or a person after the resends)."""

    def name(self) -> str:
        """The action's name."""
        return "action_reset_not_received"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Tips first; a resend while under the limit, otherwise a person."""
        if not reset_contact(tracker):
            dispatcher.utter_message(response="utter_not_received_no_context")
            return [SlotSet("next_step", "none")]
        resends = int(tracker.get_slot("reset_resends") or 0)
        if resends >= MAX_RESENDS:
            dispatcher.utter_message(response="utter_reset_not_received_again")
            return [SlotSet("next_step", "offer_human")]
        dispatcher.utter_message(
            response="utter_reset_not_received", reset_masked=tracker.get_slot("reset_masked")
        )
        return [SlotSet("next_step", "ask_resend")]


class ActionResendPasswordReset(Action):
    """Send the reset link again to the same contact (the backend enforces the limit)."""

    def name(self) -> str:
        """The action's name."""
        return "action_resend_password_reset"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Resend and count it."""
        resends = int(tracker.get_slot("reset_resends") or 0) + 1
        return [
            SlotSet("reset_resends", float(resends)),
            *await _send(dispatcher, tracker, "utter_reset_resent"),
        ]
