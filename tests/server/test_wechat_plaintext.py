"""WeChat in plaintext mode, with slow turns answered ``success`` and then through 客服消息.

The channel's reply budget is its smallest (``WECHAT_REPLY_BUDGET_SECONDS=0.1``), and a turn
is made slow for sure by the fake WeChat itself: an image's turn fetches it with
``media/get``, which the fake answers after a second. So the webhook answers ``success``, the
turn goes on, and its reply goes out through ``message/custom/send``. That is where the
access_token, its failures and WeChat's refusals matter: a token that fails mid-conversation
is fetched again once; a reply WeChat refuses (45015, 45047) is reported as not delivered and
not sent again.
"""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.wechat_sim import errcodes, messages
from bot.channels.wechat_sim.account import Account
from bot.channels.wechat_sim.media import png
from bot.channels.wechat_sim.menu import click_buttons
from bot.channels.wechat_sim.platform import FakeWeChat
from bot.channels.wechat_sim.tokens import STABLE
from bot.channels.wechat_sim.user import WeChatUser
from tests.server.test_wechat_flows import SEND_PATH, WeChatSetup, wechat_setup
from tests.servers import ROOT

pytestmark = pytest.mark.server

MEDIA_PATH = "/cgi-bin/media/get"
SLOW_MEDIA = 1.0  # seconds: ten times the reply budget
RECEIVED = "已收到您的图片"


@pytest.fixture(scope="module")
def slow(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeChatSetup]:
    env = {"WECHAT_REPLY_BUDGET_SECONDS": "0.1"}
    with wechat_setup(tmp_path_factory.mktemp("wechat-plain"), model_path, "plain", env) as running:
        yield running


@pytest.fixture
def fresh(slow: WeChatSetup) -> Iterator[WeChatSetup]:
    """A reseeded sandbox, and a fake WeChat whose media/get takes a second."""
    slow.sandbox().reseed()
    slow.wechat.state.clear_faults()
    slow.wechat.state.set_delay(SLOW_MEDIA, MEDIA_PATH)
    yield slow
    slow.wechat.state.clear_faults()


def _wait_for_log(setup: WeChatSetup, *parts: str, timeout: float = 30.0) -> str:
    """The first log line holding every one of ``parts`` (polled until ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        for line in setup.rasa_log().splitlines():
            if all(part in line for part in parts):
                return line
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line with {parts!r}")
        time.sleep(0.2)


def _image(user: WeChatUser) -> messages.Inbound:
    media_id = user.wechat.state.add_media(png(), "image/png", "photo.png")
    return messages.image(user.openid, media_id, user.wechat.picture_url(media_id), user.to_user)


def _acknowledgements(setup: WeChatSetup, user: WeChatUser) -> list[str]:
    return [
        d.text for d in setup.wechat.state.deliveries_to(user.openid, delivered=True) if RECEIVED in d.text
    ]


# --- slow turns -----------------------------------------------------------------------------------
def test_a_slow_turn_is_answered_success_then_through_customer_service_messages(fresh: WeChatSetup) -> None:
    user = fresh.user()
    mark = user.mark()
    answer = user.send_image()
    assert answer.reply.kind == "success" and answer.attempts[-1].body.strip() == b"success"
    assert len(answer.attempts) == 1  # answered within WeChat's five seconds
    user.wait_to_see(RECEIVED, since=mark)
    [line] = [e for e in user.entries(mark) if e.side == "bot"]
    assert line.via == "custom" and RECEIVED in line.text
    [sent] = fresh.wechat.state.deliveries_to(user.openid)
    assert sent.msgtype == "text" and sent.delivered and not sent.ascii_escaped  # Chinese as UTF-8


def test_password_reset_in_plaintext_mode(fresh: WeChatSetup) -> None:
    user = fresh.user()
    mark = user.mark()
    first = user.say("我忘记密码了")
    user.wait_to_see("手机号或电子邮箱", since=mark)
    mark = user.mark()
    second = user.say("13912345678")
    shown = user.wait_to_see("4. 输入并确认新密码", since=mark)
    assert "139****5678" in shown and "13912345678" not in shown
    assert "重置密码" in fresh.sandbox().outbox("13912345678")[0]["body"]
    # within a budget this small most turns are answered later; each answer is valid either way
    for answer in (first, second):
        assert answer.reply.kind in ("text", "success"), answer.reply.problem
        assert b"<Encrypt>" not in answer.attempts[-1].body
    sent = fresh.wechat.state.deliveries_to(user.openid)
    assert all(d.delivered and not d.ascii_escaped and len(d.text.encode()) <= 2048 for d in sent)
    assert fresh.user_texts(user) == ["我忘记密码了", "139****5678"]


def test_a_message_posted_three_times_while_its_turn_runs_is_one_turn_and_one_reply(
    fresh: WeChatSetup,
) -> None:
    user, state = fresh.user(), fresh.wechat.state
    message = _image(user)
    state.user_wrote(message)
    fetches = len(state.calls_to(MEDIA_PATH))
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        attempts = list(pool.map(lambda _: fresh.server.post(message), range(3)))
    attempts.append(fresh.server.post(message))  # and once more, the turn still running
    assert [a.reply.kind if a.reply else a.error for a in attempts] == ["success"] * 4
    user.wait_to_see(RECEIVED)
    mark = user.mark()
    user.say("怎么联系客服")  # the sync point: a second turn of the image would come before it
    user.wait_to_see("客服热线", since=mark)
    assert len(state.calls_to(MEDIA_PATH)) == fetches + 1  # one turn: the image fetched once
    assert len(_acknowledgements(fresh, user)) == 1


# --- the access_token -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fault", "errcode"),
    [("expire_tokens", errcodes.ACCESS_TOKEN_EXPIRED), ("invalidate_tokens", errcodes.INVALID_CREDENTIAL)],
)
def test_a_token_that_fails_mid_conversation_is_fetched_again_once(
    fresh: WeChatSetup, fault: str, errcode: int
) -> None:
    state = fresh.wechat.state
    alice, bob = fresh.user(), fresh.user()
    alice.send_image()
    alice.wait_to_see(RECEIVED)  # the channel holds a token now
    getattr(state, fault)()
    since, media_calls, send_calls = (
        state.clock(),
        len(state.calls_to(MEDIA_PATH)),
        len(state.calls_to(SEND_PATH)),
    )
    marks = {alice.openid: alice.mark(), bob.openid: bob.mark()}
    with concurrent.futures.ThreadPoolExecutor(2) as pool:  # two turns meet the failing token
        list(pool.map(WeChatUser.send_image, (alice, bob)))
    for user in (alice, bob):
        user.wait_to_see(RECEIVED, since=marks[user.openid])
    assert state.token_fetches(since) == 1  # once for every turn and every process
    assert {f.kind for f in state.tokens.fetches if f.at >= since} == {STABLE}
    codes = [
        c.errcode for c in state.calls_to(MEDIA_PATH)[media_calls:] + state.calls_to(SEND_PATH)[send_calls:]
    ]
    assert errcode in codes and codes.count(errcodes.OK) == 4  # two fetches, two replies
    for user in (alice, bob):  # each shown once: a refused call is made again once, not twice
        assert len([t for t in user.seen(marks[user.openid]) if RECEIVED in t]) == 1


# --- what WeChat refuses --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("errcode", "reason"), [(errcodes.WINDOW_CLOSED, "window_closed"), (errcodes.QUOTA_USED, "quota")]
)
def test_a_reply_wechat_refuses_is_reported_not_delivered(
    fresh: WeChatSetup, errcode: int, reason: str
) -> None:
    state, user = fresh.wechat.state, fresh.user()
    user.send_image()
    user.wait_to_see(RECEIVED)  # a token, and a working window
    state.fail_next(SEND_PATH, errcode)
    mark = user.mark()
    user.send_image()
    assert state.wait_until(lambda: any(c.errcode == errcode for c in state.calls_to(SEND_PATH)), 60)
    line = _wait_for_log(fresh, "not delivered", str(errcode))
    assert reason in line and user.openid not in line  # why, logged; the openid is not
    later = user.mark()
    user.say("怎么联系客服")  # the user writes again: answered as usual
    user.wait_to_see("客服热线", since=later)
    assert len(_acknowledgements(fresh, user)) == 1  # the refused reply was not sent again
    assert f"客服消息未送达：{errcode}" in [e.text for e in user.entries(mark) if e.side == "notice"]


# --- the menu -------------------------------------------------------------------------------------------
def test_the_menu_is_created_as_wechat_requires(tmp_path: Path) -> None:
    account = Account.generate(safe=False)
    with FakeWeChat(account) as wechat:
        env = {
            **os.environ,
            **wechat.channel_env(),
            "CHANNEL_STATE_URL": f"sqlite:///{tmp_path / 'state.db'}",
        }
        env.pop("WECHAT_ENCODING_AES_KEY", None)
        done = subprocess.run(
            [sys.executable, "-m", "bot.channels.wechat", "menu"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        keys = {b["key"] for b in click_buttons(wechat.state.menu)}
        assert {"FORGOT_PASSWORD", "REQUEST_HUMAN", "CONTACT_SUPPORT"} <= keys
        assert [c.errcode for c in wechat.state.calls_to("/cgi-bin/menu/create")] == [errcodes.OK]
