"""The console's side panel in Chromium, over the real servers: a signed-in widget user in the
middle of a flow asks for a person and sends an image (the widget's button); the agent sees the
image inline, the bot's progress, the customer's masked profile and a previous conversation on
another channel, adds tags (from the list and free) and a private note that the user never sees.
Screenshot: docs/console-context.png."""

from __future__ import annotations

import base64
import struct
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest

from bot.identity import sign_identity
from tests.server.console_helpers import PASSWORD, ensure_agents, handoff_store
from tests.servers import IDENTITY_SECRET, Servers

pytestmark = pytest.mark.server
DOCS = Path(__file__).resolve().parent.parent.parent / "docs"
TIMEOUT = 60_000
PASTE = """b64 => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], "paste.png", { type: "image/png" }));
  const input = document.querySelector("[data-testid=uwc-input]");
  input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
}"""


def _png(width: int = 64, height: int = 40) -> bytes:
    """A real PNG (a blue receipt-like block), so the browser can draw it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(
        b"\x00" + bytes((22, 119, 255) if 4 < y < height - 4 else (240, 245, 255)) * width
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def store(servers: Servers) -> Any:
    handoffs = handoff_store(servers)
    ensure_agents(handoffs, ("xiaozhou", "小周", "agent"))
    return handoffs


def _earlier_conversation(store: Any) -> Any:
    """Earlier, the same customer wrote on Telegram (linked to the account as the console does)."""
    earlier = store.request_handoff(
        f"telegram:{uuid.uuid4().int % 10**9}",
        "telegram",
        "normal",
        "交易失败",
        "话题：交易失败；用户说：充值扣款未到账",
    )
    store.accounts.link(earlier.id, "U1001")
    store.cancel(earlier.id)
    return earlier


def test_notes_tags_the_side_panel_and_an_image_from_the_widget(
    browser: Any, servers: Servers, store: Any
) -> None:
    earlier = _earlier_conversation(store)
    # an agent on duty first: otherwise the request becomes a message left
    agent = browser.new_context(locale="zh-CN", viewport={"width": 1500, "height": 950}).new_page()
    agent.set_default_timeout(TIMEOUT)
    agent.goto(f"{servers.rasa_url}/console/")
    agent.get_by_test_id("uwa-login-username").fill("xiaozhou")
    agent.get_by_test_id("uwa-login-password").fill(PASSWORD)
    agent.get_by_test_id("uwa-login-submit").click()
    agent.get_by_test_id("uwa-agent-name").filter(has_text="小周").wait_for()
    user = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 800}).new_page()
    user.set_default_timeout(TIMEOUT)
    user.goto(f"{servers.rasa_url}/widget/demo.html")
    user.evaluate("t => window.UnitedWalletChat.setIdentityToken(t)", sign_identity("U1001", IDENTITY_SECRET))
    user.get_by_test_id("uwc-launcher").click()
    user.get_by_test_id("uwc-input").fill("我的转账失败了")
    user.get_by_test_id("uwc-input").press("Enter")
    user.locator('[data-testid="uwc-msg"][data-role="bot"]').nth(1).wait_for()
    user.get_by_test_id("uwc-input").fill("转人工")
    user.get_by_test_id("uwc-input").press("Enter")
    user.locator('[data-testid="uwc-msg"][data-role="bot"]').filter(has_text="排队").last.wait_for()
    user.get_by_test_id("uwc-file").set_input_files(
        {"name": "转账截图.png", "mimeType": "image/png", "buffer": _png()}
    )
    sent = user.locator('[data-testid="uwc-msg"][data-role="user"][data-status="sent"]')
    sent.locator('[data-testid="uwc-sent-image"]').wait_for()
    # a pasted screenshot goes the same way
    user.evaluate(PASTE, base64.b64encode(_png(40, 64)).decode())
    sent.locator('[data-testid="uwc-sent-image"]').nth(1).wait_for()
    # a file named and declared as an image whose bytes are not one: the server refuses it
    user.get_by_test_id("uwc-file").set_input_files(
        {"name": "截图.png", "mimeType": "image/png", "buffer": b"<svg onload=alert(1)>"}
    )
    user.locator('[data-testid="uwc-msg"][data-role="user"][data-status="failed"]').wait_for()
    user.locator('[data-testid="uwc-msg"][data-role="system"]').filter(has_text="只支持发送").wait_for()

    item = agent.get_by_test_id("uwa-queue-item").last
    item.wait_for()
    item.get_by_test_id("uwa-take").click()
    transcript = agent.get_by_test_id("uwa-transcript")
    transcript.get_by_test_id("uwa-image").locator("img").first.wait_for()
    transcript.get_by_test_id("uwa-image").nth(1).wait_for()
    assert transcript.get_by_test_id("uwa-image").count() == 2  # the refused one never reached the agent
    drawn = "() => [...document.querySelectorAll('[data-testid=uwa-image] img')].every(i => i.naturalWidth)"
    agent.wait_for_function(drawn)

    panel = agent.get_by_test_id("uwa-context")
    panel.get_by_test_id("uwa-ctx-bot").filter(has_text="交易失败查询").wait_for()
    profile = panel.get_by_test_id("uwa-ctx-profile")
    profile.filter(has_text="张*").wait_for()
    assert "138****8000" in profile.inner_text() and "13800138000" not in panel.inner_text()
    previous = panel.locator(f'[data-testid="uwa-ctx-prev"][data-id="{earlier.id}"]')
    previous.filter(has_text="Telegram").wait_for()
    assert "充值扣款未到账" in previous.inner_text()

    for tag in ("交易失败", "待退款"):  # one from the list, one free
        panel.get_by_test_id("uwa-ctx-tag-input").fill(tag)
        panel.get_by_test_id("uwa-ctx-tag-add").click()
        panel.get_by_test_id("uwa-ctx-tag").filter(has_text=tag).wait_for()
    panel.get_by_test_id("uwa-ctx-tag-input").fill("<b>坏标签</b>")
    panel.get_by_test_id("uwa-ctx-tag-add").click()
    agent.get_by_test_id("uwa-notice").filter(has_text="标签需为").wait_for()
    panel.get_by_test_id("uwa-ctx-note-input").fill("用户称转账失败，已看截图，联系电话 13800138000")
    panel.get_by_test_id("uwa-ctx-note-add").click()
    note = panel.get_by_test_id("uwa-ctx-note").filter(has_text="已看截图")
    note.wait_for()
    assert "138****8000" in note.inner_text()
    agent.screenshot(path=str(DOCS / "console-context.png"))
    blank = agent.context.new_page()
    blank.goto(f"{servers.rasa_url}/console/static/console.css")  # same origin, no script
    own = set(blank.evaluate("Object.keys(window)"))
    blank.close()
    assert set(agent.evaluate("Object.keys(window)")) - own == set()  # the console's modules leak nothing
    assert set(user.evaluate("Object.keys(window)")) - own == {"UnitedWalletChat"}  # the widget: its API only

    # the note is the agents' own: the user's widget never shows it, not even after a reload
    user.reload()
    user.get_by_test_id("uwc-launcher").click()
    user.locator('[data-testid="uwc-msg"][data-role="user"]').filter(has_text="转人工").wait_for()
    assert "已看截图" not in user.get_by_test_id("uwc-messages").inner_text()
    agent.get_by_test_id("uwa-resolve").click()
    agent.get_by_test_id("uwa-resolve-confirm").click()
    user.context.close()
    agent.context.close()
