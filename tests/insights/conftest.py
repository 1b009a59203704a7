"""Fixtures of the insights' tests: the seeded conversations in a real tracker store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.insights.events import Events, read_sql
from bot.insights.period import Period, parse_day
from tests.insights.seed import DAY1, DAY2, seed, tracker_store


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite tracker database with the seeded conversations, written by the tracker store."""
    path = tmp_path_factory.mktemp("insights") / "trackers.db"
    store = tracker_store(path)
    asyncio.run(seed(store))
    return path


@pytest.fixture(scope="module")
def seeded_events(seeded_db: Path) -> Events:
    """Every stored event of the seeded conversations, read back as the reports read them."""
    store = tracker_store(seeded_db)
    return read_sql(store, 0, 4_000_000_000)


@pytest.fixture
def period() -> Period:
    return Period(parse_day(DAY1), parse_day(DAY2))
