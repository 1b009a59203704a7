"""Requests made while the store is down are kept on disk and recorded when it is back."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.handoff.client import HandoffClient
from bot.handoff.errors import StoreUnavailable
from bot.handoff.retry import MissedRequest, RetrySpool, RetryWorker
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffStore

SUMMARY = "话题：账户安全；已验证联系方式：138****8000"


@pytest.fixture()
def place(tmp_path: Path) -> Path:
    (tmp_path / "db").mkdir()
    return tmp_path


@pytest.fixture()
def client(place: Path) -> Iterator[HandoffClient]:
    settings = HandoffSettings(
        db_url=f"sqlite:///{place / 'db' / 'handoff.db'}",
        agent_hours="00:00-24:00",
        retry_dir=str(place / "retry"),
        retry_seconds=1,
    )
    opened = HandoffClient(settings)
    yield opened
    opened.close()


def _down(place: Path) -> None:
    os.rename(place / "db", place / "db-away")


def _back(place: Path) -> None:
    os.rename(place / "db-away", place / "db")


def test_a_request_while_the_store_is_down_is_kept_and_recorded_when_it_is_back(
    client: HandoffClient, place: Path
) -> None:
    _down(place)
    with pytest.raises(StoreUnavailable):
        client.request_person("rest:u1", "rest", "urgent", "账户安全", SUMMARY)
    (kept,) = client.spool.waiting()
    assert json.loads(kept.read_text(encoding="utf-8"))["summary"] == SUMMARY  # masked as queued
    with pytest.raises(StoreUnavailable):
        client.spool.flush(client.store)  # still down: kept
    assert client.spool.waiting() == [kept] and client.spool.unrecorded() == [kept]
    _back(place)
    assert client.spool.flush(client.store) == 1 and client.spool.waiting() == []
    left = client.store.latest_for("rest:u1")
    assert (left.status, left.priority, left.summary) == ("message_left", "urgent", SUMMARY)
    assert client.spool.flush(client.store) == 0


def test_normal_requests_come_back_with_high_priority(client: HandoffClient, place: Path) -> None:
    _down(place)
    with pytest.raises(StoreUnavailable):
        client.request_person("rest:u2", "rest", "normal", "其他", "")
    _back(place)
    client.spool.flush(client.store)
    assert client.store.latest_for("rest:u2").priority == "high"  # type: ignore[union-attr]


def test_a_user_who_got_through_since_is_not_recorded_twice(client: HandoffClient, place: Path) -> None:
    _down(place)
    with pytest.raises(StoreUnavailable):
        client.request_person("rest:u3", "rest", "normal", "其他", "")
    _back(place)
    time.sleep(0.01)
    client.retries.stop()  # no background flush in between
    outcome = client.request_person("rest:u3", "rest", "normal", "其他", "")  # nobody on duty
    assert not outcome.queued
    assert client.spool.flush(client.store) == 0 and client.spool.waiting() == []
    assert client.store.latest_for("rest:u3").id == 1  # type: ignore[union-attr]


def test_the_background_retry_records_and_stops(client: HandoffClient, place: Path) -> None:
    _down(place)
    with pytest.raises(StoreUnavailable):
        client.request_person("rest:u4", "rest", "high", "投诉", "")
    _back(place)
    deadline = time.monotonic() + 10
    while client.spool.unrecorded() and time.monotonic() < deadline:  # a claimed file is no longer waiting
        time.sleep(0.05)
    assert client.spool.waiting() == [] and client.store.latest_for("rest:u4").status == "message_left"  # type: ignore[union-attr]
    deadline = time.monotonic() + 5
    while client.retries._thread is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.retries._thread is None  # nothing waits: the thread ended


def test_a_claimed_request_is_unrecorded_but_no_longer_waiting(tmp_path: Path) -> None:
    spool = RetrySpool(tmp_path / "retry")
    assert spool.unrecorded() == []
    (kept,) = [
        spool.keep(
            MissedRequest("rest:u6", "rest", "normal", "其他", "", datetime.now(timezone.utc).isoformat())
        )
    ]
    claimed = RetrySpool._claim(kept)
    assert claimed is not None and spool.waiting() == [] and spool.unrecorded() == [claimed]
    assert RetrySpool._claim(kept) is None  # a second flush does not take it


def test_unreadable_files_are_set_aside(tmp_path: Path) -> None:
    spool = RetrySpool(tmp_path / "retry")
    assert spool.waiting() == []
    spool.keep(MissedRequest("rest:u5", "rest", "normal", "其他", "", datetime.now(timezone.utc).isoformat()))
    (tmp_path / "retry" / "0-broken.json").write_text("{not json", encoding="utf-8")
    store = HandoffStore(f"sqlite:///{tmp_path / 'h.db'}")
    store.create_schema()
    assert spool.flush(store) == 1
    assert spool.waiting() == [] and [p.suffix for p in (tmp_path / "retry").iterdir()] == [".bad"]


def test_a_worker_without_work_stops_at_once(tmp_path: Path) -> None:
    store = HandoffStore(f"sqlite:///{tmp_path / 'h.db'}")
    worker = RetryWorker(RetrySpool(tmp_path / "retry"), store, seconds=0.05)
    worker.wake()
    worker.stop()
    assert worker._thread is None or not worker._thread.is_alive()


def test_two_flushes_at_once_record_each_request_once(client: HandoffClient, place: Path) -> None:
    """The background thread and another flush (or another server on this disk) at the same time."""
    import threading

    _down(place)
    for n in range(12):
        with pytest.raises(StoreUnavailable):
            client.request_person(f"rest:many{n}", "rest", "normal", "其他", "")
    client.retries.stop()  # only the flushes below
    _back(place)
    counts: list[int] = []
    flushes = [
        threading.Thread(target=lambda: counts.append(client.spool.flush(client.store))) for _ in range(4)
    ]
    for flush in flushes:
        flush.start()
    for flush in flushes:
        flush.join()
    assert sum(counts) == 12 and client.spool.waiting() == []
    for n in range(12):
        assert client.store.latest_for(f"rest:many{n}").status == "message_left"  # type: ignore[union-attr]
    assert not list(client.spool.directory.glob("*.flushing"))


def test_a_claim_left_by_a_dead_flush_is_taken_again(client: HandoffClient, place: Path) -> None:
    import os

    from bot.handoff import retry

    _down(place)
    with pytest.raises(StoreUnavailable):
        client.request_person("rest:crashed", "rest", "normal", "其他", "")
    client.retries.stop()  # only the flushes below
    _back(place)
    (kept,) = client.spool.waiting()
    claimed = kept.with_name(kept.name + retry.CLAIMED)
    os.rename(kept, claimed)  # a flush died holding it
    assert client.spool.flush(client.store) == 0  # a fresh claim is someone else's
    old = time.time() - retry.STALE_CLAIM_SECONDS - 5
    os.utime(claimed, (old, old))
    assert client.spool.flush(client.store) == 1
    assert client.store.latest_for("rest:crashed").status == "message_left"  # type: ignore[union-attr]
