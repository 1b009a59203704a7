"""The handoff's system notices recognized in a transcript.

A notice is a bot event whose metadata says ``role: system`` (``bot.handoff.transcript``). Which
notice it is (taken, transferred, resolved, ...) is told by its key in the metadata when the
writer records one (``notice``), and otherwise by its text: each text of
``bot/handoff/notices.yml`` becomes a pattern whose placeholders match anything, and the text
is read in Simplified first (notices are written in the user's script).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.dialogue.script import fold
from bot.handoff.notices import load_notices

_FIELD = re.compile(r"\{(\w+)\}")
NOTICE_KEY = "notice"


@dataclass(frozen=True)
class Notice:
    """A recognized notice: its name and the values of its placeholders (e.g. ``agent``)."""

    name: str
    values: dict[str, str]


def _pattern(template: str) -> re.Pattern[str]:
    parts, seen, last = [], set(), 0
    for match in _FIELD.finditer(template):
        parts.append(re.escape(template[last : match.start()]))
        name = match.group(1)
        parts.append(f"(?P<{name}>.+?)" if name not in seen else ".+?")
        seen.add(name)
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts), re.DOTALL)


@lru_cache(maxsize=1)
def patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The notices' patterns, the longest texts first (the most specific wins)."""
    texts = sorted(load_notices().items(), key=lambda item: -len(item[1]))
    return tuple((name, _pattern(fold(text))) for name, text in texts)


def is_notice(event: dict[str, Any]) -> bool:
    """Whether a transcript event is a system notice of the handoff."""
    meta = event.get("metadata")
    return event.get("event") == "bot" and isinstance(meta, dict) and meta.get("role") == "system"


def is_agent_message(event: dict[str, Any]) -> bool:
    """Whether a transcript event is an agent's message."""
    meta = event.get("metadata")
    return event.get("event") == "bot" and isinstance(meta, dict) and meta.get("role") == "agent"


def recognize(event: dict[str, Any]) -> Notice | None:
    """Which notice a system notice is (None for another event or an unknown text)."""
    if not is_notice(event):
        return None
    meta = event["metadata"]
    named = meta.get(NOTICE_KEY)
    if isinstance(named, str) and named:
        values = meta.get("values")
        return Notice(named, {k: str(v) for k, v in values.items()} if isinstance(values, dict) else {})
    text = fold(str(event.get("text") or "")).strip()
    for name, pattern in patterns():
        found = pattern.fullmatch(text)
        if found:
            return Notice(name, {k: v.strip() for k, v in found.groupdict().items()})
    return None
