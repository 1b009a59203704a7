"""What every guided form shares: identity by token or one-time code, counting of
failed answers (the second in a row offers a person), and the password warning.

The identity slots (``identity_contact``, ``identity_code``) are listed in the forms
that need them; a user signed in with a valid widget token skips them, except where a
fresh code is required (changing account data).
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.backend.calls import call_backend
from actions.backend.errors import BackendError, BackendUnavailable, TooManyAttempts
from actions.backend.factory import get_backend, get_settings
from actions.backend.interface import WalletBackend
from actions.flows.hints import after_marker, flow_messages
from actions.flows.identity import token_events
from actions.flows.text import (
    answer_kind,
    contact_in,
    contains_secret,
    find_code,
    find_contact,
    latest_intent,
    looks_like_contact_attempt,
    mask_contact,
    user_text,
)

T = TypeVar("T")

# Intents that leave, pause or redirect a flow; a structured slot is not filled from them
# unless the text really contains a value, so the form's rules can answer them.
CONTROL_INTENTS = frozenset({"stop", "request_human"})
INTERRUPTING_INTENTS = CONTROL_INTENTS | {
    "not_received",
    "contact_support",
    "bot_challenge",
    "out_of_scope",
    "greet",
    "thank",
    "goodbye",
    "forgot_password",
    "transaction_failed",
    "update_account_info",
    "account_security",
    "complaint",
    "wrong_topic",
    "invalid_option",
    "nlu_fallback",
}
IDENTITY_SLOTS = ("identity_contact", "identity_code")
# Slots an extractor sets beside the one it extracts; kept although no form requires them.
COMPANION_SLOTS = frozenset({"tx_candidates", "new_value_hint", "form_failures"})
MAX_UNKNOWN_CODE_ATTEMPTS = 3


async def backend_call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call the configured backend with the action server's time limit."""
    return await call_backend(get_settings().call_timeout, function, *args, **kwargs)


def backend() -> WalletBackend:
    """The configured wallet backend."""
    return get_backend()


def offer_human_inline(dispatcher: CollectingDispatcher) -> None:
    """Offer a person inside a form (buttons: 转人工 / 继续)."""
    dispatcher.utter_message(response="utter_offer_human_in_flow")


class WalletFormValidation(FormValidationAction):
    """Base of the flows' form validation actions."""

    identity_required: ClassVar[bool] = False
    fresh_code_required: ClassVar[bool] = False

    @abstractmethod
    def name(self) -> str:
        """The validation action's name (``validate_<form>``); abstract, so rasa-sdk skips the base."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Trust a valid identity token first, warn about typed secrets, then validate."""
        events: list[dict[str, Any]] = token_events(tracker, get_settings().identity_secret)
        tracker.add_slots(events)
        if tracker.get_slot("requested_slot") != "identity_code" and contains_secret(user_text(tracker)):
            dispatcher.utter_message(response="utter_secret_warning")
        return events + list(await super().run(dispatcher, tracker, domain))

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """The form's slots, without the identity step a verified user does not need."""
        slots = list(domain_slots)
        if tracker.get_slot("account_id"):
            skip = ("identity_contact",) if self.fresh_code_required else IDENTITY_SLOTS
            slots = [s for s in slots if s not in skip]
        return slots

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Validate the slots set since the user spoke, as rasa-sdk does, with two differences:
        a slot set to None (cleared when a flow starts) is not an answer to validate, and the
        companions the extractors set (``tx_candidates``, ``new_value_hint``…), which rasa-sdk
        drops for not being required, are kept."""
        required = set(await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain))
        candidates = tracker.slots_to_validate()
        result: dict[str, Any] = {}
        for name, value in candidates.items():
            if name in COMPANION_SLOTS and name not in required:
                result.setdefault(name, value)
                continue
            if name not in required:
                continue
            validate = getattr(self, f"validate_{name}", None)
            if value is None or validate is None:
                result[name] = value
                continue
            output = await validate(value, dispatcher, tracker, domain)
            if isinstance(output, dict):
                result.update(output)
                tracker.slots.update(output)
        return slot_events(result)

    # --- shared helpers --------------------------------------------------------
    def wants_out(self, tracker: Tracker) -> bool:
        """The message is a control or topic change, not an answer to the question."""
        return (
            answer_kind(tracker) in ("other", "invalid_option")
            or latest_intent(tracker) in INTERRUPTING_INTENTS
        )

    def takes_reply(self, tracker: Tracker, slot: str) -> bool:
        """The latest message answers the question of ``slot`` (as the NLU read it against the
        question), so a free-text slot may take its words."""
        if tracker.get_slot("requested_slot") != slot:
            return False
        answer = tracker.latest_message.get("answer") or {}
        if answer:
            return answer.get("kind") in ("answer", "option")
        return not self.wants_out(tracker)

    async def after_verification(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, account_id: str
    ) -> dict[str, Any]:
        """Slots the flow can fill as soon as the user is verified, from what they said before
        (overridden by the flows: the transaction they described, the new value they gave)."""
        return {}

    def invalid(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, response: str, **variables: Any
    ) -> dict[str, Any]:
        """Explain why an answer is not valid; the second failure in a row offers a person."""
        dispatcher.utter_message(response=response, **variables)
        failures = int(tracker.get_slot("form_failures") or 0) + 1
        if failures >= 2:
            offer_human_inline(dispatcher)
        return {slot: None, "form_failures": float(failures)}

    @staticmethod
    def busy(dispatcher: CollectingDispatcher, slot: str) -> dict[str, Any]:
        """The backend is down or slow: say so, keep what was collected, ask again later."""
        dispatcher.utter_message(response="utter_backend_busy")
        return {slot: None}

    @staticmethod
    def abort(dispatcher: CollectingDispatcher, response: str, **variables: Any) -> dict[str, Any]:
        """Stop the form (the flow cannot go on) and offer a person."""
        dispatcher.utter_message(response=response, **variables)
        dispatcher.utter_message(response="utter_offer_human")
        return {"requested_slot": None, "flow_aborted": True}

    # --- identity: contact ----------------------------------------------------
    async def extract_identity_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the phone or e-mail typed when it was asked for, or given in the flow's first
        message ("我转账失败了，手机号 138…"; not a new value: "改成 139…")."""
        if tracker.get_slot("requested_slot") == "identity_contact":
            return self.contact_answer("identity_contact", tracker)
        if tracker.get_slot("identity_contact") or tracker.get_slot("account_id"):
            return {}
        first = flow_messages(tracker)[:1]
        if not first or first[0].get("text") != tracker.latest_message.get("text"):
            return {}
        if after_marker(str(first[0].get("text") or "")):
            return {}
        contact = contact_in(first[0])
        return {"identity_contact": f"{contact[0]}:{contact[1]}"} if contact else {}

    def contact_answer(self, slot: str, tracker: Tracker) -> dict[str, Any]:
        """The answer to "your phone or e-mail?" as ``channel:contact`` (or the text, to be
        refused with an explanation); nothing when the user asked something else instead."""
        text = user_text(tracker)
        if self.wants_out(tracker) and not looks_like_contact_attempt(text):
            return {}
        contact = find_contact(tracker)
        return {slot: f"{contact[0]}:{contact[1]}" if contact else text[:200] or "?"}

    async def validate_identity_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Look the account up; keep only the masked contact in the conversation."""
        channel, _, contact = str(value).partition(":")
        if channel not in ("sms", "email") or not contact:
            return self.invalid(dispatcher, tracker, "identity_contact", "utter_invalid_contact")
        try:
            account = await backend_call(backend().find_account, contact)
        except BackendError:
            return self.busy(dispatcher, "identity_contact")
        return {
            "identity_contact": mask_contact(channel, contact),
            "identity_channel": channel,
            "identity_account": account.account_id if account else "",
            "identity_code_sent": False,
            "form_failures": 0.0,
        }

    # --- identity: code -------------------------------------------------------
    async def extract_identity_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the six-digit code typed when it was asked for."""
        if tracker.get_slot("requested_slot") != "identity_code":
            return {}
        text = user_text(tracker)
        code = find_code(text)
        if code:
            return {"identity_code": code}
        if self.wants_out(tracker):
            return {}
        return {"identity_code": text[:40] or "?"}

    async def validate_identity_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Verify the code with the backend; never keep the code itself in a slot."""
        code = find_code(str(value))
        if not tracker.get_slot("identity_code_sent"):
            return {"identity_code": None}
        if code is None:
            return self.invalid(dispatcher, tracker, "identity_code", "utter_invalid_code_format")
        account_id = tracker.get_slot("identity_account") or tracker.get_slot("account_id") or ""
        failures = int(tracker.get_slot("form_failures") or 0)
        try:
            ok = bool(account_id) and await backend_call(backend().verify_code, account_id, code)
        except TooManyAttempts:
            return {"identity_code": None, **self.abort(dispatcher, "utter_code_blocked")}
        except BackendUnavailable:
            return self.busy(dispatcher, "identity_code")
        except BackendError:
            ok = False
        if ok:
            dispatcher.utter_message(response="utter_identity_verified")
            verified = {
                "identity_code": "verified",
                "account_id": account_id,
                "verified_by": "code",
                "verified_for": tracker.sender_id,
                "verified_at": time.time(),
                "form_failures": 0.0,
            }
            tracker.slots.update(verified)
            return {**verified, **await self.after_verification(dispatcher, tracker, account_id)}
        if not account_id and failures + 1 >= MAX_UNKNOWN_CODE_ATTEMPTS:
            return {"identity_code": None, **self.abort(dispatcher, "utter_code_blocked")}
        return self.invalid(dispatcher, tracker, "identity_code", "utter_code_wrong")


def slot_events(values: dict[str, Any]) -> list[EventType]:
    """SlotSet events for a mapping of slot values."""
    return [SlotSet(name, value) for name, value in values.items()]
