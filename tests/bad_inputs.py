"""Loader of the shared bad-input corpus (tests/fixtures/bad_inputs.yml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_PATH = Path(__file__).parent / "fixtures" / "bad_inputs.yml"


def _expand(value: Any) -> Any:
    if isinstance(value, dict) and "raw_hex" in value:  # bytes that are not valid UTF-8 text
        return {
            **{k: v for k, v in value.items() if k != "raw_hex"},
            "raw": bytes.fromhex(value["raw_hex"].replace(" ", "")),
        }
    if isinstance(value, dict) and set(value) == {"repeat", "to_length"}:
        text = value["repeat"] * (value["to_length"] // len(value["repeat"]) + 1)
        return text[: value["to_length"]]
    if isinstance(value, dict):
        return {k: _expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v) for v in value]
    return value


def _load() -> dict[str, Any]:
    return _expand(yaml.safe_load(_PATH.read_text(encoding="utf-8")))


def bad_messages() -> dict[str, str]:
    """Texts every channel must accept and answer."""
    return _load()["messages"]


def bad_payloads() -> dict[str, dict[str, Any]]:
    """Webhook bodies every channel must refuse: {body|raw, status, error} (``raw`` is text or
    bytes)."""
    return _load()["payloads"]
