"""References to the images users send, as the transcript carries them (pure helpers).

An image is recorded by the Rasa server (``bot.handoff.attachments``) and appears in the
conversation's transcript as a user event whose metadata holds ``{"attachment": {"id": …,
"content_type": …}}`` (ids of ``bot.handoff.ids``). The action server reads those ids from the
tracker to link the images to a ticket; it never opens the handoff database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.handoff.ids import is_id

METADATA_KEY = "attachment"
TEXTS_PATH = Path(__file__).resolve().parent / "attachments.yml"
_TEXT_NAMES = ("placeholder", "ticket_reference", "reference", "more", "separator", "joiner")
MAX_TICKET_REFERENCES = 5
MAX_TICKET_SUMMARY = 2000  # what a backend keeps at least (the sandbox keeps 2000 characters)
SESSION_START = frozenset({"session_started"})


@lru_cache(maxsize=1)
def texts() -> dict[str, str]:
    """The texts of ``attachments.yml`` (read once); ValueError when one is missing."""
    data = yaml.safe_load(TEXTS_PATH.read_text(encoding="utf-8")) or {}
    missing = [name for name in _TEXT_NAMES if not isinstance(data.get(name), str) or not data[name]]
    if missing:
        raise ValueError(f"{TEXTS_PATH} lacks texts: {', '.join(missing)}")
    return {name: data[name] for name in _TEXT_NAMES}


def attachment_metadata(attachment_id: str, content_type: str) -> dict[str, Any]:
    """The user event's metadata for an image."""
    return {METADATA_KEY: {"id": attachment_id, "content_type": content_type}}


def attachment_of(event: Mapping[str, Any]) -> dict[str, str] | None:
    """The image a serialized user event carries (id and content type), if any."""
    if event.get("event") != "user":
        return None
    meta = event.get("metadata")
    found = meta.get(METADATA_KEY) if isinstance(meta, Mapping) else None
    if not isinstance(found, Mapping) or not is_id(found.get("id")):
        return None
    return {"id": str(found["id"]), "content_type": str(found.get("content_type") or "")}


def attachment_ids(events: Iterable[Mapping[str, Any]]) -> list[str]:
    """The ids of the images the user sent in the current session, oldest first, once each."""
    found: list[str] = []
    for event in events:
        if event.get("event") in SESSION_START:
            found = []
            continue
        attachment = attachment_of(event)
        if attachment is not None and attachment["id"] not in found:
            found.append(attachment["id"])
    return found


def ticket_reference(events: Iterable[Mapping[str, Any]]) -> str:
    """The note a ticket's summary ends with when the user sent images ("" when none).

    The latest five are listed (each as the console's address of the image), with the count
    of the others.
    """
    ids = attachment_ids(events)
    if not ids:
        return ""
    words = texts()
    shown = ids[-MAX_TICKET_REFERENCES:]
    listed = words["separator"].join(words["reference"].format(id=i) for i in shown)
    if len(ids) > len(shown):
        listed += words["more"].format(count=len(ids))
    return words["ticket_reference"].format(references=listed)


def with_references(summary: str, events: Iterable[Mapping[str, Any]]) -> str:
    """A ticket's summary ending with the images the user sent in this session (if any).

    The summary is shortened, never the references, so that all of it fits in what a backend
    keeps.
    """
    reference = ticket_reference(events)
    if not reference:
        return summary
    joiner = texts()["joiner"]
    room = max(0, MAX_TICKET_SUMMARY - len(reference) - len(joiner))
    return f"{summary[:room]}{joiner}{reference}"
