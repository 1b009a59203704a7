"""The review queue's storage: one table in the handoff database (``insights_review``) and the
time up to which the events were scanned (``insights_state``), on SQLite or PostgreSQL.

Items are keyed by their message (``review_sources.Candidate.key``), so a scan that reads an
event again, or two servers scanning at once, add it once. Blocking (SQL): run it in a pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.handoff.schema import UTCDateTime
from bot.insights.errors import ReviewItemNotFound
from bot.insights.review_sources import Candidate

IGNORE = "ignore"
STATUSES = ("open", "labelled", "all")
SCAN_KEY = "review_scanned_until"
metadata = MetaData()

review = Table(
    "insights_review",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("source", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("intent", String(64)),
    Column("confidence", Float),
    Column("at", Float, nullable=False, index=True),
    Column("label", String(64)),
    Column("labelled_by", Integer),
    Column("labelled_at", UTCDateTime),
)

state = Table(
    "insights_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Float, nullable=False),
)


@dataclass(frozen=True)
class ReviewItem:
    """One message in the queue; ``label`` is an intent, ``ignore``, or None (not labelled)."""

    id: int
    source: str
    channel: str
    text: str
    intent: str | None
    confidence: float | None
    at: float
    label: str | None

    def as_json(self) -> dict[str, object]:
        """The item as the console shows it."""
        return {
            "id": self.id,
            "source": self.source,
            "channel": self.channel,
            "text": self.text,
            "intent": self.intent,
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "at": self.at,
            "label": self.label,
        }


class ReviewStore:
    """The queue over an engine (the handoff store's)."""

    def __init__(self, engine: Engine) -> None:
        """Bind to ``engine``; nothing is opened until the first call."""
        self.engine = engine

    def create_schema(self) -> None:
        """Create the tables if they are missing."""
        metadata.create_all(self.engine)

    def scanned_until(self) -> float | None:
        """Up to when the events were scanned (None before the first scan)."""
        with self.engine.connect() as conn:
            value = conn.execute(select(state.c.value).where(state.c.key == SCAN_KEY)).scalar()
        return None if value is None else float(value)

    def add(self, found: Sequence[Candidate], scanned_until: float) -> int:
        """Add the candidates not in the queue yet and move the scan mark; how many were new."""
        added = 0
        with self.engine.begin() as conn:
            keys = [c.key for c in found]
            known = (
                set(conn.execute(select(review.c.key).where(review.c.key.in_(keys))).scalars())
                if keys
                else set()
            )
            for candidate in found:
                if candidate.key in known:
                    continue
                known.add(candidate.key)
                try:
                    with conn.begin_nested():
                        conn.execute(insert(review).values(**_row(candidate)))
                    added += 1
                except IntegrityError:  # another server added it meanwhile
                    continue
            moved = conn.execute(
                update(state)
                .where(state.c.key == SCAN_KEY, state.c.value < scanned_until)
                .values(value=scanned_until)
            ).rowcount
            if not moved and conn.execute(select(state.c.key).where(state.c.key == SCAN_KEY)).first() is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(state).values(key=SCAN_KEY, value=scanned_until))
                except IntegrityError:
                    pass
        return added

    def items(self, status: str = "open", limit: int = 200) -> list[ReviewItem]:
        """The queue's items, newest first: ``open`` (not labelled), ``labelled`` or ``all``."""
        query = select(review).order_by(review.c.at.desc(), review.c.id.desc()).limit(limit)
        if status == "open":
            query = query.where(review.c.label.is_(None))
        elif status == "labelled":
            query = query.where(review.c.label.is_not(None))
        with self.engine.connect() as conn:
            return [_item(row) for row in conn.execute(query)]

    def label(self, item_id: int, label: str, agent_id: int) -> ReviewItem:
        """Label an item with an intent or ``ignore`` (ReviewItemNotFound for an unknown id)."""
        now = datetime.now(timezone.utc)
        with self.engine.begin() as conn:
            done = conn.execute(
                update(review)
                .where(review.c.id == item_id)
                .values(label=label, labelled_by=agent_id, labelled_at=now)
            ).rowcount
            if not done:
                raise ReviewItemNotFound("no such item")
            row = conn.execute(select(review).where(review.c.id == item_id)).one()
        return _item(row)

    def labelled(self) -> list[ReviewItem]:
        """Every item labelled with an intent (not ``ignore``), oldest first."""
        query = (
            select(review)
            .where(review.c.label.is_not(None), review.c.label != IGNORE)
            .order_by(review.c.label, review.c.at, review.c.id)
        )
        with self.engine.connect() as conn:
            return [_item(row) for row in conn.execute(query)]


def _row(candidate: Candidate) -> dict[str, object]:
    return {
        "key": candidate.key,
        "source": candidate.source,
        "channel": candidate.channel[:16],
        "text": candidate.text,
        "intent": (candidate.intent or None) and candidate.intent[:64],
        "confidence": candidate.confidence,
        "at": candidate.at,
    }


def _item(row: object) -> ReviewItem:
    m = row._mapping  # type: ignore[attr-defined]
    return ReviewItem(
        m["id"],
        m["source"],
        m["channel"],
        m["text"],
        m["intent"],
        m["confidence"],
        float(m["at"]),
        m["label"],
    )
