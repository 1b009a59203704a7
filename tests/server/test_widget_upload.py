"""The widget's image upload over the real servers: an image stored with the conversation and
seen by the agent; and the attacks: a wrong type with an image's name and type, an oversized
body, no session proof, another session's or a forged proof, too many uploads, garbage bodies,
another origin. The test servers run without cors_allowed_origins."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.bad_inputs import bad_payloads
from tests.server.console_helpers import ensure_agents, handoff_store, login
from tests.server.widget_client import Widget
from tests.servers import Servers

pytestmark = pytest.mark.server
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def store(servers: Servers) -> Iterator[Any]:
    handoffs = handoff_store(servers)
    ensure_agents(handoffs, ("upload_agent", "小周", "agent"))
    yield handoffs


def _session(servers: Servers) -> Widget:
    widget = Widget(servers.rasa_url)
    widget.connect()
    assert widget.session_token is not None
    return widget


def _upload(
    servers: Servers,
    proof: str | None,
    data: bytes,
    name: str = "photo.png",
    kind: str = "image/png",
    **kw: Any,
) -> httpx.Response:
    fields = {"session": proof} if proof is not None else {}
    return httpx.post(
        f"{servers.rasa_url}/widget/upload",
        data=fields,
        files={"image": (name, data, kind)},
        timeout=30,
        **kw,
    )


def _refused(reply: httpx.Response, status: int, error: str) -> None:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"error", "message"} and body["error"] == error
    assert "session" not in body["message"] and "photo" not in body["message"]


def test_an_uploaded_image_reaches_the_agent(servers: Servers, store: Any) -> None:
    widget = _session(servers)
    sender = f"widget:{widget.session_id}"
    handoff = store.request_handoff(sender, "socketio", "normal", "交易失败", "话题：交易失败")
    agent = login(servers, "upload_agent")
    assert agent.post(f"/api/conversations/{handoff.id}/take").status_code == 200
    reply = _upload(servers, widget.session_token, PNG)
    assert reply.status_code == 201 and reply.json() == {
        "stored": True,
        "content_type": "image/png",
        "size": len(PNG),
    }
    messages = agent.get(f"/api/conversations/{handoff.id}/transcript").json()["messages"]
    shown = [m for m in messages if m.get("attachment")]
    assert len(shown) == 1 and shown[0]["role"] == "user"
    image = agent.get(f"/api/attachments/{shown[0]['attachment']['id']}")
    assert image.status_code == 200 and image.content == PNG and image.headers["content-type"] == "image/png"
    widget.close()


def test_a_wrong_type_named_as_an_image_is_refused(servers: Servers, store: Any) -> None:
    widget = _session(servers)
    for data in (b"<svg onload=alert(1)></svg>", b"%PDF-1.4 not an image", b"MZ\x90\x00" + bytes(100)):
        _refused(_upload(servers, widget.session_token, data, "photo.png", "image/png"), 415, "bad_type")
    assert store.attachments.for_sender(f"widget:{widget.session_id}") == []
    widget.close()


def test_an_oversized_image_is_refused(servers: Servers, store: Any) -> None:
    widget = _session(servers)
    big = PNG + bytes(2 * 1024 * 1024)
    _refused(_upload(servers, widget.session_token, big), 413, "too_large")
    assert store.attachments.for_sender(f"widget:{widget.session_id}") == []
    widget.close()


def test_no_proof_another_sessions_or_a_forged_proof(servers: Servers, store: Any) -> None:
    victim, attacker = _session(servers), _session(servers)
    _refused(_upload(servers, None, PNG), 401, "session_required")
    _refused(_upload(servers, "", PNG), 401, "session_required")
    assert victim.session_token and attacker.session_token
    victim_id, attacker_signature = victim.session_token.split(".")[0], attacker.session_token.split(".")[1]
    for forged in (victim_id, f"{victim_id}.{attacker_signature}", f"{victim_id}.{'A' * 43}", "x" * 5000):
        _refused(_upload(servers, forged, PNG), 403, "invalid_session")
    assert store.attachments.for_sender(f"widget:{victim.session_id}") == []
    # the attacker's own proof stores into the attacker's conversation only
    assert _upload(servers, attacker.session_token, PNG).status_code == 201
    assert store.attachments.for_sender(f"widget:{victim.session_id}") == []
    assert len(store.attachments.for_sender(f"widget:{attacker.session_id}")) == 1
    victim.close()
    attacker.close()


def test_uploads_are_rate_limited_per_session(servers: Servers, store: Any) -> None:
    widget, other = _session(servers), _session(servers)
    codes = [_upload(servers, widget.session_token, PNG).status_code for _ in range(7)]
    assert codes == [201] * 6 + [429]
    assert _upload(servers, other.session_token, PNG).status_code == 201  # another session is not held up
    widget.close()
    other.close()


@pytest.mark.parametrize("name", sorted(bad_payloads()))
def test_garbage_bodies_are_refused(servers: Servers, name: str) -> None:
    case = bad_payloads()[name]
    raw = case.get("raw", case.get("body"))
    content = raw if isinstance(raw, bytes) else str(raw).encode()
    for kind in ("application/json", "multipart/form-data; boundary=x", "multipart/form-data", "text/plain"):
        reply = httpx.post(
            f"{servers.rasa_url}/widget/upload", content=content, headers={"Content-Type": kind}, timeout=30
        )
        assert reply.status_code in (400, 401), (name, kind, reply.status_code)
        assert set(reply.json()) == {"error", "message"}


def test_other_origins_get_no_cors_headers(servers: Servers) -> None:
    widget = _session(servers)
    reply = _upload(servers, widget.session_token, b"not an image", headers={"Origin": EVIL})
    assert reply.status_code == 415 and "access-control-allow-origin" not in reply.headers
    widget.close()
