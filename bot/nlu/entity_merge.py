"""Merging entities from several extractors and giving each its canonical value."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from bot.nlu.normalize import normalize_entity

Entity = dict[str, Any]


def _overlaps(a: Entity, b: Entity) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def merge_entities(preferred: Iterable[Entity], others: Iterable[Entity]) -> list[Entity]:
    """Combine two entity lists; on overlapping spans the preferred one wins.

    Args:
        preferred: Entities from the precise extractor (rules).
        others: Entities from the statistical extractor (DIET), kept where they
            do not overlap a preferred entity.

    Returns:
        The entities sorted by position.
    """
    kept = list(preferred)
    for entity in others:
        if not any(_overlaps(entity, chosen) for chosen in kept):
            kept.append(entity)
    return sorted(kept, key=lambda e: (e["start"], e["end"]))


def normalize_entities(
    text: str,
    entities: Iterable[Entity],
    *,
    aliases: Mapping[str, str],
    now: datetime | None = None,
) -> list[Entity]:
    """Give every entity its canonical value; drop spans that are not valid values.

    The entity's surface text is read from ``text`` (not from its value, which a
    synonym mapper may already have replaced).
    """
    result = []
    for entity in entities:
        surface = text[entity["start"] : entity["end"]]
        value = entity.get("value")
        if entity["entity"] == "account_field" and isinstance(value, str):
            canonical = normalize_entity("account_field", value, aliases=aliases)
            if canonical is None:
                canonical = normalize_entity("account_field", surface, aliases=aliases)
        else:
            canonical = normalize_entity(entity["entity"], surface, aliases=aliases, now=now)
        if canonical is None:
            continue
        result.append({**entity, "value": canonical})
    return result
