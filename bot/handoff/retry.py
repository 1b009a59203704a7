"""Requests for a person made while the handoff store was down, kept on disk until it is back.

Each request is one JSON file in the retry directory, written atomically (a temporary file,
then a rename), with the masked summary the queue would have shown. When the store answers
again each becomes a message left (the 留言 queue, at least high priority: the user was told
they would be helped first), unless the user has reached the store since (a newer handoff of
theirs exists), which also makes a retry after a crash harmless. A background thread retries
every few seconds while files are waiting, and stops when there are none.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from bot.handoff.errors import HandoffError, StoreUnavailable
from bot.handoff.store import HandoffStore
from bot.handoff.workers import guarded

logger = logging.getLogger(__name__)
SUFFIX = ".json"
CLAIMED = ".flushing"  # a kept request one flush has taken (renamed atomically)
STALE_CLAIM_SECONDS = 600  # a claim this old belongs to a flush that died: the request is put back
RAISED = {"normal": "high", "high": "high", "urgent": "urgent"}


@dataclass(frozen=True)
class MissedRequest:
    """A request for a person that the store could not take."""

    sender_id: str
    channel: str
    priority: str
    topic: str
    summary: str
    requested_at: str  # ISO 8601, timezone-aware


class RetrySpool:
    """The directory of missed requests."""

    def __init__(self, directory: str | Path) -> None:
        """Use ``directory`` (created when the first request is kept)."""
        self.directory = Path(directory)

    def keep(self, request: MissedRequest) -> Path:
        """Write one request durably (OSError when the disk refuses)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.fromisoformat(request.requested_at):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex}{SUFFIX}"
        fd, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(asdict(request), out, ensure_ascii=False)
                out.flush()
                os.fsync(out.fileno())
            path = self.directory / name
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path

    def waiting(self) -> list[Path]:
        """The kept requests, oldest first."""
        return self._listed(f"*{SUFFIX}")

    def unrecorded(self) -> list[Path]:
        """The kept requests and those a flush has claimed but not yet recorded."""
        return self._listed(f"*{SUFFIX}", f"*{SUFFIX}{CLAIMED}")

    def _listed(self, *patterns: str) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(path for pattern in patterns for path in self.directory.glob(pattern))

    def flush(self, store: HandoffStore) -> int:
        """Record every kept request as a message left; returns how many were recorded.

        Raises:
            StoreUnavailable: the store is still down (what is left stays for the next try).
        """
        recorded = 0
        self._reclaim_stale()
        waiting = self.waiting()
        if waiting:
            guarded(store.create_schema)  # a store that was never reached may have no tables yet
        for path in waiting:
            claimed = self._claim(path)
            if claimed is None:
                continue  # another flush (a thread, another server on this disk) has it
            try:
                recorded += self._record(store, claimed)
            except StoreUnavailable:
                os.replace(claimed, path)  # back in the spool for the next try
                raise
        return recorded

    def _reclaim_stale(self) -> None:
        """Put back what a flush that died mid-way had claimed (older than STALE_CLAIM_SECONDS)."""
        if not self.directory.is_dir():
            return
        for claimed in self.directory.glob(f"*{SUFFIX}{CLAIMED}"):
            try:
                if time.time() - claimed.stat().st_mtime > STALE_CLAIM_SECONDS:
                    os.rename(claimed, claimed.with_name(claimed.name.removesuffix(CLAIMED)))
            except FileNotFoundError:
                continue

    @staticmethod
    def _claim(path: Path) -> Path | None:
        """Take one kept request for this flush (an atomic rename: one flush wins)."""
        claimed = path.with_name(path.name + CLAIMED)
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            return None
        return claimed

    @staticmethod
    def _record(store: HandoffStore, claimed: Path) -> int:
        """Record one claimed request as a message left (1), or set it aside or drop it (0)."""
        try:
            request = MissedRequest(**json.loads(claimed.read_text(encoding="utf-8")))
            requested = datetime.fromisoformat(request.requested_at)
        except (OSError, ValueError, TypeError):
            logger.error("handoff retry: an unreadable request file was set aside")
            claimed.rename(_set_aside(claimed))
            return 0
        latest = guarded(store.latest_for, request.sender_id)
        if latest is not None and latest.created_at >= requested:
            claimed.unlink(missing_ok=True)  # the user has reached the store since
            return 0
        try:
            guarded(
                store.record_message,
                request.sender_id,
                request.channel,
                RAISED.get(request.priority, "high"),
                request.topic,
                request.summary,
                "kept while the store was down",
            )
        except StoreUnavailable:
            raise
        except HandoffError:
            logger.error("handoff retry: the store refused a kept request; it was set aside")
            claimed.rename(_set_aside(claimed))
            return 0
        claimed.unlink(missing_ok=True)
        return 1


def _set_aside(claimed: Path) -> Path:
    """Where an unusable request is kept for a person to look at ("….bad")."""
    return claimed.with_name(claimed.name.removesuffix(CLAIMED)).with_suffix(".bad")


class RetryWorker:
    """A daemon thread that flushes the spool every ``seconds`` while requests wait."""

    def __init__(self, spool: RetrySpool, store: HandoffStore, seconds: float) -> None:
        """Bind the worker; no thread starts before ``start`` or ``wake``."""
        self.spool = spool
        self.store = store
        self.seconds = seconds
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Make sure the thread runs (it stops by itself when nothing waits)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="handoff-retry", daemon=True)
                self._thread.start()

    def wake(self) -> None:
        """Try now (the store was just seen working)."""
        self._wake.set()
        self.start()

    def stop(self) -> None:
        """Stop the thread (tests, shutdown)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.seconds)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                if self.spool.flush(self.store):
                    logger.info("handoff retry: kept requests were recorded as messages")
            except StoreUnavailable:
                logger.warning("handoff retry: the store is still unavailable")
            except Exception:
                logger.exception("handoff retry failed")
            with self._lock:
                if not self.spool.waiting() and not self._wake.is_set():
                    self._thread = None
                    return
