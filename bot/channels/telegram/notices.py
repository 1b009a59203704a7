"""The Telegram channel's own texts and its commands, from ``notices.yml`` beside this module."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

DEFAULT_PATH = Path(__file__).resolve().parent / "notices.yml"
NAMES = (
    "non_text",
    "group_chat",
    "button_expired",
    "button_used",
    "rate_limited",
    "busy",
    "choose",
    "agent_message",
)
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{1,64})?(?:\s.*)?$", re.DOTALL)


@dataclass(frozen=True)
class Notices:
    """The channel's texts by name, and the payload of each command."""

    texts: MappingProxyType[str, str]
    commands: MappingProxyType[str, str]

    def text(self, name: str, **values: Any) -> str:
        """The text ``name``, filled with ``values``."""
        return self.texts[name].format(**{k: str(v) for k, v in values.items()})

    def command(self, text: str) -> str:
        """A known command ("/start", "/start@Bot", "/start deep-link") as its payload;
        anything else unchanged (a deep-link parameter is the sender's to forge: dropped)."""
        match = _COMMAND.match(text.strip())
        if match and match[1].lower() in self.commands:
            return self.commands[match[1].lower()]
        return text


@lru_cache(maxsize=4)
def load_notices(path: str = str(DEFAULT_PATH)) -> Notices:
    """Read the file once; ValueError when a text is missing or a command is not a payload."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    texts, commands = data.get("notices") or {}, data.get("commands") or {}
    missing = [name for name in NAMES if not isinstance(texts.get(name), str) or not texts[name].strip()]
    if missing:
        raise ValueError(f"{path} lacks notices: {', '.join(missing)}")
    bad = [str(k) for k, v in commands.items() if not isinstance(v, str) or not v.startswith("/")]
    if bad:
        raise ValueError(f"{path}: commands must map to a /payload: {', '.join(bad)}")
    return Notices(
        MappingProxyType({name: texts[name].strip() for name in NAMES}),
        MappingProxyType({str(k).lower(): str(v) for k, v in commands.items()}),
    )
