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
stays on the loop, where Rasa's brokers live, and publishes exactly the events just stored.

Rasa rebuilds a conversation from all the events of its session on every message, a cost
that grows with the conversation. Here the conversation as stored (masked: exactly what a
rebuild from the table gives) is kept in memory after each read and write, with the number
and last id of its session's rows; a read first asks the table for those two figures (one
indexed query) and uses the kept conversation when they match, or applies only the rows
added since (another instance answered the previous message), or rebuilds it when anything
else changed. ``TRACKER_CACHE_SIZE`` conversations are kept (1000; 0: none).

A save only appends to what is stored: when the conversation in memory does not extend the
stored one (its read failed and Rasa's fail-safe store started it afresh, or another writer
got in between), nothing is written and ``StoreConflict`` is raised. A failed read or write
is tried once more on a fresh connection (connections are checked before use); if it fails
again during a user's turn, the turn is abandoned with the busy reply (``bot.runtime.turns``).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from bot import pii
from bot.masking import mask_text
from bot.runtime.trackers import fast_copy
from bot.runtime.turns import TurnAbandoned, in_user_turn

T = TypeVar("T")
logger = logging.getLogger(__name__)
THREADS_ENV = "TRACKER_STORE_THREADS"
DEFAULT_THREADS = 4
CACHE_ENV = "TRACKER_CACHE_SIZE"
DEFAULT_CACHE_SIZE = 1000
SESSION_LEAD = 2

# Keys whose values are credentials, dropped wherever they appear in an event.
SECRET_KEYS = frozenset({"identity_token", "token", "access_token", "authorization", "password", "secret"})


def mask_stored_text(text: str) -> str:
    """A text as it may be stored (the same masking as everywhere else)."""
    return mask_text(text)


# Strings masking left as they were (intent, action and slot names, the bot's own responses,
# which come back with every turn): looked up instead of scanned again. Only strings without
# personal data are kept, so the set holds none; bounded, emptied when full.
_CLEAN_TEXTS: dict[str, None] = {}
_CLEAN_TEXTS_SIZE = 20_000
_CLEAN_TEXT_CHARS = 2_000


def _masked_text(text: str) -> str:
    if text in _CLEAN_TEXTS:
        return text
    masked = mask_text(text)
    if masked == text and len(text) <= _CLEAN_TEXT_CHARS:
        if len(_CLEAN_TEXTS) >= _CLEAN_TEXTS_SIZE:
            _CLEAN_TEXTS.clear()
        _CLEAN_TEXTS[text] = None
    return masked


def mask_value(value: Any, keep: frozenset[str] = frozenset()) -> Any:
    """Any JSON value with every string masked, recursively; credential keys dropped.

    Args:
        value: A serialized event or any part of one.
        keep: Exact strings left as they are (the conversation's own id, which is the
            store's key and is kept in a slot to bind a verification to the conversation).
    """
    if isinstance(value, str):
        return value if value in keep else _masked_text(value)
    if isinstance(value, bool) or not isinstance(value, (int, dict, list, tuple)):
        return value
    if isinstance(value, int):
        masked = _masked_text(str(value))
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


class StoreConflict(RuntimeError):
    """The conversation to save does not extend the stored one: nothing was written."""


@dataclass(frozen=True)
class _Kept:
    """A conversation as stored (never handed out: readers get copies) and where it ends."""

    tracker: DialogueStateTracker
    count: int
    last_id: int


class MaskingSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, storing (and streaming) masked events, its SQL off the loop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Rasa's store (endpoints.yml's settings), its threads and its kept conversations."""
        super().__init__(*args, **kwargs)
        engine = cast(sa.engine.Engine, self.engine)  # type: ignore[has-type]
        engine.dispose()
        if engine.dialect.name != "sqlite":  # a server's connections can be cut: check them first
            engine = sa.create_engine(engine.url, pool_pre_ping=True, **create_engine_kwargs(engine.url))
        else:  # one connection, used by the store's one thread, instead of one per message
            engine = sa.create_engine(
                engine.url, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        self.engine = engine
        self.sessionmaker = sa.orm.session.sessionmaker(bind=engine)
        threads = 1 if engine.dialect.name == "sqlite" else _threads(os.environ.get(THREADS_ENV))
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="tracker-store")
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        self._kept_lock = threading.Lock()
        self._kept_size = _cache_size(os.environ.get(CACHE_ENV))

    async def _off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, functools.partial(fn, *args))

    async def _with_retry(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """``fn`` in the store's threads, once more on a database error; then the turn is abandoned."""
        try:
            return await self._off_loop(fn, *args)
        except SQLAlchemyError as first:
            logger.warning("tracker store %s failed, trying once more: %s", what, first)
        try:
            return await self._off_loop(fn, *args)
        except (SQLAlchemyError, StoreConflict) as error:
            if in_user_turn():
                raise TurnAbandoned("conversation store", f"{what}: {error}") from error
            raise

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
        if fetch_events_from_all_sessions:
            return await self._with_retry("read", self._read_all, sender_id)
        return await self._with_retry("read", self._read, sender_id)

    def _read_all(self, sender_id: str) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=True)
            rows = query.with_entities(self.SQLEvent.data).all()
            events = [json.loads(row.data) for row in rows]
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    def _read(self, sender_id: str) -> DialogueStateTracker | None:
        if not self.domain:
            return None
        with self.session_scope() as session:
            count, last_id = self._extent(session, sender_id)
            if not count:
                self._forget(sender_id)
                return None
            kept = self._recall(sender_id)
            if kept is None or kept.count != count or kept.last_id != last_id:
                kept = self._caught_up(session, sender_id, kept, count, last_id)
        self._keep(sender_id, kept)
        return fast_copy(kept.tracker)

    def _extent(self, session: Session, sender_id: str) -> tuple[int, int]:
        """How many rows the latest session has, and the id of its last one."""
        count, last_id = session.execute(_statements(self.SQLEvent).extent, {"sender_id": sender_id}).one()
        return int(count or 0), int(last_id or 0)

    def _row(self, session: Session, row_id: int) -> Any:
        """A stored row's type and time (what ``_continuation`` compares), without the ORM."""
        return session.execute(_statements(self.SQLEvent).row, {"row_id": row_id}).first()

    def _caught_up(
        self, session: Session, sender_id: str, kept: _Kept | None, count: int, last_id: int
    ) -> _Kept:
        """The kept conversation with the rows added since, or the session rebuilt."""
        # the rows' id and data only: building ORM instances of them cost more than the read
        query = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).with_entities(
            self.SQLEvent.id, self.SQLEvent.data
        )
        if kept is not None and count > kept.count and last_id > kept.last_id:
            rows = query.filter(self.SQLEvent.id > kept.last_id).all()
            if len(rows) == count - kept.count:
                tracker = fast_copy(kept.tracker)
                for event in deserialise_events([json.loads(row.data) for row in rows]):
                    tracker.update(event)
                return _Kept(tracker, count, rows[-1].id)
        rows = query.all()
        assert self.domain is not None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(row.data) for row in rows], self.domain.slots
        )
        return _Kept(tracker, len(rows), rows[-1].id if rows else 0)

    def _recall(self, sender_id: str) -> _Kept | None:
        with self._kept_lock:
            kept = self._kept.get(sender_id)
            if kept is not None:
                self._kept.move_to_end(sender_id)
            return kept

    def _keep(self, sender_id: str, kept: _Kept) -> None:
        if self._kept_size <= 0:
            return
        with self._kept_lock:
            self._kept[sender_id] = kept
            self._kept.move_to_end(sender_id)
            while len(self._kept) > self._kept_size:
                self._kept.popitem(last=False)

    def _forget(self, sender_id: str) -> None:
        with self._kept_lock:
            self._kept.pop(sender_id, None)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events that are not stored yet, masked; then publish them, as stored."""
        published = await self._with_retry("write", self._write, tracker.sender_id, list(tracker.events))
        if self.event_broker is not None:
            for data in published:
                self.event_broker.publish({"sender_id": tracker.sender_id, **data})

    def _write(self, sender_id: str, events: Sequence[Event]) -> list[dict[str, Any]]:
        keep = (sender_id,)
        with self.session_scope() as session:
            count, last_id = self._extent(session, sender_id)
            start = _continuation(events, count, self._row(session, last_id) if count else None)
            if start is None:
                self._forget(sender_id)
                raise StoreConflict(
                    f"the conversation in memory ({len(events)} events) does not extend the "
                    f"{count} stored events of its session: nothing written"
                )
            new = events[start:]
            plain = [event.as_dict() for event in new]
            masked = [mask_event(data, keep) for data in plain]
            if not masked:
                return masked
            rows = [
                {
                    "sender_id": sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": ((data.get("parse_data") or {}).get("intent") or {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                }
                for event, data in zip(new, masked, strict=True)
            ]
            statements = _statements(self.SQLEvent)
            session.execute(statements.insert, rows)  # one statement for all of them
            # the id of the last row: this conversation's rows are written only by the holder
            # of its lock, so the newest of them is the last one just inserted
            new_last_id = int(session.execute(statements.last_id, {"sender_id": sender_id}).scalar_one())
            session.commit()
        written = list(zip(new, plain, masked, strict=True))
        self._kept_after_write(sender_id, count, last_id, written, new_last_id)
        return masked

    def _kept_after_write(
        self,
        sender_id: str,
        count: int,
        last_id: int,
        written: Sequence[tuple[Event, dict[str, Any], dict[str, Any]]],
        new_last_id: int,
    ) -> None:
        """Keep the conversation as now stored, when the kept one was its start.

        An event that masking left as it was is kept as the very object the conversation in
        memory holds (it is what a rebuild gives, by value), so the next turn's conversation
        shares its objects with this one's, and what is folded over them
        (``bot.runtime.history``, anchored by identity) is extended instead of recomputed.
        """
        kept = self._recall(sender_id)
        if (
            kept is None
            or kept.count != count
            or kept.last_id != last_id
            or any(data.get("event") == SessionStarted.type_name for _, _, data in written)
        ):
            self._forget(sender_id)  # a new session, or unknown: the next read rebuilds it
            return
        tracker = fast_copy(kept.tracker)
        for event, plain, data in written:
            for stored in [event] if data == plain else deserialise_events([data]):
                tracker.update(stored)
        self._keep(sender_id, _Kept(tracker, count + len(written), new_last_id))


@dataclass(frozen=True)
class _Statements:
    """The store's SQL, built once for its table (SQLAlchemy then reuses the compiled form)."""

    extent: Any  # count and last id of the latest session's rows (:sender_id)
    row: Any  # a row's type and time (:row_id)
    insert: Any  # one row (executemany with a list)
    last_id: Any  # the conversation's newest row id (:sender_id)


@functools.lru_cache(maxsize=4)
def _statements(event: Any) -> _Statements:
    """The statements of ``event``'s table: Rasa's session query of ``_event_query`` (the rows
    from the latest ``session_started`` on, by timestamp, or all of them), in SQL Core."""
    sender = sa.bindparam("sender_id")
    session_start = (
        sa.select(sa.func.max(event.timestamp))
        .where(event.sender_id == sender, event.type_name == SessionStarted.type_name)
        .scalar_subquery()
    )
    extent = sa.select(sa.func.count(event.id), sa.func.max(event.id)).where(
        event.sender_id == sender, sa.or_(event.timestamp >= session_start, session_start.is_(None))
    )
    return _Statements(
        extent=extent,
        row=sa.select(event.type_name, event.timestamp).where(event.id == sa.bindparam("row_id")),
        insert=sa.insert(event.__table__),
        last_id=sa.select(sa.func.max(event.id)).where(event.sender_id == sender),
    )


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """Write-ahead log (readers never wait for the writer), synced at checkpoints: a commit
    survives the process dying; only the machine losing power can lose the latest ones."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _continuation(events: Sequence[Event], count: int, last: Any) -> int | None:
    """Where the events not stored yet begin, or None if ``events`` do not extend the stored ones.

    The stored session is its ``count`` rows, the last of them ``last``. The conversation in
    memory holds them, at most ``SESSION_LEAD`` events later than their place in the table:
    the events of a session's start that the table's session query leaves out (Rasa's
    ``action_session_start``, stamped before ``session_started``).
    """
    if not count:
        return 0
    for index in range(count - 1, min(len(events), count + SESSION_LEAD)):
        event = events[index]
        if last is not None and last.type_name == event.type_name and last.timestamp == event.timestamp:
            return index + 1
    return None


def _cache_size(raw: str | None) -> int:
    """TRACKER_CACHE_SIZE: 0 to 1,000,000 conversations (ValueError otherwise)."""
    if not raw or not raw.strip():
        return DEFAULT_CACHE_SIZE
    value = int(raw.strip())
    if not 0 <= value <= 1_000_000:
        raise ValueError(f"{CACHE_ENV} must be between 0 and 1000000")
    return value


def _threads(raw: str | None) -> int:
    """TRACKER_STORE_THREADS: 1 to 64 (ValueError otherwise: a bad setting stops the server)."""
    if not raw or not raw.strip():
        return DEFAULT_THREADS
    value = int(raw.strip())
    if not 1 <= value <= 64:
        raise ValueError(f"{THREADS_ENV} must be between 1 and 64")
    return value
