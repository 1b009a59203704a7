"""Merging entities from several extractors and giving each its canonical value.

Phone numbers and e-mail addresses are also found by the grammar of personal data
(``bot.pii``): where no extractor found a valid one, the grammar's span is added (and wins
over another entity it overlaps), so the NLU recognizes what the masking masks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from bot import pii
from bot.nlu.normalize import normalize_entity

Entity = dict[str, Any]
GRAMMAR_EXTRACTOR = "PiiGrammar"
_GRAMMAR_KINDS = ("phone", "email")


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
    result: list[Entity] = []
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
    return with_grammar_entities(text, result)


def grammar_entities(text: str) -> list[Entity]:
    """The phone numbers and e-mail addresses of a text, as the grammar of personal data reads them."""
    return [
        {
            "entity": span.kind,
            "start": span.start,
            "end": span.end,
            "value": span.value,
            "confidence_entity": 1.0,
            "extractor": GRAMMAR_EXTRACTOR,
        }
        for span in pii.scan(text)
        if span.kind in _GRAMMAR_KINDS
    ]


def with_grammar_entities(text: str, entities: list[Entity]) -> list[Entity]:
    """Add the grammar's phone and e-mail spans that no valid entity of the same kind overlaps;
    an entity of another kind that overlaps one (an "amount" 13800138000) gives way."""
    kept = list(entities)
    for found in grammar_entities(text):
        if any(e["entity"] == found["entity"] and _overlaps(e, found) for e in kept):
            continue
        kept = [e for e in kept if not _overlaps(e, found)] + [found]
    return sorted(kept, key=lambda e: (e["start"], e["end"]))
