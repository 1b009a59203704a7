"""Loader of the shared corpus of personal data (tests/fixtures/pii_corpus.yml), and the check
every store's and log's test makes with it: no raw value left."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot import pii

_PATH = Path(__file__).parent / "fixtures" / "pii_corpus.yml"
_SEPARATORS = re.compile(r"[\s.\-\u2010-\u2015()]")


@dataclass(frozen=True)
class Sample:
    """A corpus string and the raw values it contains."""

    text: str
    raw: tuple[str, ...]


@lru_cache(maxsize=1)
def _load() -> dict[str, list]:  # type: ignore[type-arg]
    return yaml.safe_load(_PATH.read_text(encoding="utf-8"))


def samples() -> list[Sample]:
    """Every string with personal data."""
    return [Sample(item["text"], tuple(item["raw"])) for item in _load()["strings"]]


def clean_texts() -> list[str]:
    """Strings without personal data (masking leaves them as they are)."""
    return list(_load()["clean"])


def compact(text: str) -> str:
    """NFKC, lower-cased, without separators: 138-0013-8000 and １３８００１３８０００ → 13800138000."""
    return _SEPARATORS.sub("", pii.fold(text)).lower()


def forms(value: str) -> set[str]:
    """The ways a raw value may survive: as typed, and compact."""
    return {value, compact(value)}


def all_raw_values() -> list[str]:
    """Every raw value of the corpus, with the canonical values the NLU would extract from it."""
    values: list[str] = []
    for sample in samples():
        values.extend(sample.raw)
        values.extend(span.value for span in pii.scan(sample.text) if span.kind != "sealed")
    return list(dict.fromkeys(values))


def leaks(output: str, values: Iterable[str] | None = None, compact_from: int = 0) -> list[str]:
    """The raw values (default: the whole corpus's) still found in an output; [] when none is.

    A value is looked for as typed and, when its compact form has at least ``compact_from``
    characters, compact in the compact output (log files full of timestamps hold short runs
    of digits by chance: pass 7 for them).
    """
    flat = compact(output)
    candidates = all_raw_values() if values is None else list(values)
    return [v for v in candidates if v in output or (len(compact(v)) >= compact_from and compact(v) in flat)]
