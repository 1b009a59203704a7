"""Fixtures of the channel tests: shared stores on each engine the cluster may use.

Redis and PostgreSQL are those of this machine (``CHANNEL_TEST_REDIS_URL``, the handoff
tests' PostgreSQL); unreachable, they skip their tests, except with ``CI=true``, where they
fail them.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.shared_state import RedisState, SharedState, SqlState
from tests.bot.handoff.conftest import pg_url  # noqa: F401  (a fixture)

REDIS_URL = os.environ.get("CHANNEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _unreachable(service: str, reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{service} is required when CI=true: {reason}")
    pytest.skip(f"{service} not reachable: {reason}")


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SharedState]:
    """An empty shared store of each kind."""
    if request.param == "sqlite":
        yield SqlState(f"sqlite:///{tmp_path / 'state.db'}")
    elif request.param == "postgresql":
        yield SqlState(str(request.getfixturevalue("pg_url")))
    else:
        store = RedisState(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
        try:
            asyncio.run(store.get("probe"))
        except Exception as error:  # any failure to reach it
            _unreachable("Redis", type(error).__name__)
        yield RedisState(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
