"""The SQL tracker store with personal data masked in the stored transcript.

The conversation in memory is untouched while a message is handled; what is written to the
database has phone numbers, e-mail addresses, card and ID numbers, one-time codes and
identity tokens masked (DESIGN.md, security rules). Configured in endpoints.yml as
``type: bot.tracker_store.MaskingSQLTrackerStore``.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.masking import mask_email, mask_phone, mask_text

_CODE = re.compile(r"(?<![0-9A-Za-z])\d{6}(?![0-9A-Za-z])")
_ENTITY_MASKS = {"phone": mask_phone, "email": mask_email}
_SECRET_METADATA = ("identity_token",)


def mask_stored_text(text: str) -> str:
    """Personal data masked, and bare six-digit numbers (one-time codes) too."""
    return _CODE.sub("******", mask_text(text))


def mask_event(data: dict[str, Any]) -> dict[str, Any]:
    """A serialized event as it may be stored: user and bot texts masked, tokens removed."""
    event = copy.deepcopy(data)
    if event.get("event") in ("user", "bot") and isinstance(event.get("text"), str):
        event["text"] = mask_stored_text(event["text"])
    parse = event.get("parse_data")
    if isinstance(parse, dict):
        if isinstance(parse.get("text"), str):
            parse["text"] = mask_stored_text(parse["text"])
        for entity in parse.get("entities") or []:
            mask = _ENTITY_MASKS.get(entity.get("entity"))
            if mask is not None:
                entity["value"] = mask(str(entity.get("value", "")))
                if "text" in entity:
                    entity["text"] = mask(str(entity["text"]))
    metadata = event.get("metadata")
    if isinstance(metadata, dict):
        for key in _SECRET_METADATA:
            if key in metadata:
                metadata[key] = "***"
    return event


class MaskingSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, storing masked events."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events that are not stored yet, masked."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = mask_event(event.as_dict())
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
