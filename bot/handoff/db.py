"""The database under the handoff store: engine, schema, transactions, the clock.

SQLite (the embedded default) is opened for two processes at once: WAL journal, a
busy timeout, foreign keys on, and write transactions that take the write lock at
``BEGIN`` (``BEGIN IMMEDIATE``) so that two writers wait for each other instead of
failing with "database is locked" halfway through. PostgreSQL needs none of that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import create_engine, event, insert, select, update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError
from sqlalchemy.pool import StaticPool

from bot.handoff.errors import InvalidInput
from bot.handoff.schema import audit_log, metadata, version
from bot.masking import mask_text

SQLITE_BUSY_TIMEOUT_SECONDS = 30
MAX_AUDIT_DETAIL = 2000
_READ_ONLY = "handoff_read_only"


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver's own BEGIN is replaced by _sqlite_begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    if conn.get_execution_options().get(_READ_ONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def build_engine(url: str, connect_timeout: int | None = None) -> Engine:
    """An engine for ``url`` (``sqlite:///...`` or ``postgresql://...``); connects only when used.

    ``connect_timeout`` (seconds) bounds how long opening a PostgreSQL connection may take, so
    that a server that does not answer counts as down instead of hanging the caller.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise InvalidInput("not a database URL") from error
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        in_memory = parsed.database in (None, "", ":memory:")
        engine = create_engine(
            parsed,
            future=True,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            poolclass=StaticPool if in_memory else None,
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if backend == "postgresql":
        connect_args = {"connect_timeout": connect_timeout} if connect_timeout else {}
        return create_engine(parsed, future=True, pool_pre_ping=True, connect_args=connect_args)
    raise InvalidInput("the handoff store supports SQLite and PostgreSQL only")


class Database:
    """Engine, schema and transaction helpers shared by the store's parts."""

    def __init__(
        self, url: str, *, clock: Callable[[], datetime] = utcnow, connect_timeout: int | None = None
    ) -> None:
        """Prepare the engine for ``url``; nothing is opened until the first operation.

        Args:
            url: an SQLAlchemy database URL.
            clock: where "now" comes from, timezone-aware (tests pass a controllable clock).
            connect_timeout: seconds a PostgreSQL connection may take to open.
        """
        self._engine = build_engine(url, connect_timeout)
        self._clock = clock

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for tests and maintenance)."""
        return self._engine

    def create_schema(self) -> None:
        """Create the tables that do not exist yet, and the version counter's row."""
        with self._tx() as conn:
            metadata.create_all(conn)
        try:
            with self._tx() as conn:
                if conn.execute(select(version.c.id).where(version.c.id == 1)).first() is None:
                    conn.execute(insert(version).values(id=1, value=0))
        except IntegrityError:  # another process inserted it at the same moment
            pass

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        return now.astimezone(timezone.utc)

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back on an exception."""
        with self._engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read-only transaction (on SQLite it does not take the write lock)."""
        with self._engine.connect() as conn:
            conn.execution_options(**{_READ_ONLY: True})
            with conn.begin():
                yield conn

    def _audit(
        self, conn: Connection, agent_id: int | None, action: str, handoff_id: int | None, detail: str
    ) -> None:
        conn.execute(
            insert(audit_log).values(
                at=self._now(),
                agent_id=agent_id,
                action=action,
                handoff_id=handoff_id,
                detail=mask_text(detail)[:MAX_AUDIT_DETAIL],
            )
        )

    def _bump(self, conn: Connection) -> None:
        """Increase the handoff version, in the transaction that changed a handoff."""
        conn.execute(update(version).where(version.c.id == 1).values(value=version.c.value + 1))
