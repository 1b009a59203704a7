"""The action server dies mid-conversation: the user gets the polite busy reply (never
silence), nothing of the failed turn is stored, the form keeps its answers, and the same
message works once the action server is back; what needs no action server is still answered."""

from __future__ import annotations

import sqlite3

import pytest

from tests.cluster.clients import COMPLAINT
from tests.server.console_helpers import new_sender, say
from tests.servers import Servers

pytestmark = pytest.mark.server
BUSY = "系统繁忙"


def _stored(servers: Servers, sender: str) -> int:
    with sqlite3.connect(servers.logs / "trackers.db") as connection:
        query = "SELECT count(*) FROM events WHERE sender_id = ?"
        return int(connection.execute(query, (f"rest:{sender}",)).fetchone()[0])


def test_the_action_server_down_gets_a_busy_reply_and_the_form_waits(servers: Servers) -> None:
    sender = new_sender()
    for message, expected in COMPLAINT[:3]:
        reply = say(servers, sender, message)
        assert expected(reply), (message, reply)
    stored = _stored(servers, sender)
    servers.stop_actions()
    try:
        down = say(servers, sender, COMPLAINT[3][0])
        assert BUSY in down and "转人工" in down, down
        assert "证据" not in down  # nothing of the abandoned turn was said
        other = say(servers, new_sender(), "我要投诉")  # a new conversation: told the same
        assert BUSY in other, other
        assert _stored(servers, sender) == stored  # the failed turn left nothing behind
        traditional = say(servers, new_sender(), "我要投訴")
        assert "系統繁忙" in traditional, traditional  # in the script the user wrote in
        # what needs no action server is still answered (the identity check runs in the
        # Rasa server: bot.runtime.local_actions)
        contact = say(servers, new_sender(), "請問怎麼聯繫客服")
        assert "系統繁忙" not in contact and "客服" in contact, contact
    finally:
        servers.start_actions()
    again = say(servers, sender, COMPLAINT[3][0])
    assert COMPLAINT[3][1](again), again  # the form asks for the evidence: its answers kept
    last = say(servers, sender, COMPLAINT[4][0])
    assert COMPLAINT[4][1](last), last
