"""The labelled review items as a Rasa NLU training-data file (YAML), masked, ready to merge
into ``data/nlu/`` by hand: it is written elsewhere (``var/review/`` by default), never into the
training data. The text is checked by Rasa's own reader before it is written."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from bot.handoff.models import CHINA_TZ
from bot.insights.errors import UnsafeExportPath
from bot.insights.review_store import ReviewItem
from bot.masking import mask_text

ROOT = Path(__file__).resolve().parent.parent.parent
TRAINING_DATA = ROOT / "data"
DEFAULT_DIR = ROOT / "var" / "review"
# Rasa reads [text](entity) and [text]{...} as annotations: brackets become full-width ones.
_MARKUP = re.compile(r"[\[\]]")


def _example(text: str) -> str:
    one_line = " ".join(mask_text(text).split())
    return _MARKUP.sub(lambda m: "【" if m[0] == "[" else "】", one_line)


def to_yaml(items: Sequence[ReviewItem], now: datetime | None = None) -> str:
    """The items labelled with an intent as Rasa NLU YAML (``version: "3.1"``), one block per
    intent, each example once."""
    by_intent: dict[str, list[str]] = {}
    for item in items:
        if not item.label or item.label == "ignore":
            continue
        example = _example(item.text)
        if example and example not in by_intent.setdefault(item.label, []):
            by_intent[item.label].append(example)
    stamp = (now or datetime.now(CHINA_TZ)).astimezone(CHINA_TZ).isoformat(timespec="seconds")
    lines = [
        "# Labelled in the console's review queue (bot/insights), masked; "
        f"exported {stamp}. Review, then merge into data/nlu/.",
        'version: "3.1"',
        "nlu:" if by_intent else "nlu: []",
    ]
    for intent, examples in sorted(by_intent.items()):
        lines += [f"  - intent: {intent}", "    examples: |"]
        lines += [f"      - {example}" for example in examples]
    text = "\n".join(lines) + "\n"
    check(text)
    return text


def check(text: str) -> None:
    """Rasa's reader must accept the file (ValueError if not)."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    reader = RasaYAMLReader()
    reader.validate(text)
    reader.reads(text)


def safe_path(path: Path) -> Path:
    """``path`` resolved; UnsafeExportPath inside the training data or without ``.yml``."""
    resolved = path.expanduser().resolve()
    if resolved.is_relative_to(TRAINING_DATA.resolve()):
        raise UnsafeExportPath("exports are never written into data/: merge them by hand")
    if resolved.suffix not in (".yml", ".yaml"):
        raise UnsafeExportPath("the export is a .yml file")
    return resolved


def default_path(now: datetime | None = None) -> Path:
    """``var/review/nlu-review-<China time>.yml``."""
    at = (now or datetime.now(CHINA_TZ)).astimezone(CHINA_TZ)
    return DEFAULT_DIR / f"nlu-review-{at:%Y%m%d-%H%M%S}.yml"


def write(items: Sequence[ReviewItem], path: Path) -> Path:
    """Write the export to ``path`` (refused inside data/); the path written."""
    target = safe_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(to_yaml(items), encoding="utf-8")
    return target
