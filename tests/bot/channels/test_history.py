"""A conversation's history for the widget, from tracker events."""

from __future__ import annotations

from bot.channels.history import history_from_events

EVENTS = [
    {"event": "action", "name": "action_session_start", "timestamp": 1.0},
    {"event": "user", "text": "你好", "timestamp": 2.0},
    {
        "event": "bot",
        "text": "您好！",
        "timestamp": 3.0,
        "data": {"buttons": [{"title": "忘记密码", "payload": "/forgot_password"}]},
    },
    {"event": "user", "text": "/forgot_password", "timestamp": 4.0},
    {"event": "user", "text": "/unknown_payload", "timestamp": 4.5},
    {"event": "bot", "text": "", "timestamp": 5.0, "data": {"image": "javascript:alert(1)"}},
    {
        "event": "bot",
        "text": "人工客服 小王 已接入",
        "timestamp": 6.0,
        "data": {"custom": {"role": "system"}},
    },
    {"event": "bot", "text": "您好", "timestamp": 7.0, "metadata": {"role": "agent", "agent_name": "小王"}},
    {"event": "bot", "text": "x", "timestamp": 8.0, "data": {"custom": {"role": "admin"}}},
]


def test_history_in_order_with_roles() -> None:
    messages = history_from_events(EVENTS)
    assert [(m["role"], m["text"]) for m in messages] == [
        ("user", "你好"),
        ("bot", "您好！"),
        ("user", "忘记密码"),  # a button click shows its title, not the payload
        ("bot", ""),
        ("system", "人工客服 小王 已接入"),
        ("agent", "您好"),
        ("bot", "x"),  # unknown roles fall back to bot
    ]
    assert messages[1]["buttons"] == [{"title": "忘记密码", "payload": "/forgot_password"}]
    assert messages[3]["image"] is None  # only http(s) images
    assert messages[5]["agent_name"] == "小王"


def test_history_is_bounded() -> None:
    many = [{"event": "user", "text": str(i), "timestamp": float(i)} for i in range(500)]
    assert [m["text"] for m in history_from_events(many, limit=3)] == ["497", "498", "499"]
