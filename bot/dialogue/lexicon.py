"""The words of typed answers (``answers.yml``), normalized once, and the text normalization
that every comparison uses."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.dialogue.script import to_simplified

DEFAULT_PATH = Path(__file__).resolve().parent / "answers.yml"
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize(text: str) -> str:
    """Half-width, Simplified, lower case, letters and digits only ("解決了！" → "解决了")."""
    text = unicodedata.normalize("NFKC", text or "")
    return _NOT_WORD.sub("", to_simplified(text).lower())


@dataclass(frozen=True)
class Lexicon:
    """Normalized phrases of ``answers.yml``."""

    fillers: tuple[str, ...]
    negations: frozenset[str]
    yes: frozenset[str]
    no: frozenset[str]
    numerals: dict[str, int]
    control: dict[str, tuple[str, ...]]
    flows: dict[str, tuple[str, tuple[str, ...]]]
    slots: dict[str, Any]
    unknown_time: tuple[str, ...]
    another_matter: tuple[str, ...]
    self_corrections: tuple[str, ...]
    smalltalk: frozenset[str]
    payloads: dict[str, tuple[str, ...]]
    questions: dict[str, dict[str, tuple[str, ...]]]
    yes_no: dict[str, tuple[str | None, str | None]]
    requests: tuple[str, ...] = ()
    numbered_prompt: str = "回复数字选择："
    numbered_separator: str = "  "
    _core_cache: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def core(self, text: str) -> str:
        """The normalized text without filler words at either end ("好的吧" → "好")."""
        cached = self._core_cache.get(text)
        if cached is not None:
            return cached
        core = text
        changed = True
        while changed and core:
            changed = False
            for filler in self.fillers:
                if len(core) > len(filler) and core.endswith(filler):
                    core, changed = core[: -len(filler)], True
                if len(core) > len(filler) and core.startswith(filler):
                    core, changed = core[len(filler) :], True
        if len(self._core_cache) < 10_000:
            self._core_cache[text] = core
        return core

    def phrases_for(self, question: str | None, payload: str) -> tuple[str, ...]:
        """The phrases of an option: for its payload anywhere, and for it in this question."""
        own = self.questions.get(question or "", {}).get(payload, ())
        return own + self.payloads.get(payload, ())

    def slot_kind(self, slot: str, slots: Mapping[str, Any]) -> str | None:
        """What a form's slot expects (``contact``, ``code``, ``free`` …), given the other slots."""
        kind = self.slots.get(slot)
        if isinstance(kind, dict):
            return kind.get(str(slots.get("account_field") or ""))
        return kind


def _words(values: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w for w in (normalize(str(v)) for v in values or ()) if w))


def _by_length(values: Any) -> tuple[str, ...]:
    return tuple(sorted(_words(values), key=len, reverse=True))


def build_lexicon(data: dict[str, Any]) -> Lexicon:
    """A lexicon from the parsed YAML; fails on a missing section."""
    numbered = data.get("numbered") or {}
    return Lexicon(
        fillers=_by_length(data["fillers"]),
        negations=frozenset(_words(data["negations"])),
        yes=frozenset(_words(data["yes_words"])),
        no=frozenset(_words(data["no_words"])),
        numerals={str(k): int(v) for k, v in data["numerals"].items()},
        control={intent: _by_length(words) for intent, words in data["control"].items()},
        flows={
            form: (str(spec["intent"]), _by_length(spec.get("words"))) for form, spec in data["flows"].items()
        },
        slots=dict(data["slots"]),
        unknown_time=_by_length(data["unknown_time"]),
        another_matter=_by_length(data["another_matter"]),
        self_corrections=_by_length(data["self_corrections"]),
        requests=_by_length(data.get("requests")),
        smalltalk=frozenset(_words(data["smalltalk"])),
        payloads={str(p): _by_length(words) for p, words in data["payloads"].items()},
        questions={
            str(q): {str(p): _by_length(words) for p, words in options.items()}
            for q, options in data["questions"].items()
        },
        yes_no={str(q): (pair[0], pair[1]) for q, pair in (data.get("yes_no") or {}).items()},
        numbered_prompt=str(numbered.get("prompt", "回复数字选择：")),
        numbered_separator=str(numbered.get("separator", "  ")),
    )


@lru_cache(maxsize=4)
def load_lexicon(path: str = str(DEFAULT_PATH)) -> Lexicon:
    """The lexicon of a YAML file (read once per path)."""
    return build_lexicon(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
