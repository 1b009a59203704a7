"""Writes done once: an idempotency key per conversation step, and a ledger that replays the
result of a write whose key was seen before.

A write (send a code or a reset link, change a contact, freeze, open a ticket) can be tried
twice: the action gave up after its time limit while the backend still finished, or the
user asked again. Its key is derived from the conversation and the step
(``step_key``), so the second try gets the first one's result instead of doing it again,
and the user is told what really happened. The HTTP client sends the key as the
``Idempotency-Key`` header (the backend replays); the sandbox keeps this ledger itself.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from actions.backend.codec import encode
from actions.backend.errors import BackendUnavailable, InvalidRequest

T = TypeVar("T")
# A write still marked running after this long was abandoned (its process died): retry it.
STALE_AFTER = timedelta(minutes=5)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotent_writes (
  key TEXT PRIMARY KEY, operation TEXT NOT NULL, fingerprint TEXT NOT NULL,
  state TEXT NOT NULL, result TEXT, started_at TEXT NOT NULL)
"""


def step_key(conversation_id: str, step: str, *parts: object) -> str:
    """The key of one step of one conversation ("freeze", account, flow start …)."""
    text = "\x1f".join([conversation_id, step, *(str(p) for p in parts)])
    return hashlib.sha256(text.encode()).hexdigest()[:40]


class WriteInProgress(BackendUnavailable):
    """The first attempt of this write has not finished yet."""


class WriteLedger:
    """Results of keyed writes, in SQLite (the sandbox's file by default)."""

    def __init__(self, path: Path | str) -> None:
        """Use (and create when missing) the ledger table in this database file."""
        self._path = str(path)
        with self._db() as db:
            db.execute(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self._path, timeout=5, isolation_level=None)
        try:
            yield connection
        finally:
            connection.close()

    def once(
        self, key: str, operation: str, fingerprint: str, call: Callable[[], T], decode: Callable[[Any], T]
    ) -> T:
        """The result of ``call`` for this key: run the first time, replayed afterwards.

        Raises:
            WriteInProgress: a first attempt with this key is still running.
            InvalidRequest: the key was used for another operation or other arguments.
        """
        now = datetime.now(timezone.utc)
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT operation, fingerprint, state, result, started_at "
                "FROM idempotent_writes WHERE key = ?",
                (key,),
            ).fetchone()
            if row is not None:
                if (row[0], row[1]) != (operation, fingerprint):
                    db.execute("ROLLBACK")
                    raise InvalidRequest("the idempotency key was used for another request")
                if row[2] == "done":
                    db.execute("COMMIT")
                    return decode(json.loads(row[3]))
                if now - datetime.fromisoformat(row[4]) < STALE_AFTER:
                    db.execute("COMMIT")
                    raise WriteInProgress("this request is still being processed")
            db.execute(
                "INSERT OR REPLACE INTO idempotent_writes VALUES (?, ?, ?, 'running', NULL, ?)",
                (key, operation, fingerprint, now.isoformat()),
            )
            db.execute("COMMIT")
        try:
            result = call()
        except BaseException:
            with self._db() as db:  # failed: nothing was done, a retry may run it
                db.execute("DELETE FROM idempotent_writes WHERE key = ? AND state = 'running'", (key,))
            raise
        with self._db() as db:
            db.execute(
                "UPDATE idempotent_writes SET state = 'done', result = ? WHERE key = ?",
                (json.dumps(_masked(encode(result))), key),
            )
        return result


def _masked(value: Any) -> Any:
    """A result as the ledger keeps it: personal data masked (a replay needs ids and states)."""
    from bot.masking import mask_text

    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def fingerprint(*args: object) -> str:
    """What a keyed write was asked to do, to refuse a key reused for something else."""
    return hashlib.sha256(json.dumps([str(a) for a in args]).encode()).hexdigest()[:32]
