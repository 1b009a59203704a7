"""Fixtures of the handoff tests: a fresh store on SQLite and on PostgreSQL, a controllable clock.

``OffLoopOnly`` wraps a store so that any call made on an event loop's thread fails the test
(the Rasa server must run the store in its pools).

PostgreSQL comes from ``HANDOFF_TEST_PG_URL`` (default: the local ``test`` database); each
test gets its own schema, dropped afterwards. An unreachable server skips those tests,
except with ``CI=true``, where it fails them.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.handoff.account_links import AccountLinkStore
from bot.handoff.annotations import AnnotationStore
from bot.handoff.attachment_store import AttachmentStore
from bot.handoff.deliveries import DeliveryStore
from bot.handoff.left_messages import LeftMessageStore
from bot.handoff.store import HandoffStore

PG_URL = os.environ.get("HANDOFF_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
START = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)  # 10:00 in China


class OffLoopOnly:
    """The store (and its parts), refusing every call made on the event loop's thread (it
    must run in a pool)."""

    def __init__(self, store: Any) -> None:
        object.__setattr__(self, "_store", store)

    def __setattr__(self, name: str, value: Any) -> None:  # settings reach the store itself
        setattr(self._store, name, value)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if isinstance(
            attribute, AttachmentStore | DeliveryStore | LeftMessageStore | AnnotationStore | AccountLinkStore
        ):
            return OffLoopOnly(attribute)
        if not callable(attribute):
            return attribute

        def checked(*args: Any, **kwargs: Any) -> Any:
            try:
                asyncio.get_running_loop()
            except RuntimeError:  # a worker thread: fine
                return attribute(*args, **kwargs)
            raise AssertionError(f"HandoffStore.{name} was called on the event loop")

        return checked


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _unreachable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required when CI=true: {reason}")
    pytest.skip(f"PostgreSQL not reachable: {reason}")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new, empty schema (dropped after the test)."""
    admin = create_engine(PG_URL, future=True, connect_args={"connect_timeout": 3})
    schema = f"handoff_test_{uuid.uuid4().hex[:16]}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as error:
        admin.dispose()
        _unreachable(type(error.orig).__name__)
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'handoff.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db_url: str, clock: FakeClock) -> Iterator[HandoffStore]:
    """A store with its schema, on a fresh database, whose time is ``clock``."""
    opened = HandoffStore(db_url, clock=clock)
    opened.create_schema()
    yield opened
    opened.close()


@pytest.fixture
def other_store(db_url: str, clock: FakeClock, store: HandoffStore) -> Iterator[HandoffStore]:
    """A second store on the same database, as the other process (the action server) has."""
    opened = HandoffStore(db_url, clock=clock)
    yield opened
    opened.close()
