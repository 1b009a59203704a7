"""Shared fixtures: the trained model, an in-process parser, the running servers."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL = Path(os.environ.get("WALLET_MODEL") or ROOT / "models" / "wallet.tar.gz")

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.chdir(ROOT)  # pattern, dictionary and config paths are relative to the project


@pytest.fixture(scope="session")
def model_path() -> Path:
    if not MODEL.exists():
        pytest.fail("no trained model: run `make train` (make test trains it for you)")
    return MODEL


@pytest.fixture(scope="session")
def parse(model_path: Path) -> Iterator[Callable[[str], dict[str, Any]]]:
    """Parse a text with the trained model, in this process."""
    from rasa.core.agent import Agent

    loop = asyncio.new_event_loop()
    agent = Agent.load(str(model_path))

    def _parse(text: str) -> dict[str, Any]:
        return loop.run_until_complete(agent.parse_message(text))

    yield _parse
    loop.close()


@pytest.fixture(scope="session")
def servers(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The action server and the Rasa server, running for the whole session (HTTP and browser tests)."""
    from tests.servers import start_servers

    running = start_servers(tmp_path_factory.mktemp("servers"), model_path)
    yield running
    running.stop()
