"""Attacks on identity against the running servers: a stale code verification, a token
swapped for another user's mid-conversation, a token removed. Account data must never be
shown to anyone but the verified owner."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from bot.identity import sign_identity
from tests.server.test_flows_http import Chat, _latest_code
from tests.servers import IDENTITY_SECRET, Servers

pytestmark = [pytest.mark.server, pytest.mark.usefixtures("fresh_sandbox")]

U1001_DATA = ("李娜", "500.00", "网络超时", "京东")


def _age_verification(servers: Servers, conversation_id: str, seconds: float) -> None:
    """Make the conversation's verification older, as if the user had been idle that long."""
    with sqlite3.connect(servers.logs / "trackers.db") as db:
        last = db.execute(
            "SELECT MAX(timestamp) FROM events WHERE sender_id = ?", (conversation_id,)
        ).fetchone()[0]
        event = {
            "event": "slot",
            "name": "verified_at",
            "value": time.time() - seconds,
            "timestamp": last + 0.001,
        }
        db.execute(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
            "VALUES (?, 'slot', ?, NULL, NULL, ?)",
            (conversation_id, last + 0.001, json.dumps(event)),
        )


def test_a_stale_code_verification_is_asked_again(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("昨天晚上给李娜转账失败了")
    chat.say("13800138000")
    assert "网络超时" in chat.say(_latest_code(servers, "13800138000"))
    chat.say("解决了")
    _age_verification(servers, chat.conversation_id, 16 * 60)  # idle past the 15 minutes
    reply = chat.say("前天在京东付款2000也失败了")
    assert "验证身份" in reply and not any(value in reply for value in ("京东商城", "2000.00", "1250.00"))


def test_a_recent_code_verification_is_reused(servers: Servers) -> None:
    chat = Chat(servers)
    chat.say("昨天晚上给李娜转账失败了")
    chat.say("13800138000")
    chat.say(_latest_code(servers, "13800138000"))
    chat.say("解决了")
    _age_verification(servers, chat.conversation_id, 5 * 60)
    assert "余额不足" in chat.say("前天在京东付款2000也失败了")


def test_a_token_swapped_for_another_users_shows_nothing_of_the_first(servers: Servers) -> None:
    first = {"identity_token": sign_identity("U1001", IDENTITY_SECRET)}
    chat = Chat(servers, first)
    assert "网络超时" in chat.say("昨天晚上给李娜转账500块失败了")
    chat.metadata = {"identity_token": sign_identity("U1002", IDENTITY_SECRET)}
    reply = chat.say("再帮我看下昨天晚上给李娜转账500那笔")
    assert not any(value in reply for value in U1001_DATA)


@pytest.mark.parametrize("metadata", [None, {"identity_token": "forged.token"}])
def test_a_token_removed_or_forged_mid_conversation_drops_the_identity(
    servers: Servers, metadata: dict[str, str] | None
) -> None:
    chat = Chat(servers, {"identity_token": sign_identity("U1001", IDENTITY_SECRET)})
    assert "网络超时" in chat.say("昨天晚上给李娜转账500块失败了")
    chat.metadata = metadata
    reply = chat.say("昨天晚上转账失败的那笔再查一下")
    assert "验证身份" in reply and not any(value in reply for value in U1001_DATA)


def test_an_expired_token_is_not_trusted(servers: Servers) -> None:
    expired = sign_identity("U1001", IDENTITY_SECRET, ttl_seconds=-10)
    reply = Chat(servers, {"identity_token": expired}).say("昨天晚上给李娜转账500块失败了")
    assert "验证身份" in reply and "网络超时" not in reply
