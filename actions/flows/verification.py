"""Asking for the one-time code: send it (once per ask), then ask; resend on "没收到"."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend.errors import BackendError, TooManyAttempts
from actions.flows.base import backend, backend_call
from actions.flows.hints import turn_step_key


async def send_code(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """Send a code to the account's registered contact; None when it could not be sent.

    For an unknown contact nothing is sent, but the reply is the same as for a known one,
    so that the conversation never reveals whether an account exists.
    """
    account_id = tracker.get_slot("identity_account")
    masked = tracker.get_slot("identity_contact")
    channel = tracker.get_slot("identity_channel") or "sms"
    if account_id is None and tracker.get_slot("account_id"):  # signed in: registered contact
        account_id = tracker.get_slot("account_id")
        channel = "email" if tracker.get_slot("account_field") == "email" else "sms"
    try:
        if account_id:
            key = turn_step_key(tracker, "send_code", account_id, channel)
            delivery = await backend_call(backend().send_code, account_id, channel, idempotency_key=key)
            masked = delivery.masked_destination
    except TooManyAttempts:
        dispatcher.utter_message(response="utter_code_send_limit")
        dispatcher.utter_message(response="utter_offer_human_in_flow")
        return None
    except BackendError:
        dispatcher.utter_message(response="utter_backend_busy")
        return None
    dispatcher.utter_message(response="utter_ask_identity_code", identity_masked=masked or "")
    return [SlotSet("identity_code_sent", True), SlotSet("identity_masked", masked)]


class ActionAskIdentityCode(Action):
    """The only place the bot asks for a code."""

    def name(self) -> str:
        """The action's name."""
        return "action_ask_identity_code"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """First ask: send, then ask; later asks only ask again."""
        if tracker.get_slot("identity_code_sent"):
            dispatcher.utter_message(
                response="utter_ask_identity_code_again", identity_masked=tracker.get_slot("identity_masked")
            )
            return []
        return await send_code(dispatcher, tracker) or []


class ActionResendCode(Action):
    """ "没收到" while the code is asked for: send a new one (the backend limits sends)."""

    def name(self) -> str:
        """The action's name."""
        return "action_resend_code"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Tips, then a new code."""
        dispatcher.utter_message(response="utter_code_not_received_tips")
        events = await send_code(dispatcher, tracker)
        return events or []
