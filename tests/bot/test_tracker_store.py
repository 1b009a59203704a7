"""Stored transcripts have personal data masked (known answers), and the store works."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import MaskingSQLTrackerStore, mask_event, mask_stored_text


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


def test_the_store_keeps_masked_events(tmp_path: Path) -> None:
    domain = Domain.load("domain.yml")
    store = MaskingSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "t.db"))
    tracker = DialogueStateTracker("someone", domain.slots)
    tracker.update(UserUttered("我的手机号是13800138000", {"name": "inform", "confidence": 1.0}))
    tracker.update(BotUttered("验证码已发送至 138****8000"))
    tracker.update(UserUttered("246810", {"name": "inform", "confidence": 1.0}))
    asyncio.run(store.save(tracker))
    stored = asyncio.run(store.retrieve("someone"))
    assert stored is not None
    texts = [e.text for e in stored.events if isinstance(e, (UserUttered, BotUttered))]
    assert texts == ["我的手机号是138****8000", "验证码已发送至 138****8000", "******"]
    raw = (tmp_path / "t.db").read_bytes()
    assert b"13800138000" not in raw and b"246810" not in raw
