"""The SQL tracker store with personal data masked in everything it stores.

The conversation in memory is untouched while a message is handled; what is written to the
database (and streamed to an event broker) has every string of every event masked
(``bot.masking.mask_text``, the grammar of ``bot.pii``): user and bot texts, the parse data
with its entities, slot values, buttons and custom payloads, action fields, metadata, at any
depth; identity and other tokens are removed from it (DESIGN.md, security rules). Values a
flow still needs are sealed by the action server (``actions/sealed.py``) and stay sealed.
Configured in endpoints.yml as ``type: bot.tracker_store.MaskingSQLTrackerStore``.

Rasa's SQL tracker store is synchronous SQLAlchemy inside ``async`` methods, so every read
and write of a conversation would stall the Rasa server's event loop. Here its SQL (and the
masking) runs in the store's own threads: one for SQLite (its writers queue for one file
anyway), ``TRACKER_STORE_THREADS`` (4) for a database server. Publishing to the event broker
stays on the loop, where Rasa's brokers live.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot import pii
from bot.masking import mask_text

T = TypeVar("T")
logger = logging.getLogger(__name__)
THREADS_ENV = "TRACKER_STORE_THREADS"
DEFAULT_THREADS = 4

# Keys whose values are credentials, dropped wherever they appear in an event.
SECRET_KEYS = frozenset({"identity_token", "token", "access_token", "authorization", "password", "secret"})


def mask_stored_text(text: str) -> str:
    """A text as it may be stored (the same masking as everywhere else)."""
    return mask_text(text)


def mask_value(value: Any, keep: frozenset[str] = frozenset()) -> Any:
    """Any JSON value with every string masked, recursively; credential keys dropped.

    Args:
        value: A serialized event or any part of one.
        keep: Exact strings left as they are (the conversation's own id, which is the
            store's key and is kept in a slot to bind a verification to the conversation).
    """
    if isinstance(value, str):
        return value if value in keep else mask_text(value)
    if isinstance(value, bool) or not isinstance(value, (int, dict, list, tuple)):
        return value
    if isinstance(value, int):
        masked = mask_text(str(value))
        return value if masked == str(value) else masked
    if isinstance(value, dict):
        value = _entity_values_masked(value)
        return {
            key: mask_value(item, keep)
            for key, item in value.items()
            if not (isinstance(key, str) and key.lower() in SECRET_KEYS)
        }
    return [mask_value(item, keep) for item in value]


def _entity_values_masked(parse: dict[str, Any]) -> dict[str, Any]:
    """Parse data whose entities stand on personal data get their values masked too: a value
    is normalized ("246810.00" from "验证码 246810"), so masking its text alone would miss it."""
    text, entities = parse.get("text"), parse.get("entities")
    if not isinstance(text, str) or not isinstance(entities, list) or not entities:
        return parse
    spans = pii.scan(text)
    if not spans:
        return parse

    def masked(entity: Any) -> Any:
        if not isinstance(entity, dict):
            return entity
        start, end = entity.get("start"), entity.get("end")
        if not (isinstance(start, int) and isinstance(end, int)):
            return entity
        if any(s.start < end and start < s.end for s in spans):
            return {**entity, "value": mask_text(text[start:end])}
        return entity

    return {**parse, "entities": [masked(e) for e in entities]}


def mask_event(data: dict[str, Any], keep: Iterable[str] = ()) -> dict[str, Any]:
    """A serialized event as it may be stored: every string masked, tokens removed."""
    masked: dict[str, Any] = mask_value(data, frozenset(keep))
    return masked


class MaskingSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, storing (and streaming) masked events, its SQL off the loop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Rasa's store (endpoints.yml's settings) and the threads its SQL runs in."""
        super().__init__(*args, **kwargs)
        threads = 1 if self.engine.dialect.name == "sqlite" else _threads(os.environ.get(THREADS_ENV))
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="tracker-store")

    async def _off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, functools.partial(fn, *args))

    async def keys(self) -> Iterable[str]:
        """The conversations' ids."""
        return await self._off_loop(self._keys)

    def _keys(self) -> list[str]:
        with self.session_scope() as session:
            return [sender_id for (sender_id,) in session.query(self.SQLEvent.sender_id).distinct().all()]

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """The conversation's tracker (its latest session, or all of them), None if unknown."""
        return await self._off_loop(self._read, sender_id, fetch_events_from_all_sessions)

    def _read(self, sender_id: str, all_sessions: bool) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=all_sessions).all()
            events = [json.loads(row.data) for row in rows]
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events that are not stored yet, masked."""
        await self.stream_events(tracker)
        await self._off_loop(self._write, tracker.sender_id, list(tracker.events))

    def _write(self, sender_id: str, events: Sequence[Event]) -> None:
        keep = (sender_id,)
        with self.session_scope() as session:
            stored = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
            for event in events[stored:]:
                data = mask_event(event.as_dict(), keep)
                session.add(
                    self.SQLEvent(
                        sender_id=sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=((data.get("parse_data") or {}).get("intent") or {}).get(INTENT_NAME_KEY),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()

    async def _stream_new_events(
        self, event_broker: EventBroker, new_events: list[Event], sender_id: str
    ) -> None:
        """Publish the new events to the event broker, masked like the stored ones."""
        for event in new_events:
            event_broker.publish({"sender_id": sender_id, **mask_event(event.as_dict(), (sender_id,))})


def _threads(raw: str | None) -> int:
    """TRACKER_STORE_THREADS: 1 to 64 (ValueError otherwise: a bad setting stops the server)."""
    if not raw or not raw.strip():
        return DEFAULT_THREADS
    value = int(raw.strip())
    if not 1 <= value <= 64:
        raise ValueError(f"{THREADS_ENV} must be between 1 and 64")
    return value
