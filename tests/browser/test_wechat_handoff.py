"""A WeChat user and an agent, live: the user writes in the simulator's page (the fake WeChat's
user, in Chromium), asks for a person, an agent takes the conversation in the console and
replies; the reply reaches the user through the fake 客服消息 API; the user answers and the
agent sees it live. When WeChat refuses a reply (48-hour window over), the user gets nothing
and the fake records the refusal; the bot takes over again after the hand-back."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.channels.wechat_sim import errcodes
from bot.channels.wechat_sim.background import BackgroundServer
from bot.channels.wechat_sim.simulator import Simulator
from tests.browser.test_handoff import PASSWORD, TIMEOUT, _agent, _agent_says, _agent_sees, _take_newest
from tests.server.test_wechat_flows import WeChatSetup, wechat_setup

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def wechat(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WeChatSetup, str]]:
    from bot.handoff.errors import Conflict
    from bot.handoff.store import HandoffStore

    with wechat_setup(tmp_path_factory.mktemp("wechat-browser"), model_path, "safe") as setup:
        store = HandoffStore(setup.servers.handoff_db_url)
        store.create_schema()
        with contextlib.suppress(Conflict):
            store.add_agent("xiaowang", "小王", PASSWORD)
        with BackgroundServer(Simulator(setup.wechat, setup.server).app) as page:
            yield setup, page.url


def _phone(browser: Any, url: str) -> Any:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{url}/")
    page.get_by_test_id("sim-mode").filter(has_text="安全模式").wait_for()
    return page


def _type(page: Any, text: str) -> None:
    page.get_by_test_id("sim-input").fill(text)
    page.get_by_test_id("sim-input").press("Enter")


def _shown(page: Any, side: str, text: str) -> Any:
    line = page.locator(f'[data-testid="sim-line"][data-side="{side}"]').filter(has_text=text).last
    line.wait_for()
    return line


def test_a_wechat_user_and_an_agent_talk_live(browser: Any, wechat: tuple[WeChatSetup, str]) -> None:
    setup, url = wechat
    state = setup.wechat.state
    agent = _agent(browser, setup.servers, "xiaowang")
    phone = _phone(browser, url)
    openid = phone.get_by_test_id("sim-openid").input_value()

    _type(phone, "转人工")
    _shown(phone, "user", "转人工")
    _shown(phone, "bot", "排队")
    _take_newest(agent)
    _shown(phone, "bot", "小王 已接入")
    _agent_sees(agent, "user", "转人工")

    _agent_says(agent, "您好，我是小王，请问是哪一笔交易？")
    reply = _shown(phone, "bot", "我是小王")
    assert "客服消息" in reply.inner_text()  # it came through 客服消息, not as a passive reply
    sent = [d for d in state.deliveries_to(openid, delivered=True) if "我是小王" in d.text]
    assert len(sent) == 1 and sent[0].msgtype == "text" and not sent[0].ascii_escaped

    _type(phone, "昨天晚上给李娜的500块")
    _agent_sees(agent, "user", "给李娜的500块")  # live in the console

    phone.get_by_test_id("sim-fault-window").click()
    phone.get_by_test_id("sim-fault-result").filter(has_text="45015").wait_for()
    _agent_says(agent, "这一条用户收不到")
    _shown(phone, "notice", "客服消息未送达：45015")
    assert state.wait_until(
        lambda: any(d.errcode == errcodes.WINDOW_CLOSED for d in state.deliveries_to(openid)), 30
    )
    assert (
        phone.locator('[data-testid="sim-line"][data-side="bot"]').filter(has_text="这一条用户收不到").count()
        == 0
    )

    agent.get_by_test_id("uwa-handback").click()
    assert state.wait_until(  # handed back; its notice too is refused while the window is closed
        lambda: any("智能客服继续" in d.text for d in state.deliveries_to(openid, delivered=False)), 30
    )
    _type(phone, "怎么联系客服")  # a new message opens the window again; the bot answers
    _shown(phone, "bot", "客服热线")
    phone.context.close()
    agent.context.close()
