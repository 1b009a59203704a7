"""A user in the widget and an agent in the console, live, both ways; then across a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.widget_page import say, user_sees
from tests.server.console_helpers import PASSWORD, ensure_agents, handoff_store
from tests.servers import Servers

pytestmark = pytest.mark.server
DOCS = Path(__file__).resolve().parent.parent.parent / "docs"
TIMEOUT = 60_000


@pytest.fixture(scope="module")
def agent_account(servers: Servers) -> str:
    ensure_agents(handoff_store(servers), ("xiaowang", "小王", "agent"))
    return "xiaowang"


def _user(browser: Any, servers: Servers) -> Any:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{servers.rasa_url}/widget/demo.html")
    page.get_by_test_id("uwc-launcher").click()
    return page


def _agent(browser: Any, servers: Servers, username: str) -> Any:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{servers.rasa_url}/console/")
    page.get_by_test_id("uwa-login-username").fill(username)
    page.get_by_test_id("uwa-login-password").fill(PASSWORD)
    page.get_by_test_id("uwa-login-submit").click()
    page.get_by_test_id("uwa-agent-name").filter(has_text="小王").wait_for()
    return page


def _agent_sees(page: Any, role: str, text: str) -> None:
    page.get_by_test_id("uwa-transcript").locator(f'[data-testid="uwa-msg"][data-role="{role}"]').filter(
        has_text=text
    ).last.wait_for()


def _agent_sees_delivered(page: Any, text: str) -> None:
    """The agent's message is marked as sent to the user's channel (the widget's socket)."""
    sent = _agent_message(page, text).locator('[data-testid="uwa-delivery"][data-delivered="true"]')
    sent.filter(has_text="已发送").wait_for()


def _agent_message(page: Any, text: str) -> Any:
    return (
        page.get_by_test_id("uwa-transcript")
        .locator('[data-testid="uwa-msg"][data-role="agent"]')
        .filter(has_text=text)
        .last
    )


def _take_newest(agent: Any) -> None:
    item = agent.get_by_test_id("uwa-queue-item").last
    item.wait_for()
    item.get_by_test_id("uwa-take").click()


def _agent_says(agent: Any, text: str) -> None:
    agent.get_by_test_id("uwa-reply").fill(text)
    agent.get_by_test_id("uwa-send").click()


def test_user_and_agent_talk_live_and_the_bot_takes_over_again(
    browser: Any, servers: Servers, agent_account: str
) -> None:
    agent = _agent(browser, servers, agent_account)
    user = _user(browser, servers)
    say(user, "帮我转人工客服")
    user_sees(user, "bot", "排队")
    agent.get_by_test_id("uwa-queue-item").last.wait_for()
    agent.screenshot(path=str(DOCS / "console-queue.png"))
    _take_newest(agent)
    user_sees(user, "system", "小王 已接入")
    _agent_sees(agent, "user", "帮我转人工客服")
    agent.locator("#uwa-conv-meta").locator('[data-channel="socketio"]').filter(has_text="网页").wait_for()
    _agent_says(agent, "您好，我是小王，请问是哪一笔交易？")
    user_sees(user, "agent", "我是小王")
    _agent_sees_delivered(agent, "我是小王")
    say(user, "昨天晚上给李娜的500块")
    _agent_sees(agent, "user", "给李娜的500块")
    agent.screenshot(path=str(DOCS / "console-conversation.png"))
    agent.get_by_test_id("uwa-handback").click()
    user_sees(user, "system", "智能客服继续")
    say(user, "怎么联系客服")
    user_sees(user, "bot", "客服热线")
    user.context.close()
    agent.context.close()


def test_a_restart_of_the_rasa_server_loses_nothing(
    browser: Any, servers: Servers, agent_account: str
) -> None:
    agent = _agent(browser, servers, agent_account)
    user = _user(browser, servers)
    say(user, "转人工")
    user_sees(user, "bot", "排队")
    _take_newest(agent)
    user_sees(user, "system", "已接入")
    servers.restart_rasa()
    agent.reload()
    agent.get_by_test_id("uwa-agent-name").filter(has_text="小王").wait_for()  # the session survived
    agent.get_by_test_id("uwa-conversation-item").last.click()
    _agent_sees(agent, "user", "转人工")  # the transcript survived
    _agent_says(agent, "服务器重启后我还在，请继续说。")
    user_sees(user, "agent", "服务器重启后")  # the widget reconnected by itself
    say(user, "好的 谢谢")
    _agent_sees(agent, "user", "好的 谢谢")
    agent.get_by_test_id("uwa-resolve").click()
    agent.get_by_test_id("uwa-resolve-note").fill("已解答")
    agent.get_by_test_id("uwa-resolve-confirm").click()
    user_sees(user, "system", "打分")
    say(user, "5分")
    user_sees(user, "bot", "感谢您的评价")
    user.context.close()
    agent.context.close()
