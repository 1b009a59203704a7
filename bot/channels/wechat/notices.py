"""The texts the WeChat channel itself says, from ``notices.yml`` beside this module."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from bot.company import load_company_facts

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
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    missing = [name for name in NAMES if not isinstance(data.get(name), str) or not data[name].strip()]
    if missing:
        raise ValueError(f"{path} lacks notices: {', '.join(missing)}")
    unknown = sorted(set(data) - set(NAMES))
    if unknown:
        raise ValueError(f"{path} has unknown notices: {', '.join(unknown)}")
    return {name: data[name].strip() for name in NAMES}


@lru_cache(maxsize=1)
def _facts() -> dict[str, str]:
    return load_company_facts().as_template_vars()


def preload() -> None:
    """Read the notices and the company facts now (at server start, not in a conversation)."""
    load_notices()
    _facts()


def notice(name: str, **values: object) -> str:
    """The notice ``name`` filled with ``values`` and the company facts."""
    return load_notices()[name].format(**{**_facts(), **{k: str(v) for k, v in values.items()}})
