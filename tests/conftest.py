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
def agent(model_path: Path) -> Iterator[tuple[Any, asyncio.AbstractEventLoop]]:
    """The trained model, loaded once in this process, with its event loop."""
    from rasa.core.agent import Agent

    loop = asyncio.new_event_loop()
    yield Agent.load(str(model_path)), loop
    loop.close()


@pytest.fixture(scope="session")
def parse(agent: tuple[Any, asyncio.AbstractEventLoop]) -> Callable[[str], dict[str, Any]]:
    """Parse a text with the trained model, in this process (no conversation around it)."""
    model, loop = agent

    def _parse(text: str) -> dict[str, Any]:
        return loop.run_until_complete(model.parse_message(text))

    return _parse


@pytest.fixture(scope="session")
def parse_reply(agent: tuple[Any, asyncio.AbstractEventLoop]) -> Callable[[str, str], dict[str, Any]]:
    """Parse a reply to one of the bot's questions (an id of tests/nlu/questions.yml)."""
    import yaml
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.trackers import DialogueStateTracker

    from scripts.eval_answers import QUESTIONS, question_events

    model, loop = agent
    questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]

    def _parse(question: str, text: str) -> dict[str, Any]:
        events = question_events(questions[question], model.domain)
        tracker = DialogueStateTracker.from_events("test", events, model.domain.slots)
        return loop.run_until_complete(model.processor.parse_message(UserMessage(text), tracker))

    return _parse


@pytest.fixture(scope="session")
def servers(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The action server and the Rasa server, running for the whole session (HTTP and browser tests)."""
    from tests.servers import start_servers

    running = start_servers(tmp_path_factory.mktemp("servers"), model_path)
    yield running
    running.stop()


@pytest.fixture
def fresh_sandbox(servers: Any) -> None:
    """The running servers' sandbox backend re-seeded: DESIGN.md's accounts, no codes sent."""
    from actions.backend.sandbox import SandboxBackend

    SandboxBackend(servers.sandbox_db).reseed()
