"""Talk to the running Rasa server over HTTP, as a client would."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from bot.company import load_company_facts
from tests.bad_inputs import bad_messages, bad_payloads
from tests.servers import REST_HEADERS, Servers

pytestmark = pytest.mark.server


def _send(servers: Servers, text: str, sender: str | None = None) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{servers.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender or uuid.uuid4().hex, "message": text},
        headers=REST_HEADERS,
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _text(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def test_forgot_password_asks_for_the_registered_contact(servers: Servers) -> None:
    text = _text(_send(servers, "我忘记密码了"))
    assert "手机号或电子邮箱" in text and "重置链接" in text and "不要发送您的密码" in text


def test_contact_support_quotes_company_facts(servers: Servers) -> None:
    facts = load_company_facts()
    text = _text(_send(servers, "你们客服电话是多少"))
    assert facts.hotline in text and facts.support_email in text


def test_greeting_offers_buttons(servers: Servers) -> None:
    replies = _send(servers, "你好")
    buttons = [b for r in replies for b in r.get("buttons", [])]
    assert {"title": "忘记密码", "payload": "/forgot_password"} in buttons


def test_button_payload_triggers_its_intent(servers: Servers) -> None:
    text = _text(_send(servers, "/transaction_failed"))
    assert "常见原因" in text and "验证身份" in text


def test_a_conversation_keeps_going(servers: Servers) -> None:
    sender = uuid.uuid4().hex
    assert _send(servers, "你好", sender)
    assert "修改手机号前需要验证身份" in _text(_send(servers, "我想改一下手机号", sender))
    assert "继续" in _text(_send(servers, "谢谢", sender))
    assert "已为您取消" in _text(_send(servers, "算了", sender))
    assert "不客气" in _text(_send(servers, "谢谢", sender))


@pytest.mark.parametrize("name", sorted(bad_messages()))
def test_every_odd_message_is_answered(servers: Servers, name: str) -> None:
    replies = _send(servers, bad_messages()[name])
    assert replies, f"no answer to {name}"
    assert all(r.get("text") or r.get("buttons") for r in replies)


def test_gibberish_gets_the_fallback(servers: Servers) -> None:
    assert "没太理解" in _text(_send(servers, "😀😂👍🙏"))


@pytest.mark.parametrize("name", sorted(bad_payloads()))
def test_bad_payloads_get_clear_errors(servers: Servers, name: str) -> None:
    case = bad_payloads()[name]
    url = f"{servers.rasa_url}/webhooks/rest/webhook"
    if "raw" in case:
        response = httpx.post(
            url, content=case["raw"], headers={"Content-Type": "application/json", **REST_HEADERS}
        )
    else:
        response = httpx.post(url, json=case["body"], headers=REST_HEADERS)
    assert response.status_code == case["status"]
    assert response.json()["error"] == case["error"]
    if "raw" in case:  # the refusal does not echo what was sent
        raw = case["raw"]
        assert (raw if isinstance(raw, bytes) else raw.encode()) not in response.content


def test_a_flood_from_one_sender_is_rate_limited(servers: Servers) -> None:
    sender = uuid.uuid4().hex
    statuses = []
    for _ in range(32):
        response = httpx.post(
            f"{servers.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": "你好"},
            headers=REST_HEADERS,
            timeout=60,
        )
        statuses.append(response.status_code)
    assert statuses[0] == 200
    assert statuses[-1] == 429
    assert (
        httpx.post(
            f"{servers.rasa_url}/webhooks/rest/webhook",
            json={"sender": uuid.uuid4().hex, "message": "你好"},
            headers=REST_HEADERS,
        ).status_code
        == 200
    )


def test_server_survived_everything(servers: Servers) -> None:
    assert all(p.poll() is None for p in servers.processes)
    assert "Traceback" not in (servers.logs / "rasa.log").read_text(errors="replace")


def test_personal_data_is_not_logged(servers: Servers) -> None:
    _send(servers, "我的手机号13812345678，邮箱 secret.user@example.com")
    log = (servers.logs / "rasa.log").read_text(errors="replace")
    assert "13812345678" not in log and "secret.user@example.com" not in log


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong-token"}, 401),
        ({"Authorization": "Basic c2VydmVyOnRlc3Q="}, 401),
        ({"Authorization": "Bearer"}, 401),
    ],
)
def test_rest_needs_the_bearer_token(servers: Servers, headers: dict[str, str], status: int) -> None:
    response = httpx.post(
        f"{servers.rasa_url}/webhooks/rest/webhook", json={"sender": "u1", "message": "你好"}, headers=headers
    )
    assert response.status_code == status and response.json()["error"] == "unauthorized"
    assert "你好" not in response.text


def test_rest_senders_cannot_address_another_channel(servers: Servers) -> None:
    """A REST sender named like a widget session lands in the REST namespace."""
    reply = _send(servers, "你好", sender="socketio-session-abc")
    assert reply and all(m.get("recipient_id") == "rest:socketio-session-abc" for m in reply)
