"""The texts of the handoff's system notices, from ``notices.yml`` beside this module."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from bot.notice_texts import company_values, fill, read_notices

DEFAULT_PATH = Path(__file__).resolve().parent / "notices.yml"
NAMES = (
    "taken",
    "transferred",
    "handed_back",
    "resolved",
    "rate",
    "rating_button",
    "cancelled",
    "expired",
    "cancel_failed",
    "requeued",
    "queue_position",
)


@lru_cache(maxsize=4)
def load_notices(path: str = str(DEFAULT_PATH)) -> dict[str, str]:
    """Every notice text by name (read once); ValueError when one is missing."""
    return read_notices(path, NAMES)


def preload() -> None:
    """Read the notices and the company facts now (at server start, not in a conversation)."""
    load_notices()
    company_values()


def notice(name: str, **values: object) -> str:
    """The notice ``name`` filled with ``values`` and the company facts."""
    return fill(load_notices()[name], **values)
