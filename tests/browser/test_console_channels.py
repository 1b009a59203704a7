"""The console in a browser, for users of WeChat and Telegram: the channels and WeChat's 48-hour
window, messages that did not reach the user (told at once, marked with the reason, still
marked after a reload), and an image the user sends appearing live.

The console runs in this process (no trained model needed): the handoff's console blueprint
on a Sanic server in a thread of its own, in-memory trackers, and fake WeChat and Telegram
push channels (tests/bot/handoff/console_server.py).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.handoff.attachments import receive_attachment
from bot.handoff.push import REASONS
from tests.bot.handoff.console_server import Console, running_console
from tests.bot.handoff.test_attachments import png

T = TypeVar("T")
TIMEOUT = 30_000
WECHAT = "wechat:oUser0000000000000000000001"
TELEGRAM = "telegram:2000000001"


class ConsoleThread:
    """The in-process console, served from its own event loop in a thread."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.console: Console | None = None
        self.failed: BaseException | None = None
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._main, name="console-under-test", daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as error:  # reported to the test
            self.failed = error
            self.ready.set()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with running_console(self.tmp_path) as console:
            self.console = console
            self.ready.set()
            await self._stop.wait()

    def start(self) -> Console:
        self.thread.start()
        assert self.ready.wait(60), "the console did not start"
        if self.failed or self.console is None:
            raise RuntimeError("the console did not start") from self.failed
        return self.console

    def call(self, work: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine in the console's loop and wait for it."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=30)

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(timeout=30)


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[ConsoleThread]:
    running = ConsoleThread(tmp_path)
    running.start()
    yield running
    running.stop()


async def _wrote_hours_ago(console: Console, sender_id: str, hours: float) -> None:
    tracker = await console.rasa.tracker_store.retrieve(sender_id)
    assert tracker is not None
    for event in tracker.events:
        if event.type_name == "user":
            event.timestamp = time.time() - hours * 3600
    await console.rasa.tracker_store.save(tracker)


def _log_in(browser: Any, console: Console) -> Any:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{console.url}/console/")
    page.get_by_test_id("uwa-login-username").fill("xiaowang")
    page.get_by_test_id("uwa-login-password").fill("password-123")
    page.get_by_test_id("uwa-login-submit").click()
    page.get_by_test_id("uwa-agent-name").filter(has_text="小王").wait_for()
    return page


def _message(page: Any, role: str, text: str) -> Any:
    found = page.get_by_test_id("uwa-transcript").locator(f'[data-testid="uwa-msg"][data-role="{role}"]')
    return found.filter(has_text=text).last


def test_wechat_and_telegram_conversations_in_the_console(browser: Any, served: ConsoleThread) -> None:
    console = served.console
    assert console is not None
    served.call(console.agent("xiaowang", "小王"))
    served.call(console.waiting_user(WECHAT, "wechat", "我的转账一直没到账，转人工"))
    served.call(_wrote_hours_ago(console, WECHAT, 49))
    served.call(console.waiting_user(TELEGRAM, "telegram"))
    console.channels["wechat"].refuse = "window_closed"
    page = _log_in(browser, console)

    # the queue: each conversation's channel, and WeChat's window (closed: 49 hours ago)
    queue = page.get_by_test_id("uwa-queue")
    wechat = queue.get_by_test_id("uwa-queue-item").filter(has=page.locator('[data-channel="wechat"]'))
    telegram = queue.get_by_test_id("uwa-queue-item").filter(has=page.locator('[data-channel="telegram"]'))
    wechat.get_by_test_id("uwa-channel").filter(has_text="微信").wait_for()
    telegram.get_by_test_id("uwa-channel").filter(has_text="Telegram").wait_for()
    assert wechat.get_by_test_id("uwa-window").inner_text().startswith("48 小时窗口已关闭")
    assert telegram.get_by_test_id("uwa-window").count() == 0

    # taking it: the notice could not reach the user; the agent is told at once, with the reason
    wechat.get_by_test_id("uwa-take").click()
    page.get_by_test_id("uwa-notice").filter(has_text=REASONS["window_closed"]).wait_for()
    page.locator("#uwa-conv-banner").filter(has_text="48 小时互动窗口已关闭").wait_for()
    page.locator("#uwa-conv-meta").get_by_test_id("uwa-channel").filter(has_text="微信").wait_for()
    page.get_by_test_id("uwa-reply").fill("您好，请问还在吗？")
    page.get_by_test_id("uwa-send").click()
    refused = _message(page, "agent", "请问还在吗").get_by_test_id("uwa-delivery")
    refused.filter(has_text=f"未送达：{REASONS['window_closed']}").wait_for()
    assert refused.get_attribute("data-reason") == "window_closed"
    page.get_by_test_id("uwa-notice").filter(has_text="消息未送达用户").wait_for()

    # a reload: the marks were kept
    page.reload()
    page.get_by_test_id("uwa-conversation-item").filter(has=page.locator('[data-channel="wechat"]')).click()
    kept = _message(page, "agent", "请问还在吗").get_by_test_id("uwa-delivery")
    kept.filter(has_text="未送达").wait_for()
    page.get_by_test_id("uwa-conversation-item").get_by_test_id("uwa-undelivered").filter(
        has_text="2 条未送达"
    ).wait_for()

    # the user writes again with a screenshot: it appears live, and the window is open again
    served.call(receive_attachment(console.app, WECHAT, "wechat", "image/jpeg", png(24, 16), "media:1"))
    image = _message(page, "user", "[图片]").get_by_test_id("uwa-image").locator("img")
    image.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth === 24", arg=image.element_handle())
    console.channels["wechat"].refuse = None
    page.locator("#uwa-conv-meta").get_by_test_id("uwa-window").filter(has_text="剩余 47 小时").wait_for()
    page.get_by_test_id("uwa-reply").fill("收到您的截图了")
    page.get_by_test_id("uwa-send").click()
    _message(page, "agent", "收到您的截图了").get_by_test_id("uwa-delivery").filter(
        has_text="已发送"
    ).wait_for()
    assert console.channels["wechat"].sent[-1][1]["text"] == "收到您的截图了"
    page.context.close()
