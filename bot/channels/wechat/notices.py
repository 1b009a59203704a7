"""The texts the WeChat channel itself says, from ``notices.yml`` beside this module."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from bot.notice_texts import company_values, fill, read_notices

DEFAULT_PATH = Path(__file__).resolve().parent / "notices.yml"
NAMES = (
    "please_type",
    "unsupported",
    "too_long",
    "rate_limited",
    "unknown_menu",
    "busy",
    "image_received",
    "image_invalid",
    "image_refused",
    "image_unavailable",
    "agent_prefix",
    "image_link",
    "image_omitted",
)


@lru_cache(maxsize=4)
def load_notices(path: str = str(DEFAULT_PATH)) -> dict[str, str]:
    """Every notice text by name (read once); ValueError when one is missing or unknown."""
    return read_notices(path, NAMES, only_these=True)


def preload() -> None:
    """Read the notices and the company facts now (at server start, not in a conversation)."""
    load_notices()
    company_values()


def notice(name: str, **values: object) -> str:
    """The notice ``name`` filled with ``values`` and the company facts."""
    return fill(load_notices()[name], **values)
