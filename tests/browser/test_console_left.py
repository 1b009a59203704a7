"""Messages left, end to end in the browsers: a widget user's wait times out, the bot asks for a
contact, a ticket is opened, the message is in the console's 留言 queue with its SLA timer, and the
agent's answer reaches the widget. Then an agent sets themselves 忙碌 and a supervisor sees it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests.browser.widget_page import say, user_sees
from tests.server.console_helpers import PASSWORD, ensure_agents, handoff_store
from tests.servers import Servers

pytestmark = pytest.mark.server
DOCS = Path(__file__).resolve().parent.parent.parent / "docs"
TIMEOUT = 60_000


@pytest.fixture(scope="module")
def store(servers: Servers) -> Any:
    handoffs = handoff_store(servers)
    ensure_agents(handoffs, ("liuyan", "小刘", "agent"), ("zhuguan", "老周", "supervisor"))
    return handoffs


def _console(browser: Any, servers: Servers, username: str, name: str) -> Any:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{servers.rasa_url}/console/")
    page.get_by_test_id("uwa-login-username").fill(username)
    page.get_by_test_id("uwa-login-password").fill(PASSWORD)
    page.get_by_test_id("uwa-login-submit").click()
    page.get_by_test_id("uwa-agent-name").filter(has_text=name).wait_for()
    return page


def _widget(browser: Any, servers: Servers) -> Any:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{servers.rasa_url}/widget/demo.html")
    page.get_by_test_id("uwc-launcher").click()
    return page


def _time_out(store: Any, handoff_id: int) -> None:
    """As if the user had waited longer than HANDOFF_MAX_WAIT_SECONDS (the real sweep expires it)."""
    from bot.handoff.schema import handoffs

    with store.engine.begin() as conn:
        old = store.get(handoff_id).created_at - timedelta(hours=1)
        conn.execute(update(handoffs).where(handoffs.c.id == handoff_id).values(created_at=old))


def test_a_timed_out_wait_becomes_a_ticket_in_the_queue_and_the_answer_reaches_the_widget(
    browser: Any, servers: Servers, store: Any
) -> None:
    agent = _console(browser, servers, "liuyan", "小刘")  # on duty: the user is queued first
    user = _widget(browser, servers)
    say(user, "转人工")
    user_sees(user, "bot", "排队")
    waiting = next(h for h in store.queue() if h.channel == "socketio" and h.sender_id.startswith("widget:"))
    _time_out(store, waiting.id)
    user_sees(user, "system", "转为留言")  # the expiry sweep, within a round
    user_sees(user, "bot", "手机号或邮箱")  # the bot asks the anonymous user for a contact
    say(user, "13912345678")
    user_sees(user, "bot", "139****5678")
    user_sees(user, "bot", "小时内联系您")
    left = store.messages.get(waiting.id)
    assert left.ticket_id and left.contact == "139****5678"
    ticket = _ticket(servers, left.ticket_id)
    assert (
        ticket.kind == "message_left"
        and waiting.reference in ticket.summary
        and "渠道：网页" in ticket.summary
    )

    agent.get_by_test_id("uwa-tab-left").click()
    row = agent.get_by_test_id("uwa-left-item").filter(has_text=waiting.reference)
    row.wait_for()
    assert "139****5678" in row.inner_text() and left.ticket_id in row.inner_text()
    row.get_by_test_id("uwa-left-due").filter(has_text="剩余").wait_for()  # the SLA timer
    row.get_by_test_id("uwa-left-open").click()
    agent.get_by_test_id("uwa-left-transcript").locator('[data-role="user"]').filter(
        has_text="转人工"
    ).wait_for()
    agent.screenshot(path=str(DOCS / "console-messages-left.png"))
    agent.get_by_test_id("uwa-left-reply").fill("您好，我是小刘，已收到您的留言，请问是哪一笔交易？")
    agent.get_by_test_id("uwa-left-send").click()
    user_sees(user, "agent", "已收到您的留言")  # on the user's own channel, live
    agent.get_by_test_id("uwa-notice").filter(has_text="已回复留言").wait_for()
    assert store.messages.get(waiting.id).answer_kind == "channel"
    assert "message_answered" in [e.action for e in store.audit_log(20)]
    user.context.close()
    agent.context.close()


def _ticket(servers: Servers, ticket_id: str) -> Any:
    from actions.backend.sandbox import SandboxBackend

    return SandboxBackend(servers.sandbox_db).get_ticket(ticket_id)


def test_an_agent_sets_their_presence_and_a_supervisor_sees_it_with_the_nav(
    browser: Any, servers: Servers, store: Any
) -> None:
    agent = _console(browser, servers, "liuyan", "小刘")
    assert agent.get_by_test_id("uwa-nav").is_hidden()  # reports and review: supervisors only
    agent.get_by_test_id("uwa-status").select_option("busy")
    agent.get_by_test_id("uwa-notice").filter(has_text="忙碌").wait_for()
    boss = _console(browser, servers, "zhuguan", "老周")
    boss.get_by_test_id("uwa-nav-reports").wait_for()
    assert boss.get_by_test_id("uwa-nav-reports").get_attribute("href") == "/console/insights/reports"
    assert boss.get_by_test_id("uwa-nav-review").get_attribute("href") == "/console/insights/review"
    boss.get_by_test_id("uwa-tab-overview").click()
    row = boss.get_by_test_id("uwa-agent-item").filter(has_text="小刘")
    row.get_by_test_id("uwa-agent-status").filter(has_text="忙碌").wait_for()
    boss.screenshot(path=str(DOCS / "console-agents.png"))
    agent.get_by_test_id("uwa-status").select_option("online")
    agent.context.close()
    boss.context.close()
