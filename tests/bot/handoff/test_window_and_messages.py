"""Pure parts of the console's view: WeChat's reply window, and the transcript as shown."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.handoff import transcript
from bot.handoff.deliveries import RecordedDelivery
from bot.handoff.messages import console_messages
from bot.handoff.push import REASONS
from bot.handoff.window import has_window, reply_window

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=timezone.utc)


def test_only_wechat_has_a_window() -> None:
    assert has_window("wechat") and not any(has_window(c) for c in ("telegram", "socketio", "rest", None))
    assert reply_window("telegram", NOW.timestamp(), NOW) is None


@pytest.mark.parametrize(
    ("hours_ago", "left", "open_"), [(0, 48 * 3600, True), (47.5, 1800, True), (48, 0, False)]
)
def test_the_window_is_48_hours_from_the_users_last_message(hours_ago: float, left: int, open_: bool) -> None:
    wrote = NOW - timedelta(hours=hours_ago)
    window = reply_window("wechat", wrote.timestamp(), NOW)
    assert window is not None and window["seconds_left"] == left and window["open"] is open_
    assert window["closes_at"] == (wrote + timedelta(hours=48)).isoformat()


def test_a_user_who_never_wrote_has_no_open_window() -> None:
    assert reply_window("wechat", None, NOW) == {
        "hours": 48, "last_user_at": None, "closes_at": None, "seconds_left": 0, "open": False,
    }  # fmt: skip
    with pytest.raises(ValueError):
        reply_window("wechat", None, NOW.replace(tzinfo=None))


def test_the_transcript_shows_clicks_by_title_and_each_pushs_outcome() -> None:
    notice = transcript.system_notice("请打分", [{"title": "5 分", "payload": "/rate"}])
    reply = transcript.agent_message("您好", "小王")
    events = [
        {"event": "bot", "text": "机器人的话", "data": {}, "metadata": {}},
        notice.as_dict(),
        {"event": "user", "text": "/rate", "timestamp": 1.0},
        {"event": "user", "text": "/unknown_payload", "timestamp": 2.0},
        reply.as_dict(),
    ]
    refused = RecordedDelivery(False, "quota", NOW)
    shown = console_messages(events, {str(transcript.message_id(reply)): refused})
    assert [(m["role"], m["text"]) for m in shown] == [
        ("bot", "机器人的话"), ("system", "请打分"), ("user", "5 分"), ("agent", "您好"),
    ]  # fmt: skip
    assert "delivery" not in shown[0]  # the bot's own answers are not pushed
    assert shown[1]["delivery"] is None  # pushed, but no outcome recorded (yet)
    assert shown[3]["delivery"] == {
        "delivered": False, "reason": "quota", "explanation": REASONS["quota"], "at": NOW.isoformat(),
    }  # fmt: skip
