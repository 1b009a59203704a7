"""Reading the stored conversation events: every event of each conversation (sender) that has
any event in a time window, in the order they were stored.

The tracker store holds the same masked events the event broker streams (``bot.tracker_store``),
so the reports read them there: on Rasa's SQL tracker store (SQLite, PostgreSQL) with one query
per window; on any other tracker store through its ``keys`` and trackers (slow, for tests and
small set-ups). Blocking: the SQL path runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore, TrackerStore

logger = logging.getLogger(__name__)
Events = Mapping[str, Sequence[dict[str, Any]]]


def sql_store(store: Any) -> SQLTrackerStore | None:
    """The SQL tracker store under Rasa's fail-safe wrapper (None if it is not SQL)."""
    inner = getattr(store, "_tracker_store", store)  # FailSafeTrackerStore keeps no public accessor
    return inner if isinstance(inner, SQLTrackerStore) else None


def read_sql(store: SQLTrackerStore, since: float, until: float) -> dict[str, list[dict[str, Any]]]:
    """Every event (up to ``until``) of each sender with an event in ``[since, until)``."""
    table = store.SQLEvent
    with store.session_scope() as session:
        active = (
            session.query(table.sender_id)
            .filter(table.timestamp >= since, table.timestamp < until)
            .distinct()
            .subquery()
        )
        rows = (
            session.query(table.sender_id, table.data)
            .filter(table.sender_id.in_(session.query(active.c.sender_id)), table.timestamp < until)
            .order_by(table.sender_id, table.id)
            .all()
        )
    found: dict[str, list[dict[str, Any]]] = {}
    for sender_id, data in rows:
        try:
            event = json.loads(data)
        except (TypeError, ValueError):
            logger.warning("insights: an unreadable stored event was skipped")
            continue
        if isinstance(event, dict):
            found.setdefault(str(sender_id), []).append(event)
    return found


async def read_any(store: TrackerStore, since: float, until: float) -> dict[str, list[dict[str, Any]]]:
    """The same from any tracker store, through its trackers (every session)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for sender_id in list(await store.keys()):
        tracker = await store.retrieve_full_tracker(sender_id)
        if tracker is None:
            continue
        events = [e.as_dict() for e in tracker.events]
        kept = [e for e in events if stamp(e) < until]
        if any(stamp(e) >= since for e in kept):
            found[sender_id] = kept
    return found


def stamp(event: dict[str, Any]) -> float:
    """An event's time in unix seconds (0 when it has none)."""
    value = event.get("timestamp")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
