"""The actions run against a fresh sandbox with a fixed clock-relative seed and code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk.executor import CollectingDispatcher

from actions.backend import factory
from actions.backend.sandbox import SandboxBackend

CODE = "246810"


@pytest.fixture()
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxBackend]:
    """The backend the actions use, seeded now, with every code = 246810."""
    monkeypatch.setenv("WALLET_BACKEND", "sandbox")
    monkeypatch.setenv("WALLET_SANDBOX_DB", str(tmp_path / "wallet.db"))
    monkeypatch.setenv("WALLET_SANDBOX_FIXED_CODE", CODE)
    monkeypatch.setenv("IDENTITY_SECRET", "test-secret")
    factory.get_settings.cache_clear()
    factory.get_backend.cache_clear()
    backend = factory.get_backend()
    assert isinstance(backend, SandboxBackend)
    yield backend
    factory.get_settings.cache_clear()
    factory.get_backend.cache_clear()


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return Domain.load("domain.yml").as_dict()


@pytest.fixture()
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    """The response names the action uttered, in order."""
    return [m.get("response") or m.get("text") or "" for m in dispatcher.messages]


def slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slot values the events set (last one wins)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests run on asyncio (anyio's pytest plugin, installed with Rasa)."""
    return "asyncio"
