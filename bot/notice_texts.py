"""Texts a component says itself (a channel's or the handoff's notices), from a YAML file of
name: text, filled with the company facts (``bot/company.yml``) and the caller's values."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import yaml

from bot.company import load_company_facts


def read_notices(path: str | Path, names: Iterable[str], *, only_these: bool = False) -> dict[str, str]:
    """Every text of ``names`` from ``path``; ValueError when one is missing or empty (and,
    with ``only_these``, when the file has a name not in ``names``)."""
    wanted = tuple(names)
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    missing = [name for name in wanted if not isinstance(data.get(name), str) or not data[name].strip()]
    if missing:
        raise ValueError(f"{path} lacks notices: {', '.join(missing)}")
    unknown = sorted(set(data) - set(wanted)) if only_these else []
    if unknown:
        raise ValueError(f"{path} has unknown notices: {', '.join(unknown)}")
    return {name: data[name].strip() for name in wanted}


@lru_cache(maxsize=1)
def company_values() -> dict[str, str]:
    """The company facts as template values (read once)."""
    return load_company_facts().as_template_vars()


def fill(text: str, **values: object) -> str:
    """``text`` with the company facts and ``values`` filled in."""
    return text.format(**{**company_values(), **{k: str(v) for k, v in values.items()}})
