"""The tracker store keeps conversations as stored, catches up with other writers, and never
writes a conversation that does not extend the stored one."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from sqlalchemy.exc import OperationalError

from bot.runtime.turns import TurnAbandoned, user_turn
from bot.tracker_store import MaskingSQLTrackerStore, StoreConflict


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load("domain.yml")


def _store(domain: Domain, db: Path, **env: str) -> MaskingSQLTrackerStore:
    return MaskingSQLTrackerStore(domain, dialect="sqlite", db=str(db))


def _turn(tracker: DialogueStateTracker, text: str, reply: str) -> None:
    tracker.update(UserUttered(text, {"name": "inform", "confidence": 0.9}))
    tracker.update(SlotSet("complaint_description", text))
    tracker.update(ActionExecuted("utter_x"))
    tracker.update(BotUttered(reply))
    tracker.update(ActionExecuted("action_listen"))


def _started(domain: Domain, sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, domain.slots)
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
    return tracker


def _state(tracker: DialogueStateTracker | None) -> dict:
    assert tracker is not None
    return tracker.current_state(EventVerbosity.ALL)


def _count(db: Path, sender: str) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0]


def test_a_kept_conversation_is_the_stored_one(domain: Domain, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    store = _store(domain, db)
    tracker = _started(domain, "u1")
    asyncio.run(store.save(tracker))
    for i in range(5):
        tracker = asyncio.run(store.retrieve("u1"))
        assert tracker is not None
        _turn(tracker, f"我的手机是1380013800{i}", f"好的{i}")
        asyncio.run(store.save(tracker))
    kept = asyncio.run(store.retrieve("u1"))
    rebuilt = asyncio.run(_store(domain, db).retrieve("u1"))  # a fresh store: read from the table
    assert _state(kept) == _state(rebuilt)
    assert "13800138004" not in json.dumps(_state(kept), ensure_ascii=False)  # masked, as stored
    assert kept.get_slot("complaint_description") == "我的手机是138****8004"  # type: ignore[union-attr]


def test_readers_get_copies(domain: Domain, tmp_path: Path) -> None:
    store = _store(domain, tmp_path / "t.db")
    tracker = _started(domain, "u1")
    _turn(tracker, "第一句", "回答")
    asyncio.run(store.save(tracker))
    first = asyncio.run(store.retrieve("u1"))
    assert first is not None
    _turn(first, "没有保存的一句", "没有保存的回答")  # a turn that failed before its save
    second = asyncio.run(store.retrieve("u1"))
    assert _state(second) == _state(asyncio.run(_store(domain, tmp_path / "t.db").retrieve("u1")))
    assert second.get_slot("complaint_description") == "第一句"  # type: ignore[union-attr]


def test_the_same_conversation_saved_twice_is_stored_once(domain: Domain, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    store = _store(domain, db)
    tracker = _started(domain, "u1")  # starts with action_session_start, outside the session query
    _turn(tracker, "第一句", "回答")
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(tracker))
    _turn(tracker, "第二句", "回答")
    asyncio.run(store.save(tracker))
    assert _count(db, "u1") == len(tracker.events)


def test_another_instance_writes_between_and_is_caught_up(domain: Domain, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    a, b = _store(domain, db), _store(domain, db)
    tracker = _started(domain, "u1")
    asyncio.run(a.save(tracker))
    for i in range(6):  # consecutive messages on alternate instances, as behind the balancer
        store = (a, b)[i % 2]
        tracker = asyncio.run(store.retrieve("u1"))
        assert tracker is not None
        _turn(tracker, f"第{i}句", f"回答{i}")
        asyncio.run(store.save(tracker))
    for store in (a, b):
        assert _state(asyncio.run(store.retrieve("u1"))) == _state(
            asyncio.run(_store(domain, db).retrieve("u1"))
        )
    texts = [e.text for e in asyncio.run(b.retrieve("u1")).events if isinstance(e, UserUttered)]  # type: ignore[union-attr]
    assert texts == [f"第{i}句" for i in range(6)]


def test_a_conversation_that_does_not_extend_the_stored_one_is_never_written(
    domain: Domain, tmp_path: Path
) -> None:
    db = tmp_path / "t.db"
    store = _store(domain, db)
    tracker = _started(domain, "u1")
    for i in range(3):
        _turn(tracker, f"第{i}句", f"回答{i}")
    asyncio.run(store.save(tracker))
    stored = _count(db, "u1")
    # What Rasa's fail-safe store does after a failed read: the conversation starts afresh.
    fresh = _started(domain, "u1")
    _turn(fresh, "后来的一句", "回答")
    with pytest.raises(StoreConflict):
        asyncio.run(store.save(fresh))
    assert _count(db, "u1") == stored
    # A stale copy (another writer got in between) is refused the same way.
    stale = asyncio.run(store.retrieve("u1"))
    current = asyncio.run(store.retrieve("u1"))
    assert stale is not None and current is not None
    _turn(current, "新的一句", "回答")
    asyncio.run(store.save(current))
    time.sleep(0.01)
    _turn(stale, "过时的一句", "回答")
    with pytest.raises(StoreConflict):
        asyncio.run(store.save(stale))
    texts = [
        e.text for e in asyncio.run(_store(domain, db).retrieve("u1")).events if isinstance(e, UserUttered)
    ]  # type: ignore[union-attr]
    assert texts == ["第0句", "第1句", "第2句", "新的一句"]


def test_a_new_session_is_read_from_the_table(domain: Domain, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    store = _store(domain, db)
    tracker = _started(domain, "u1")
    _turn(tracker, "上次的问题", "回答")
    asyncio.run(store.save(tracker))
    tracker = asyncio.run(store.retrieve("u1"))
    assert tracker is not None
    time.sleep(0.01)
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
    _turn(tracker, "新会话的问题", "回答")
    asyncio.run(store.save(tracker))
    again = asyncio.run(store.retrieve("u1"))
    assert _state(again) == _state(asyncio.run(_store(domain, db).retrieve("u1")))
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["新会话的问题"]  # type: ignore[union-attr]


def test_the_kept_conversations_are_bounded(
    domain: Domain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_CACHE_SIZE", "3")
    store = _store(domain, tmp_path / "t.db")
    for i in range(10):
        tracker = _started(domain, f"u{i}")
        _turn(tracker, "你好", "您好")
        asyncio.run(store.save(tracker))
        asyncio.run(store.retrieve(f"u{i}"))
    assert len(store._kept) == 3
    assert asyncio.run(store.retrieve("u0")) is not None  # forgotten, not lost
    monkeypatch.setenv("TRACKER_CACHE_SIZE", "-1")
    with pytest.raises(ValueError):
        _store(domain, tmp_path / "t2.db")


def test_a_store_that_keeps_failing_abandons_the_users_turn(
    domain: Domain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(domain, tmp_path / "t.db")
    tracker = _started(domain, "u1")
    asyncio.run(store.save(tracker))
    calls = []

    def broken(*_: object) -> None:
        calls.append(1)
        raise OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(store, "_read", broken)
    monkeypatch.setattr(store, "_write", broken)
    with pytest.raises(OperationalError):  # outside a user's turn: Rasa's handling
        asyncio.run(store.retrieve("u1"))
    assert len(calls) == 2  # tried once more

    async def in_turn() -> None:
        with user_turn():
            await store.retrieve("u1")

    with pytest.raises(TurnAbandoned):
        asyncio.run(in_turn())

    async def save_in_turn() -> None:
        with user_turn():
            await store.save(tracker)

    with pytest.raises(TurnAbandoned):
        asyncio.run(save_in_turn())


def test_one_failure_is_survived(domain: Domain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(domain, tmp_path / "t.db")
    tracker = _started(domain, "u1")
    _turn(tracker, "你好", "您好")
    asyncio.run(store.save(tracker))
    real = store._read
    failures = [1]

    def flaky(sender: str) -> DialogueStateTracker | None:
        if failures:
            failures.pop()
            raise OperationalError(
                "SELECT", {}, Exception("terminating connection due to administrator command")
            )
        return real(sender)

    monkeypatch.setattr(store, "_read", flaky)
    again = asyncio.run(store.retrieve("u1"))
    assert again is not None and again.get_slot("complaint_description") == "你好"


def test_the_next_turn_shares_the_events_masking_left_alone(domain: Domain, tmp_path: Path) -> None:
    """What bot.runtime.history folds over is anchored by identity: the next turn's tracker
    holds this turn's event objects, except those masking changed (stored masked)."""
    store = _store(domain, tmp_path / "t.db")
    tracker = _started(domain, "u1")
    asyncio.run(store.save(tracker))
    tracker = asyncio.run(store.retrieve("u1"))
    assert tracker is not None
    _turn(tracker, "我的手机是13800138000", "好的")
    asyncio.run(store.save(tracker))
    again = asyncio.run(store.retrieve("u1"))
    assert again is not None
    written, read = list(tracker.events)[-5:], list(again.events)[-5:]
    for before, after in zip(written, read, strict=True):
        masked = "13800138000" in json.dumps(before.as_dict(), ensure_ascii=False)
        assert (after is before) != masked, before  # shared unless masking changed it
        assert "13800138000" not in json.dumps(after.as_dict(), ensure_ascii=False)
    assert _state(again) == _state(asyncio.run(_store(domain, tmp_path / "t.db").retrieve("u1")))
