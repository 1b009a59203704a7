"""Agents' private notes and tags on a conversation (the console's context panel).

Notes are the agents' own: they are never pushed to the user nor written to the tracker, and
they are stored masked (``bot.masking``), like every other text of the store. Tags come from
the configured list (``context.yml``) or are free, each checked: 1 to ``max_tag_chars``
letters, digits, CJK characters, ``-`` or ``_`` (NFKC-normalized), at most ``max_tags`` per
conversation. Each change is audit-logged (``note``, ``tag_added``, ``tag_removed``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from bot.handoff.errors import InvalidInput
from bot.handoff.rows import MAX_NOTE
from bot.handoff.schema import agents, notes, tags
from bot.masking import mask_text

if TYPE_CHECKING:
    from bot.handoff.store import HandoffStore

CONTEXT_PATH = Path(__file__).resolve().parent / "context.yml"
MAX_NOTES_SHOWN = 200


@dataclass(frozen=True)
class ContextConfig:
    """What ``context.yml`` configures: the tag list, limits, labels and texts."""

    tags: tuple[str, ...]
    max_tags: int
    max_tag_chars: int
    flows: dict[str, str]
    steps: dict[str, str]
    slots: dict[str, str]
    texts: dict[str, str]


def _labels(data: dict[str, Any], key: str) -> dict[str, str]:
    found = data.get(key) or {}
    if not isinstance(found, dict) or not all(isinstance(v, str) for v in found.values()):
        raise ValueError(f"{CONTEXT_PATH}: {key} must map names to texts")
    return {str(k): v for k, v in found.items()}


def parse_config(data: Any) -> ContextConfig:
    """The configuration from the parsed YAML; ValueError when it is malformed."""
    if not isinstance(data, dict):
        raise ValueError(f"{CONTEXT_PATH} must be a mapping")
    texts = _labels(data, "texts")
    missing = {"note_invalid", "tag_invalid", "tag_unknown", "too_many_tags", "profile_unavailable"} - set(
        texts
    )
    if missing:
        raise ValueError(f"{CONTEXT_PATH} lacks texts: {', '.join(sorted(missing))}")
    max_tags, max_chars = data.get("max_tags"), data.get("max_tag_chars")
    if (
        not isinstance(max_tags, int)
        or not isinstance(max_chars, int)
        or not (0 < max_tags <= 50 and 0 < max_chars <= 32)
    ):
        raise ValueError(f"{CONTEXT_PATH}: max_tags (1-50) and max_tag_chars (1-32) must be numbers")
    config = ContextConfig(
        (), max_tags, max_chars, _labels(data, "flows"), _labels(data, "steps"), _labels(data, "slots"), texts
    )
    listed = data.get("tags") or []
    if not isinstance(listed, list):
        raise ValueError(f"{CONTEXT_PATH}: tags must be a list")
    try:
        checked = tuple(check_tag(config, tag) for tag in listed)
    except InvalidInput as error:
        raise ValueError(f"{CONTEXT_PATH}: every configured tag must be a valid tag") from error
    return ContextConfig(checked, max_tags, max_chars, config.flows, config.steps, config.slots, texts)


@lru_cache(maxsize=1)
def context_config() -> ContextConfig:
    """``context.yml``, read once (at the console's start)."""
    return parse_config(yaml.safe_load(CONTEXT_PATH.read_text(encoding="utf-8")))


def _tag_char(c: str) -> bool:
    return c in "-_" or unicodedata.category(c)[0] in ("L", "N")


def check_tag(config: ContextConfig, value: object) -> str:
    """The tag, NFKC-normalized and stripped; InvalidInput unless it is 1 to
    ``max_tag_chars`` letters, digits, ``-`` or ``_``."""
    if not isinstance(value, str) or len(value) > 4 * config.max_tag_chars:
        raise InvalidInput(config.texts["tag_invalid"])
    tag = unicodedata.normalize("NFKC", value).strip()
    if not 0 < len(tag) <= config.max_tag_chars or not all(_tag_char(c) for c in tag):
        raise InvalidInput(config.texts["tag_invalid"])
    return tag


@dataclass(frozen=True)
class Note:
    """A private note: who wrote it and when (the text masked)."""

    id: int
    handoff_id: int
    agent_id: int
    agent_name: str
    text: str
    created_at: datetime


class AnnotationStore:
    """Notes and tags over the handoff database (``HandoffStore.annotations``)."""

    def __init__(self, db: HandoffStore, config: ContextConfig | None = None) -> None:
        """Use the database (and its audit log) of the handoff store."""
        self._db = db
        self._config = config

    @property
    def config(self) -> ContextConfig:
        """The tag list, limits and texts (``context.yml`` unless given)."""
        return self._config or context_config()

    def add_note(self, handoff_id: int, agent_id: int, text: object) -> Note:
        """Store a note (masked). Raises InvalidInput for an empty or too long text,
        NotFound for an unknown conversation."""
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_NOTE or "\x00" in text:
            raise InvalidInput(self.config.texts["note_invalid"])
        db = self._db
        db.get(handoff_id)  # NotFound for an unknown conversation
        now = db._now()
        with db._tx() as conn:
            note_id = conn.execute(
                insert(notes).values(
                    handoff_id=handoff_id, agent_id=agent_id, text=mask_text(text.strip()), created_at=now
                )
            ).inserted_primary_key[0]
            db._audit(conn, agent_id, "note", handoff_id, f"note {note_id}")  # never the note's text
        return next(n for n in self.notes(handoff_id) if n.id == note_id)

    def notes(self, handoff_id: int) -> list[Note]:
        """The conversation's notes, oldest first."""
        query = (
            select(notes, agents.c.display_name)
            .select_from(notes.join(agents, agents.c.id == notes.c.agent_id))
            .where(notes.c.handoff_id == handoff_id)
            .order_by(notes.c.created_at, notes.c.id)
            .limit(MAX_NOTES_SHOWN)
        )
        with self._db._read() as conn:
            rows = conn.execute(query).all()
        return [Note(r.id, r.handoff_id, r.agent_id, r.display_name, r.text, r.created_at) for r in rows]

    def tags(self, handoff_id: int) -> list[str]:
        """The conversation's tags, in the order they were added."""
        query = select(tags.c.tag).where(tags.c.handoff_id == handoff_id).order_by(tags.c.id)
        with self._db._read() as conn:
            return [row.tag for row in conn.execute(query)]

    def add_tag(self, handoff_id: int, agent_id: int, value: object) -> list[str]:
        """Add a tag (a second time changes nothing); the conversation's tags after it.

        Raises:
            InvalidInput: not a valid tag, or the conversation has ``max_tags`` already.
            NotFound: an unknown conversation.
        """
        tag = check_tag(self.config, value)
        db = self._db
        db.get(handoff_id)
        try:
            with db._tx() as conn:
                present = (
                    conn.execute(select(tags.c.tag).where(tags.c.handoff_id == handoff_id)).scalars().all()
                )
                if tag not in present:
                    if len(present) >= self.config.max_tags:
                        raise InvalidInput(self.config.texts["too_many_tags"])
                    row = {
                        "handoff_id": handoff_id,
                        "tag": tag,
                        "agent_id": agent_id,
                        "created_at": db._now(),
                    }
                    conn.execute(insert(tags).values(**row))
                    db._audit(conn, agent_id, "tag_added", handoff_id, tag)
        except IntegrityError:  # the same tag, added by another agent at the same moment
            pass
        return self.tags(handoff_id)

    def remove_tag(self, handoff_id: int, agent_id: int, value: object) -> list[str]:
        """Remove a tag; InvalidInput when the conversation does not have it."""
        tag = check_tag(self.config, value)
        db = self._db
        with db._tx() as conn:
            gone = conn.execute(
                delete(tags).where(tags.c.handoff_id == handoff_id, tags.c.tag == tag)
            ).rowcount
            if not gone:
                raise InvalidInput(self.config.texts["tag_unknown"])
            db._audit(conn, agent_id, "tag_removed", handoff_id, tag)
        return self.tags(handoff_id)

    def tag_counts(self, handoff_ids: list[int]) -> dict[int, list[str]]:
        """The tags of several conversations at once (for lists of previous conversations)."""
        if not handoff_ids:
            return {}
        query = (
            select(tags.c.handoff_id, tags.c.tag)
            .where(tags.c.handoff_id.in_(handoff_ids))
            .order_by(tags.c.id)
        )
        found: dict[int, list[str]] = {}
        with self._db._read() as conn:
            for row in conn.execute(query):
                found.setdefault(row.handoff_id, []).append(row.tag)
        return found

    def note_count(self, handoff_id: int) -> int:
        """How many notes the conversation has."""
        with self._db._read() as conn:
            return int(
                conn.execute(select(func.count()).where(notes.c.handoff_id == handoff_id)).scalar_one()
            )
