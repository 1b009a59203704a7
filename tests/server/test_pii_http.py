"""Personal data sent over REST to the running servers stays out of their logs and of the
tracker database; the contact a reset link is resent to is kept sealed, and still works."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

import httpx
import pytest

from bot import pii
from tests.pii_corpus import Sample, leaks, samples
from tests.servers import REST_HEADERS, Servers

pytestmark = pytest.mark.server
IDENTITY_TOKEN = "eyJzdWIiOiJVMTAwMSIsImV4cCI6MTc5MDAwMzYwMH0.ArVzOusGTRlM9T_XjJI9oiJYA_s0s2ucc-Wn1858ucY"
SENT = [
    s
    for s in samples()
    if s.text.startswith(
        ("转账失败了", "Hi, I'm", "手机号 138", "身份证号", "１３８", "邮箱是 138", "ｚｈａｎｇ")
    )
    or s.text in ("246 810", "我的密码是 Abc12345 安全吗", "Authorization: Bearer server-test-rest-token")
]


def _say(servers: Servers, sender: str, text: str, metadata: dict[str, Any] | None = None) -> str:
    body: dict[str, Any] = {"sender": sender, "message": text}
    if metadata:
        body["metadata"] = metadata
    response = httpx.post(
        f"{servers.rasa_url}/webhooks/rest/webhook", json=body, headers=REST_HEADERS, timeout=60
    )
    assert response.status_code == 200, response.text
    return "\n".join(r.get("text", "") for r in response.json())


def _events(servers: Servers, conversation_id: str | None = None) -> list[dict[str, Any]]:
    query, args = "SELECT data FROM events", ()
    if conversation_id:
        query, args = query + " WHERE sender_id = ?", (conversation_id,)
    with sqlite3.connect(servers.logs / "trackers.db") as db:
        return [json.loads(row[0]) for row in db.execute(query, args)]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _values(sent: list[Sample]) -> list[str]:
    values = [v for s in sent for v in s.raw]
    values += [span.value for s in sent for span in pii.scan(s.text)]
    return [*dict.fromkeys([*values, "13912345678", "139 1234 5678", IDENTITY_TOKEN])]


def test_sent_personal_data_is_in_no_log_and_no_stored_event(servers: Servers) -> None:
    assert len(SENT) >= 8
    reset = uuid.uuid4().hex
    _say(servers, reset, "我忘记密码了")
    assert "139****5678" in _say(servers, reset, "我的手机号是 139 1234 5678")
    assert "重新发送" in _say(servers, reset, "没收到")
    assert "已重新发送" in _say(servers, reset, "好的")  # the sealed contact was opened again
    for sample in SENT:
        _say(servers, uuid.uuid4().hex, sample.text, {"identity_token": IDENTITY_TOKEN, "note": sample.text})

    slots = [e for e in _events(servers, f"rest:{reset}") if e["event"] == "slot"]
    contacts = [e["value"] for e in slots if e["name"] == "reset_contact" and e["value"]]
    assert contacts and all(pii.is_sealed(value) for value in contacts)

    values = _values(SENT)
    stored = "\n".join(s for event in _events(servers) for s in _strings(event))
    assert leaks(stored, values) == []
    for name in ("rasa.log", "actions.log", "rasa-restarted.log"):
        path = servers.logs / name
        if path.exists():
            assert leaks(path.read_text(encoding="utf-8", errors="replace"), values, compact_from=7) == [], (
                name
            )
