"""Which Rasa server runs the handoff's once-only background work (the expiry sweep).

With several Rasa servers on one PostgreSQL database the sweep runs on one of them at a time:
the one that holds a session-level advisory lock (``pg_try_advisory_lock``) on a connection of
its own. It keeps the lock, and the sweep, while that connection lives; when the server stops,
dies or loses its connection, PostgreSQL releases the lock and the next round of another
server takes it. The lock's key is per schema, so handoff stores in different schemas of one
database do not exclude each other.

On SQLite (the embedded default: one machine) every server sweeps. Either way the sweep itself
is safe to race: a request expires in one conditional UPDATE, so exactly one sweeper expires
it and tells its user (``HandoffStore.expire_pending``); the lock keeps the others from doing
the same work for nothing.

Blocking (SQL): called in the handoff's worker pools.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)

# The pair (namespace, schema) is the advisory lock's key: pg_try_advisory_lock(int4, int4).
_TRY = text("SELECT pg_try_advisory_lock(:ns, hashtext(coalesce(current_schema(), '')) & 2147483647)")
_UNLOCK = text("SELECT pg_advisory_unlock(:ns, hashtext(coalesce(current_schema(), '')) & 2147483647)")
_HELD = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    " AND granted AND objsubid = 2 AND classid = CAST(:ns AS oid)"
    " AND objid = CAST(hashtext(coalesce(current_schema(), '')) & 2147483647 AS oid)"
)


def lock_namespace(name: str) -> int:
    """The advisory lock's first key for a task name (a positive 32-bit integer)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "big") & 0x7FFFFFFF


class Leadership(Protocol):
    """Whether this server may run a once-only task now."""

    def acquire(self) -> bool:
        """True when this server leads (it keeps leading until ``release`` or a lost connection)."""

    def release(self) -> None:
        """Stop leading (shutdown)."""


class EveryServer:
    """No election: every server runs the task (SQLite, one machine)."""

    def acquire(self) -> bool:
        """Always."""
        return True

    def release(self) -> None:
        """Nothing to release."""


class AdvisoryLock:
    """Leadership by a PostgreSQL advisory lock held on a dedicated connection.

    The connection is in autocommit, so holding the lock never keeps a transaction open.
    """

    def __init__(self, engine: Engine, name: str = "handoff-expiry") -> None:
        """Prepare the lock on ``engine``; nothing connects before ``acquire``."""
        self._engine = engine
        self._params = {"ns": lock_namespace(name)}
        self._name = name
        self._conn: Connection | None = None
        self._mutex = threading.Lock()

    @property
    def held(self) -> bool:
        """Whether this server believes it holds the lock (checked again by ``acquire``)."""
        return self._conn is not None

    def acquire(self) -> bool:
        """Keep or take the lock; False while another server holds it.

        Raises:
            SQLAlchemyError: the database cannot be reached (nobody leads from here).
        """
        with self._mutex:
            if self._conn is not None:
                try:
                    if self._conn.execute(_HELD, self._params).scalar_one():
                        return True
                    logger.warning("handoff %s: the advisory lock was lost", self._name)
                except SQLAlchemyError:
                    logger.warning("handoff %s: the lock's connection broke; taking it again", self._name)
                self._discard()
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                taken = bool(conn.execute(_TRY, self._params).scalar_one())
            except BaseException:
                conn.close()
                raise
            if not taken:
                conn.close()
                return False
            self._conn = conn
            logger.info("handoff %s: this server leads (advisory lock taken)", self._name)
            return True

    def release(self) -> None:
        """Give the lock up (closing its connection would too)."""
        with self._mutex:
            if self._conn is None:
                return
            with contextlib.suppress(SQLAlchemyError):  # gone: the lock went with the connection
                self._conn.execute(_UNLOCK, self._params)
            self._discard()

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                conn.invalidate()  # never back to the pool: a lock may still hang on it
            conn.close()


def leadership_for(engine: Engine, name: str = "handoff-expiry") -> Leadership:
    """An advisory lock on PostgreSQL; every server leads on SQLite."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine, name)
    return EveryServer()
