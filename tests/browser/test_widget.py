"""The chat widget in a real browser, with the real Rasa and action servers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.identity import sign_identity
from tests.servers import IDENTITY_SECRET, Servers

pytestmark = pytest.mark.server
DOCS = Path(__file__).resolve().parent.parent.parent / "docs"
TIMEOUT = 60_000


@pytest.fixture()
def page(browser: Any, servers: Servers) -> Any:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{servers.rasa_url}/widget/demo.html")
    yield page
    context.close()


def _open(page: Any) -> None:
    if not page.get_by_test_id("uwc-panel").is_visible():
        page.get_by_test_id("uwc-launcher").click()
    page.get_by_test_id("uwc-input").wait_for()


def _send(page: Any, text: str) -> None:
    page.get_by_test_id("uwc-input").fill(text)
    page.get_by_test_id("uwc-input").press("Enter")


def _messages(page: Any, role: str) -> Any:
    return page.locator(f'[data-testid="uwc-msg"][data-role="{role}"]')


def _wait_for_bot_text(page: Any, pattern: str, count_before: int = 0) -> str:
    bot = _messages(page, "bot")
    bot.filter(has_text=re.compile(pattern)).last.wait_for()
    return str(bot.last.inner_text())


def test_forgot_password_gets_an_answer(page: Any) -> None:
    _open(page)
    _send(page, "我忘记密码了")
    _messages(page, "user").filter(has_text="我忘记密码了").wait_for()
    _wait_for_bot_text(page, "手机号或电子邮箱")


def test_quick_reply_sends_its_payload(page: Any) -> None:
    _open(page)
    _send(page, "你好")
    page.get_by_test_id("uwc-quick-reply").filter(has_text="交易失败").last.click()
    _messages(page, "user").filter(has_text="交易失败").wait_for()
    _wait_for_bot_text(page, "常见原因")


def test_history_survives_a_reload(page: Any) -> None:
    _open(page)
    _send(page, "怎么联系客服")
    _wait_for_bot_text(page, "客服热线")
    page.reload()
    _open(page)
    _messages(page, "user").filter(has_text="怎么联系客服").wait_for()
    _messages(page, "bot").filter(has_text="客服热线").first.wait_for()


def test_html_and_script_are_shown_as_text(page: Any) -> None:
    _open(page)
    attack = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>粗体</b>'
    _send(page, attack)
    bubble = _messages(page, "user").last
    bubble.filter(has_text="<script>").wait_for()
    assert attack in bubble.inner_text()
    assert bubble.locator("img, script, b").count() == 0
    _messages(page, "bot").last.wait_for()
    assert page.evaluate("window.__pwned") is None


def test_enter_during_ime_composition_does_not_send(page: Any) -> None:
    _open(page)
    box = page.get_by_test_id("uwc-input")
    box.fill("wangji")
    box.dispatch_event("compositionstart")
    box.evaluate(
        """el => el.dispatchEvent(new KeyboardEvent('keydown',
             {key: 'Enter', code: 'Enter', keyCode: 229, isComposing: true,
              bubbles: true, cancelable: true}))"""
    )
    box.dispatch_event("compositionend")
    page.wait_for_timeout(500)
    assert _messages(page, "user").count() == 0
    assert box.input_value().startswith("wangji")
    box.press("Shift+Enter")
    assert _messages(page, "user").count() == 0 and "\n" in box.input_value()
    box.fill("忘记密码")
    box.press("Enter")
    _messages(page, "user").filter(has_text="忘记密码").wait_for()


def _sign_in(page: Any, account: str) -> None:
    """What the website does for its signed-in user: a token from its own server (the test
    servers run without the demo sign-in, so the test signs it with the shared secret)."""
    page.evaluate("t => window.UnitedWalletChat.setIdentityToken(t)", sign_identity(account, IDENTITY_SECRET))


def _session(page: Any) -> str | None:
    return page.evaluate("localStorage.getItem('uwc_session')")  # type: ignore[no-any-return]


def test_signed_in_user_gets_account_answers_and_a_forged_token_does_not(page: Any) -> None:
    _sign_in(page, "U1001")
    _open(page)
    _send(page, "昨天晚上给李娜转账500块失败了")
    _wait_for_bot_text(page, "网络超时")
    page.evaluate("window.UnitedWalletChat.setIdentityToken('eyJzdWIiOiJVMTAwMSJ9.forged')")
    page.evaluate("window.UnitedWalletChat.reset()")
    _open(page)
    _send(page, "昨天晚上给李娜转账500块失败了")
    _wait_for_bot_text(page, "验证身份")
    assert _messages(page, "bot").filter(has_text="网络超时").count() == 0


def test_a_token_for_the_same_user_keeps_the_conversation(page: Any) -> None:
    _sign_in(page, "U1001")
    _open(page)
    _send(page, "怎么联系客服")
    _wait_for_bot_text(page, "客服热线")
    session = _session(page)
    page.wait_for_timeout(1100)  # a fresh token (another expiry) for the same user
    _sign_in(page, "U1001")
    assert _messages(page, "user").filter(has_text="怎么联系客服").count() == 1
    assert _messages(page, "system").count() == 0
    page.reload()
    _sign_in(page, "U1001")
    _open(page)
    _messages(page, "user").filter(has_text="怎么联系客服").wait_for()
    _messages(page, "bot").filter(has_text="客服热线").first.wait_for()
    assert _session(page) == session


def test_a_token_for_another_user_starts_a_fresh_conversation(page: Any) -> None:
    _sign_in(page, "U1001")
    _open(page)
    _send(page, "怎么联系客服")
    _wait_for_bot_text(page, "客服热线")
    old_session = _session(page)
    assert old_session
    _sign_in(page, "U1002")
    _messages(page, "system").filter(has_text="新的对话").wait_for()
    assert _messages(page, "user").count() == 0
    assert _messages(page, "bot").filter(has_text="客服热线").count() == 0
    _send(page, "你好")
    _messages(page, "bot").filter(has_text="欢迎").last.wait_for()
    new_session = _session(page)
    assert new_session and new_session != old_session
    history = page.evaluate(
        """async p => (await (await fetch('/widget/history', {headers: {'X-Widget-Session': p}})).json())""",
        new_session,
    )
    assert "怎么联系客服" not in [m["text"] for m in history["messages"]]
    page.reload()  # the new user's conversation is the one that comes back
    _sign_in(page, "U1002")
    _open(page)
    _messages(page, "user").filter(has_text="你好").wait_for()
    assert _messages(page, "user").filter(has_text="怎么联系客服").count() == 0
    assert _session(page) == new_session


def test_the_server_refusing_another_user_starts_a_fresh_conversation(page: Any) -> None:
    _sign_in(page, "U1001")
    _open(page)
    _send(page, "怎么联系客服")
    _wait_for_bot_text(page, "客服热线")
    old_session = _session(page)
    page.evaluate("localStorage.removeItem('uwc_session_user')")  # the page forgot whose it was
    page.reload()
    _sign_in(page, "U1002")  # so only the server can tell that the user changed
    _open(page)
    _messages(page, "user").filter(has_text="怎么联系客服").wait_for()
    _send(page, "谢谢")
    _messages(page, "system").filter(has_text="新的对话").wait_for()
    _messages(page, "bot").filter(has_text="不客气").last.wait_for()  # sent again, in the new session
    assert _messages(page, "user").filter(has_text="怎么联系客服").count() == 0
    assert _session(page) != old_session


def test_screenshots_for_the_docs(browser: Any, servers: Servers) -> None:
    DOCS.mkdir(exist_ok=True)
    for name, viewport in (("widget-desktop", (1280, 860)), ("widget-mobile", (390, 800))):
        context = browser.new_context(locale="zh-CN", viewport={"width": viewport[0], "height": viewport[1]})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        page.goto(f"{servers.rasa_url}/widget/demo.html")
        _open(page)
        _send(page, "你好")
        _messages(page, "bot").filter(has_text="欢迎").last.wait_for()
        _send(page, "我忘记密码了")
        _wait_for_bot_text(page, "手机号或电子邮箱")
        page.screenshot(path=str(DOCS / f"{name}.png"))
        context.close()
        assert (DOCS / f"{name}.png").stat().st_size > 10_000
