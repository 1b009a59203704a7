"""Who the user is: a signed widget token, or a one-time code (see ``base``)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from bot.identity import InvalidToken, verify_identity

TOKEN_KEY = "identity_token"
logger = logging.getLogger(__name__)


def _token(tracker: Tracker) -> object:
    metadata = tracker.latest_message.get("metadata") or {}
    if isinstance(metadata, dict) and TOKEN_KEY in metadata:
        return metadata[TOKEN_KEY]
    for event in reversed(tracker.events):
        if event.get("event") == "session_started" or event.get("name") == "action_session_start":
            meta = event.get("metadata") or {}
            if isinstance(meta, dict) and TOKEN_KEY in meta:
                return meta[TOKEN_KEY]
    return None


def token_events(tracker: Tracker, secret: str) -> list[dict[str, Any]]:
    """Slots for the account of a valid identity token, when not already verified.

    A forged, expired or malformed token is ignored (and logged without its value):
    the user then proves identity with a one-time code like anyone else.
    """
    if tracker.get_slot("account_id"):
        return []
    token = _token(tracker)
    if token is None or not secret:
        return []
    try:
        account_id = verify_identity(token, secret)
    except InvalidToken as error:
        logger.warning("identity token refused: %s", error)
        return []
    return [SlotSet("account_id", account_id), SlotSet("verified_by", "token")]
