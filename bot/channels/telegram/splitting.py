"""Long texts in pieces Telegram accepts: at most 4096 characters a message.

Telegram counts UTF-16 code units (an emoji outside the Basic Multilingual Plane is two), so
pieces are measured that way. A piece ends at the last paragraph break, else line break, else
sentence end (。！？.!?), else space that fits; only a text without any is cut mid-run. Joining
the pieces gives the text back, less the whitespace at the cuts.
"""

from __future__ import annotations

MAX_UNITS = 4096
_BREAKS = ("\n\n", "\n", "。", "！", "？", ". ", "! ", "? ", " ")


def units(text: str) -> int:
    """The length of ``text`` as Telegram counts it (UTF-16 code units)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _fit(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 units."""
    used = 0
    for index, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MAX_UNITS) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-16 units; no empty pieces."""
    if limit < 2:
        raise ValueError("limit must be at least 2")
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if units(rest) <= limit:
            pieces.append(rest)
            break
        fits = _fit(rest, limit)
        window = rest[:fits]
        cut = 0
        for mark in _BREAKS:
            found = window.rfind(mark)
            if found > 0:
                cut = found + len(mark)
                break
        if cut <= fits // 4:  # a break only near the start would make a tiny piece
            cut = fits
        piece, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if piece:
            pieces.append(piece)
    return pieces
