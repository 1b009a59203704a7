"""Stored transcripts have personal data masked (known answers), and the store works."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import MaskingSQLTrackerStore, mask_event, mask_stored_text, mask_value

SEALED = (
    "enc:v1:gAAAAABrDpZJdeWvrVatHZNzgiAtDlGrym9wuZLJyVyJLRR5I7LfQSclO5PPF-JJiXb_FAFq"
    "-gMltECftiYk4Q0luCgS88WaTA=="
)


def test_known_answers() -> None:
    assert mask_stored_text("我的手机 13800138000，验证码 246810") == "我的手机 138****8000，验证码 ******"
    assert mask_stored_text("246810") == "******"
    assert mask_stored_text("单号 TX202611242103001 金额 500") == "单号 TX202611242103001 金额 500"
    event = mask_event(
        {
            "event": "user",
            "text": "邮箱 zhangwei@example.com",
            "parse_data": {
                "text": "邮箱 zhangwei@example.com",
                "entities": [
                    {"entity": "email", "value": "zhangwei@example.com", "text": "zhangwei@example.com"}
                ],
            },
            "metadata": {"identity_token": "payload.signature"},
        }
    )
    assert "zhangwei" not in str(event) and "signature" not in str(event)
    assert event["parse_data"]["entities"][0]["value"] == "z***@example.com"
    assert "identity_token" not in event["metadata"]


def test_every_string_at_any_depth_is_masked() -> None:
    data = {
        "event": "bot",
        "text": "验证码已发送至 138****8000",
        "data": {
            "buttons": [{"title": "改成13900001234", "payload": '/inform{"phone": "13900001234"}'}],
            "custom": {"echo": ["卡号6222021234567890123", {"deep": "身份证110101199003071234"}]},
        },
        "metadata": {"Authorization": "Bearer abc", "note": "lina@example.cn"},
        "number": 13912345678,
        "flag": True,
        "confidence": 0.9,
    }
    masked = mask_value(data)
    assert masked["data"]["buttons"][0] == {
        "title": "改成139****1234",
        "payload": '/inform{"phone": "139****1234"}',
    }
    assert masked["data"]["custom"]["echo"] == [
        "卡号6222 **** **** 0123",
        {"deep": "身份证1101**********1234"},
    ]
    assert masked["metadata"] == {"note": "l***@example.cn"}
    assert masked["number"] == "139****5678" and masked["flag"] is True and masked["confidence"] == 0.9


def test_sealed_values_and_the_conversation_id_stay() -> None:
    slot = {"event": "slot", "name": "reset_contact", "value": SEALED}
    assert mask_event(slot) == slot
    verified = {"event": "slot", "name": "verified_for", "value": "telegram:13800138000"}
    assert mask_event(verified, keep=["telegram:13800138000"]) == verified
    assert mask_event(verified)["value"] == "telegram:138****8000"


def _rows(db: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as connection:
        return [json.loads(row[0]) for row in connection.execute("SELECT data FROM events ORDER BY id")]


def test_the_store_keeps_masked_events(tmp_path: Path) -> None:
    domain = Domain.load("domain.yml")
    store = MaskingSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "t.db"))
    tracker = DialogueStateTracker("someone", domain.slots)
    tracker.update(UserUttered("我的手机号是13800138000", {"name": "inform", "confidence": 1.0}))
    tracker.update(BotUttered("验证码已发送至 138****8000"))
    tracker.update(UserUttered("246810", {"name": "inform", "confidence": 1.0}))
    tracker.update(SlotSet("reset_contact", SEALED))
    tracker.update(SlotSet("security_report", "手机13912345678丢了"))
    tracker.update(ActionExecuted("action_listen", action_text="lina@example.cn"))
    asyncio.run(store.save(tracker))
    stored = asyncio.run(store.retrieve("someone"))
    assert stored is not None
    texts = [e.text for e in stored.events if isinstance(e, (UserUttered, BotUttered))]
    assert texts == ["我的手机号是138****8000", "验证码已发送至 138****8000", "******"]
    assert stored.get_slot("reset_contact") == SEALED
    assert stored.get_slot("security_report") == "手机139****5678丢了"
    dumped = json.dumps(_rows(tmp_path / "t.db"), ensure_ascii=False)
    for raw in ("13800138000", "246810", "13912345678", "lina@example.cn"):
        assert raw not in dumped


def test_the_event_broker_gets_masked_events(tmp_path: Path) -> None:
    published: list[dict[str, Any]] = []

    class Broker:
        def publish(self, event: dict[str, Any]) -> None:
            published.append(event)

    domain = Domain.load("domain.yml")
    store = MaskingSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "t.db"))
    store.event_broker = Broker()  # type: ignore[assignment]
    tracker = DialogueStateTracker("rest:someone", domain.slots)
    tracker.update(UserUttered("邮箱 zhangwei@example.com", {"name": "inform", "confidence": 1.0}))
    asyncio.run(store.save(tracker))
    assert published and published[-1]["sender_id"] == "rest:someone"
    assert "zhangwei@example.com" not in json.dumps(published, ensure_ascii=False)


def test_the_names_of_the_domain_are_never_masked() -> None:
    """Intent, entity, slot, form, action and response names are stored in every transcript:
    masking one ("password******" for password_reset_form) would break the conversation."""
    domain = Domain.load("domain.yml")
    names = [
        *domain.intents,
        *domain.entities,
        *(slot.name for slot in domain.slots),
        *domain.form_names,
        *domain.action_names_or_texts,
        *domain.responses,
    ]
    assert len(names) > 100
    assert [name for name in names if mask_stored_text(name) != name] == []


def test_a_form_in_progress_survives_the_store(tmp_path: Path) -> None:
    domain = Domain.load("domain.yml")
    store = MaskingSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "t.db"))
    tracker = DialogueStateTracker("rest:someone", domain.slots)
    tracker.update(UserUttered("忘记密码了", {"name": "forgot_password", "confidence": 1.0}))
    tracker.update(ActionExecuted("password_reset_form"))
    tracker.update(ActiveLoop("password_reset_form"))
    tracker.update(SlotSet("requested_slot", "reset_contact"))
    tracker.update(BotUttered("请输入手机号", metadata={"utter_action": "utter_ask_reset_contact"}))
    asyncio.run(store.save(tracker))
    stored = asyncio.run(store.retrieve("rest:someone"))
    assert stored is not None
    assert stored.active_loop_name == "password_reset_form"
    assert stored.get_slot("requested_slot") == "reset_contact"
    assert stored.latest_message.intent["name"] == "forgot_password"


def test_an_entity_on_personal_data_has_its_value_masked() -> None:
    """A normalized value ("246810.00") does not look like the code it was read from."""
    text = "验证码 246810"
    parse = {"text": text, "entities": [{"entity": "amount", "start": 4, "end": 10, "value": "246810.00"}]}
    stored = json.dumps(mask_value({"event": "user", "text": text, "parse_data": parse}))
    assert "246810" not in stored
    fine = {"text": "转了500元", "entities": [{"entity": "amount", "start": 2, "end": 6, "value": "500.00"}]}
    assert mask_value(fine) == fine


def _sql_threads(store: MaskingSQLTrackerStore) -> list[bool]:
    """Record, for every database session the store opens, whether it runs on an event loop."""
    opened: list[bool] = []
    original = store.session_scope

    def watched() -> Any:
        try:
            asyncio.get_running_loop()
            opened.append(True)
        except RuntimeError:
            opened.append(False)
        return original()

    store.session_scope = watched  # type: ignore[method-assign]
    return opened


def test_the_store_runs_its_sql_off_the_event_loop(tmp_path: Path) -> None:
    domain = Domain.load("domain.yml")
    store = MaskingSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "t.db"))
    on_loop = _sql_threads(store)

    async def scenario() -> tuple[Any, Any, list[str], bool]:
        tracker = await store.get_or_create_tracker("rest:a")
        tracker.update(UserUttered("你好", {"name": "greet", "confidence": 1.0}))
        await store.save(tracker)
        return (
            await store.retrieve("rest:a"),
            await store.retrieve_full_tracker("rest:a"),
            list(await store.keys()),
            await store.exists("rest:nobody"),
        )

    latest, full, keys, nobody = asyncio.run(scenario())
    assert on_loop and not any(on_loop)  # every session was opened in the store's thread
    assert [e.text for e in latest.events if isinstance(e, UserUttered)] == ["你好"]
    assert len(full.events) == len(latest.events) and keys == ["rest:a"] and not nobody


def test_concurrent_conversations_are_all_stored_in_order(tmp_path: Path) -> None:
    domain = Domain.load("domain.yml")
    store = MaskingSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "t.db"))

    async def conversation(sender: str) -> None:
        tracker = await store.get_or_create_tracker(sender)
        for turn in range(5):
            tracker.update(UserUttered(f"第{turn}句 13800138000", {"name": "inform", "confidence": 1.0}))
            tracker.update(BotUttered(f"回复{turn}"))
            await store.save(tracker)

    async def scenario() -> list[Any]:
        senders = [f"rest:user{i}" for i in range(12)]
        await asyncio.gather(*(conversation(s) for s in senders))
        return [await store.retrieve(s) for s in senders]

    for tracker in asyncio.run(scenario()):
        texts = [e.text for e in tracker.events if isinstance(e, UserUttered)]
        assert texts == [f"第{turn}句 138****8000" for turn in range(5)]


def test_clean_strings_are_remembered_and_personal_data_never_is() -> None:
    from bot import tracker_store

    tracker_store._CLEAN_TEXTS.clear()
    event = {"event": "user", "text": "我的手机号是13800138000", "parse_data": {"intent": {"name": "inform"}}}
    for _ in range(2):  # the second time from what was remembered: the same result
        masked = mask_event(event)
        assert (
            masked["text"] == "我的手机号是138****8000" and masked["parse_data"]["intent"]["name"] == "inform"
        )
    assert "inform" in tracker_store._CLEAN_TEXTS and "user" in tracker_store._CLEAN_TEXTS
    assert not any("13800138000" in text for text in tracker_store._CLEAN_TEXTS)
