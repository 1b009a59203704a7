"""Whether a waiting user's message explicitly stops the wait for a person (pure functions).

The words live in ``cancel.yml`` beside this module. Only an explicit stop counts: a phrase
of that file (alone or with fillers), or the queue notice's own button. The classifier's
intent never decides: "不" and "不是我操作的" are deny, and must not drop an urgent handoff.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.dialogue.lexicon import normalize

DEFAULT_PATH = Path(__file__).resolve().parent / "cancel.yml"
MAX_CHECKED_CHARS = 200  # a longer message is a message for the agent, not a cancel


@dataclass(frozen=True)
class CancelWords:
    """The normalized phrases and fillers, and the cancel button of the queue notice."""

    phrases: frozenset[str]
    fillers: frozenset[str]
    button: dict[str, str]
    question: str

    @property
    def payload(self) -> str:
        """What the cancel button sends."""
        return self.button["payload"]


def build_words(data: Mapping[str, Any]) -> CancelWords:
    """The words of a parsed ``cancel.yml``; ValueError when it lacks a part."""
    phrases = frozenset(normalize(str(p)) for p in data.get("phrases") or [] if normalize(str(p)))
    fillers = frozenset(normalize(str(f)) for f in data.get("fillers") or [] if normalize(str(f)))
    button = data.get("button") or {}
    if not phrases or not isinstance(button, Mapping) or not button.get("title") or not button.get("payload"):
        raise ValueError("cancel words need phrases and a button with a title and a payload")
    return CancelWords(
        phrases=phrases,
        fillers=fillers,
        button={"title": str(button["title"]), "payload": str(button["payload"])},
        question=str(data.get("question") or ""),
    )


@lru_cache(maxsize=4)
def load_words(path: str = str(DEFAULT_PATH)) -> CancelWords:
    """The words of ``cancel.yml`` (read once)."""
    return build_words(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})


def _clauses(text: str) -> list[str]:
    """The text cut at punctuation, symbols and spaces, each part normalized."""
    cut = "".join(" " if unicodedata.category(c)[0] in "PZSC" else c for c in text)
    return [part for part in (normalize(p) for p in cut.split()) if part]


def _made_of_words(clause: str, words: CancelWords) -> bool:
    """Whether the clause is phrases and fillers only, with at least one phrase."""
    tokens = [(p, True) for p in words.phrases] + [(f, False) for f in words.fillers]
    # reach[i]: None (cannot reach position i), False (only with fillers), True (with a phrase)
    reach: list[bool | None] = [None] * (len(clause) + 1)
    reach[0] = False
    for start in range(len(clause)):
        if reach[start] is None:
            continue
        for token, is_phrase in tokens:
            if clause.startswith(token, start):
                end = start + len(token)
                reached = bool(reach[start]) or is_phrase
                if reach[end] is None or (reached and not reach[end]):
                    reach[end] = reached
    return reach[len(clause)] is True


def _chose_button(answer: Mapping[str, Any], words: CancelWords) -> bool:
    """Whether the reading says the queue notice's cancel button was chosen ("1", its title)."""
    if answer.get("payload") != words.payload:
        return False
    return not words.question or answer.get("question") == words.question


def is_explicit_cancel(text: str, answer: Mapping[str, Any] | None, words: CancelWords) -> bool:
    """Whether a waiting user's message stops the wait.

    Args:
        text: what the user sent (a clicked button sends its payload).
        answer: the NLU's reading of the message as an answer to the bot's question
            (``parse_data["answer"]``), which says which button a typed "1" or title chose.
        words: the cancel words.
    """
    if not isinstance(text, str) or len(text) > MAX_CHECKED_CHARS:
        return False
    if text.strip() == words.payload:
        return True
    if isinstance(answer, Mapping) and _chose_button(answer, words):
        return True
    return any(_made_of_words(clause, words) for clause in _clauses(text))
