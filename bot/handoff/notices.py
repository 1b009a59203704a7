"""The texts of the handoff's system notices, from ``notices.yml`` beside this module."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from bot.company import load_company_facts

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
)


@lru_cache(maxsize=4)
def load_notices(path: str = str(DEFAULT_PATH)) -> dict[str, str]:
    """Every notice text by name (read once); ValueError when one is missing."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    missing = [name for name in NAMES if not isinstance(data.get(name), str) or not data[name].strip()]
    if missing:
        raise ValueError(f"{path} lacks notices: {', '.join(missing)}")
    return {name: data[name].strip() for name in NAMES}


@lru_cache(maxsize=1)
def _facts() -> dict[str, str]:
    return load_company_facts().as_template_vars()


def preload() -> None:
    """Read the notices and the company facts now (at server start, not in a conversation)."""
    load_notices()
    _facts()


def notice(name: str, **values: object) -> str:
    """The notice ``name`` filled with ``values`` and the company facts (read once)."""
    return load_notices()[name].format(**{**_facts(), **{k: str(v) for k, v in values.items()}})
