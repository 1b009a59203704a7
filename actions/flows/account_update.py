"""Flow 3, update account info: which field → a one-time code to the registered contact
→ the new value, validated → confirm → updated, confirmed with masked values.

The new value awaiting confirmation (``new_value``) and the one given with the request
(``new_value_hint``) are kept sealed (``actions/sealed.py``): the stored transcript never
holds them in plain text; they are opened only where they are checked or used.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend.errors import BackendError, InvalidRequest
from actions.flows.base import CONTROL_INTENTS, WalletFormValidation, backend, backend_call
from actions.flows.hints import after_marker, entity_values, flow_step_key
from actions.flows.text import entity_value, latest_intent, user_text, yes_or_no
from actions.sealed import opened, seal, unseal
from bot.masking import mask_email, mask_phone
from bot.nlu.normalize import normalize_email, normalize_phone

FIELD_NAMES = {"phone": "手机号", "email": "邮箱", "nickname": "昵称", "address": "地址"}
FIELD_WORDS = {
    "phone": ("手机", "电话", "號碼", "号码", "phone"),
    "email": ("邮箱", "郵箱", "邮件", "email", "e-mail", "mail"),
    "nickname": ("昵称", "暱稱", "名字", "用户名", "nickname"),
    "address": ("地址", "住址", "address"),
}
RESET_AFTER_UPDATE = (
    "account_field",
    "identity_code",
    "new_value",
    "new_value_masked",
    "new_value_hint",
    "confirm_update",
)


def mask_value(field: str, value: str) -> str:
    """How a new value is shown back: phone and e-mail masked, the rest as typed."""
    if field == "phone":
        return mask_phone(value)
    if field == "email":
        return mask_email(value)
    return value


def normalize_value(field: str, text: str) -> str | None:
    """The canonical new value, or None when it is not valid for the field."""
    if field == "phone":
        return normalize_phone(text)
    if field == "email":
        return normalize_email(text)
    value = " ".join(text.split())
    if field == "nickname":
        return value if 1 <= len(value) <= 20 and not value.startswith("/") else None
    return value if 5 <= len(value) <= 120 and not value.startswith("/") else None


def new_value_hint(field: str, parse: dict[str, Any]) -> str | None:
    """The new value in a message about the change: after "改成"/"换成"…, or the only phone or
    e-mail of a message that calls it new ("新邮箱是 …")."""
    text = str(parse.get("text") or "")
    tail = after_marker(text)
    if field in ("phone", "email"):
        values = [v for v in entity_values(parse, field) if isinstance(v, str)]
        if tail is not None:
            inside = [v for v in values if _surface_in(v, tail)]
            values = inside or [normalize_value(field, tail) or ""]
        elif "新" not in text:
            return None
        found = [v for v in dict.fromkeys(normalize_value(field, v) for v in values) if v]
        return found[0] if len(found) == 1 else None
    return normalize_value(field, tail) if tail else None


def _surface_in(value: str, text: str) -> bool:
    digits = "".join(ch for ch in text if ch.isdigit())
    return value.lower() in text.lower() or (value.isdigit() and value in digits)


class ValidateUpdateForm(WalletFormValidation):
    """Field, fresh code, new value, confirmation."""

    identity_required = True
    fresh_code_required = True

    def name(self) -> str:
        """The action's name."""
        return "validate_update_form"

    async def extract_account_field(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The field from the entity, or from the words of the answer."""
        if tracker.get_slot("account_field"):
            return {}
        value = entity_value(tracker, "account_field")
        if value in FIELD_NAMES:
            return {"account_field": value}
        if tracker.get_slot("requested_slot") != "account_field":
            return {}
        text = user_text(tracker).lower()
        for field, words in FIELD_WORDS.items():
            if any(word in text for word in words):
                return {"account_field": field}
        if self.wants_out(tracker):
            return {}
        return {"account_field": text[:40] or "?"}

    async def validate_account_field(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Only phone, e-mail, nickname and address can be changed here."""
        if value not in FIELD_NAMES:
            return self.invalid(dispatcher, tracker, "account_field", "utter_invalid_account_field")
        return {"account_field": value, "field_name": FIELD_NAMES[value], "form_failures": 0.0}

    async def after_verification(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, account_id: str
    ) -> dict[str, Any]:
        """A new value the user already gave ("把邮箱改成 a@b.com"), checked like a typed one."""
        field = str(tracker.get_slot("account_field") or "")
        hint = tracker.get_slot("new_value_hint")
        if not field or not hint or tracker.get_slot("new_value"):
            return {}
        candidate = normalize_value(field, opened(hint))
        try:
            account = await backend_call(backend().get_account, account_id)
        except BackendError:
            return {}
        if candidate is None or getattr(account, field, None) == candidate:
            return {"new_value_hint": None}
        return {
            "new_value": seal(candidate),
            "new_value_masked": mask_value(field, candidate),
            "new_value_hint": None,
        }

    async def extract_new_value(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The new value, typed when it was asked for; or given with the request ("把邮箱改成
        a@b.com"), kept as a hint until the user is verified (stored transcripts are masked, so
        it is kept in a slot, not read back from the transcript later)."""
        requested = tracker.get_slot("requested_slot")
        if requested != "new_value":
            field = tracker.get_slot("account_field")
            if requested not in (None, "account_field") or not field or tracker.get_slot("new_value_hint"):
                return {}
            hint = new_value_hint(str(field), {**tracker.latest_message, "text": user_text(tracker)})
            return {"new_value_hint": seal(hint)} if hint else {}
        field = tracker.get_slot("account_field")
        text = user_text(tracker)
        if field == "phone" and entity_value(tracker, "phone"):
            return {"new_value": str(entity_value(tracker, "phone"))}
        if field == "email" and entity_value(tracker, "email"):
            return {"new_value": str(entity_value(tracker, "email"))}
        if field in ("phone", "email") and self.wants_out(tracker):
            return {}
        if field not in ("phone", "email") and not self.takes_reply(tracker, "new_value"):
            return {}
        return {"new_value": text[:300] or "?"}

    async def validate_new_value(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Right format for the field, and not the same as the current value."""
        field = str(tracker.get_slot("account_field") or "")
        new = normalize_value(field, opened(value))
        if new is None:
            return self.invalid(dispatcher, tracker, "new_value", f"utter_invalid_new_{field or 'value'}")
        try:
            account = await backend_call(backend().get_account, tracker.get_slot("account_id"))
        except BackendError:
            return self.busy(dispatcher, "new_value")
        if getattr(account, field, None) == new:
            return self.invalid(dispatcher, tracker, "new_value", "utter_new_value_same")
        return {"new_value": seal(new), "new_value_masked": mask_value(field, new), "form_failures": 0.0}

    async def extract_confirm_update(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """ "确认" / "好的" / "先不改了"."""
        asked = tracker.get_slot("requested_slot") == "confirm_update"
        if not asked or latest_intent(tracker) in CONTROL_INTENTS:
            return {}
        answer = yes_or_no(tracker)
        return {} if answer is None else {"confirm_update": answer}


class ActionUpdateAccount(Action):
    """Submit: update after the user confirmed, and say so with masked values."""

    def name(self) -> str:
        """The action's name."""
        return "action_update_account"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The confirmed change goes to the backend; the code must be asked again next time."""
        reset = [SlotSet(slot, None) for slot in RESET_AFTER_UPDATE]
        field, value = tracker.get_slot("account_field"), unseal(tracker.get_slot("new_value"))
        if not (tracker.get_slot("account_id") and field and value and tracker.get_slot("identity_code")):
            return [*reset, SlotSet("next_step", "none")]
        if tracker.get_slot("confirm_update") is not True:
            dispatcher.utter_message(response="utter_update_not_confirmed")
            return [*reset, SlotSet("next_step", "none")]
        try:
            account_id = tracker.get_slot("account_id")
            key = flow_step_key(tracker, "update_contact", account_id, field, value)
            await backend_call(backend().update_contact, account_id, field, value, idempotency_key=key)
        except InvalidRequest:
            dispatcher.utter_message(response="utter_update_refused", field_name=FIELD_NAMES[field])
            return [*reset, SlotSet("next_step", "offer_human")]
        except BackendError:
            dispatcher.utter_message(response="utter_backend_busy")
            return [SlotSet("next_step", "offer_human")]
        dispatcher.utter_message(
            response="utter_update_done",
            field_name=FIELD_NAMES[field],
            new_value_masked=mask_value(field, value),
        )
        return [*reset, SlotSet("next_step", "none")]
