"""Who the user is, checked at the start of every turn: a signed widget token, or a one-time
code that idles out.

``action_check_identity`` is the custom slot mapping action of ``account_id`` (domain.yml),
so Rasa runs it in ``action_extract_slots`` for every user message, before any other action
can show account data. A verification records how (``verified_by``), for which channel user
(``verified_for``: the conversation id) and when it was last used (``verified_at``):

- a token identity holds only while every message carries a valid token for the same
  account: a token missing, expired, forged or for another account drops the identity and
  every account-derived slot (a valid token for another account then signs that one in);
- a code identity idles out after ``IDENTITY_CODE_IDLE_SECONDS`` (15 minutes by default)
  and never carries into a new session (``carry_over_slots_to_new_session: false``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend.factory import get_settings
from bot.identity import InvalidToken, verify_identity

TOKEN_KEY = "identity_token"
logger = logging.getLogger(__name__)

IDENTITY_SLOTS = ("account_id", "verified_by", "verified_for", "verified_at")
# Slots that hold what the verified account owns or proved: gone with the identity.
ACCOUNT_DERIVED_SLOTS = (
    "identity_contact",
    "identity_code",
    "identity_account",
    "identity_channel",
    "identity_code_sent",
    "identity_masked",
    "transaction_id",
    "tx_candidates",
    "new_value",
    "new_value_masked",
    "new_value_hint",
    "confirm_update",
    "ticket_id",
)


def message_token(tracker: Tracker) -> object:
    """The identity token the latest message carries (the widget sends it with each one)."""
    metadata = tracker.latest_message.get("metadata") or {}
    return metadata.get(TOKEN_KEY) if isinstance(metadata, dict) else None


def token_account(tracker: Tracker, secret: str) -> str | None:
    """The account of the latest message's valid token, else None (refusals are logged
    without the token)."""
    token = message_token(tracker)
    if token is None or not secret:
        return None
    try:
        return verify_identity(token, secret)
    except InvalidToken as error:
        logger.warning("identity token refused: %s", error)
        return None


def verified(account_id: str, how: str, sender_id: str, now: float) -> list[EventType]:
    """Events that record a verification."""
    return [
        SlotSet("account_id", account_id),
        SlotSet("verified_by", how),
        SlotSet("verified_for", sender_id),
        SlotSet("verified_at", now),
    ]


def dropped(tracker: Tracker) -> list[EventType]:
    """Events that forget the identity and everything derived from it."""
    return [
        SlotSet(slot, None) for slot in (*IDENTITY_SLOTS, *ACCOUNT_DERIVED_SLOTS) if tracker.get_slot(slot)
    ]


def identity_events(tracker: Tracker, secret: str, idle_seconds: float, now: float) -> list[EventType]:
    """What this turn does to the identity: keep (and refresh), drop, or sign in by token."""
    account_id = tracker.get_slot("account_id")
    how = tracker.get_slot("verified_by")
    token_for = token_account(tracker, secret)
    if account_id:
        still_valid = tracker.get_slot("verified_for") in (None, tracker.sender_id) and (
            (how == "token" and token_for == account_id)
            or (how == "code" and now - float(tracker.get_slot("verified_at") or 0) <= idle_seconds)
        )
        if still_valid:
            return [SlotSet("verified_at", now), SlotSet("verified_for", tracker.sender_id)]
        logger.info("verified identity dropped (%s)", how or "unknown")
        events = dropped(tracker)
        if token_for:
            events += verified(token_for, "token", tracker.sender_id, now)
        return events
    if token_for:
        return verified(token_for, "token", tracker.sender_id, now)
    return []


class ActionCheckIdentity(Action):
    """Run by Rasa for every user message (the custom mapping of ``account_id``)."""

    def name(self) -> str:
        """The action's name."""
        return "action_check_identity"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Keep, drop or establish the verified identity before anything else happens."""
        settings = get_settings()
        return identity_events(tracker, settings.identity_secret, settings.code_idle_seconds, time.time())


def token_events(tracker: Tracker, secret: str) -> list[dict[str, Any]]:
    """Slots for the account of a valid identity token, when not already verified (the
    forms call this too, for a tracker the check action has not seen yet)."""
    if tracker.get_slot("account_id"):
        return []
    account_id = token_account(tracker, secret)
    if account_id is None:
        return []
    return [dict(e) for e in verified(account_id, "token", tracker.sender_id, time.time())]
