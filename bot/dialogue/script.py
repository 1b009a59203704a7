"""Simplified or Traditional: which script a user writes, and replies in that script (OpenCC).

A user who writes Traditional characters is answered in Traditional: Taiwan forms and
vocabulary (``s2twp``) by default, Hong Kong forms (``s2hk``) when the text has Cantonese
words. Digits, Latin letters and masked values pass through OpenCC unchanged.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

Script = Literal["hans", "hant", "hk"]
SIMPLIFIED: Script = "hans"
_CONFIG_FOR_REPLY = {"hant": "s2twp", "hk": "s2hk"}
# Written Cantonese: a message with these is from Hong Kong or Macau, not Taiwan.
_CANTONESE = frozenset("嘅咗唔係冇哋嚟啲喺噉佢乜嘢睇攞")


@lru_cache(maxsize=4)
def _converter(config: str) -> Any:
    import opencc

    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    """The text in Simplified characters, character for character (same length, same offsets)."""
    if not text or text.isascii():
        return text
    converted = str(_converter("t2s").convert(text))
    if len(converted) == len(text):
        return converted
    return "".join(str(_converter("t2s").convert(ch)) for ch in text)


def detect_script(text: str) -> Script | None:
    """ "hant" or "hk" when the text is written mostly in Traditional characters, "hans" when
    in Simplified, None when it tells nothing (digits, Latin letters, characters both share)."""
    if not text or text.isascii():
        return None
    traditional = sum(a != b for a, b in zip(text, to_simplified(text), strict=True))
    to_traditional = str(_converter("s2t").convert(text))
    simplified = (
        sum(a != b for a, b in zip(text, to_traditional, strict=True))
        if len(to_traditional) == len(text)
        else 0
    )
    if traditional > simplified:
        return "hk" if any(ch in _CANTONESE for ch in text) else "hant"
    if simplified:
        return SIMPLIFIED
    return None


def in_script(text: str, script: str | None) -> str:
    """A reply written in Simplified, converted to the user's script."""
    config = _CONFIG_FOR_REPLY.get(script or SIMPLIFIED)
    if not config or not text:
        return text
    return str(_converter(config).convert(text))


def fold(text: str) -> str:
    """Half-width and Simplified, character for character: what the NLU reads ("１３８" → "138",
    "密碼" → "密码"), at the same offsets as the user's text."""
    if not text:
        return text
    import unicodedata

    if not text.isascii():
        text = "".join(folded if len(folded := unicodedata.normalize("NFKC", ch)) == 1 else ch for ch in text)
    return to_simplified(text)
