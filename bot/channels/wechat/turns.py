"""Each message causes exactly one bot turn, answered within WeChat's five seconds.

WeChat re-sends a message it got no answer to within 5 s (three tries in all), possibly to
another instance. So the first copy claims the message in the shared channel state (MsgId;
events: user, CreateTime and event) and starts the turn as a task of its own; the request
waits for it within its budget (``WECHAT_REPLY_BUDGET_SECONDS``):

- done in time, and its messages fit one text (2048 bytes): that is the passive reply;
- otherwise the request answers ``success`` and the turn, which keeps running whatever
  becomes of the request, sends its messages through 客服消息 when it is done.

What the request answered is stored with the claim (the rendered reply, or "sent through
客服消息"), so a copy that arrives later gets the same passive reply, or ``success``; a copy
that arrives while the turn still runs waits within its own budget for that answer, else
answers ``success``. Nothing is ever answered twice by two turns.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.channels.shared_state import SharedState
from bot.channels.wechat.inbound import Inbound
from bot.channels.wechat.notices import notice
from bot.channels.wechat.outbound import compose, text_reply

logger = logging.getLogger(__name__)

RUNNING = "running"
CLAIM_SECONDS = 600.0  # a turn whose process died stops holding its message after this
ANSWER_SECONDS = 600.0  # how long a re-sent copy still gets the first copy's answer
POLL_SECONDS = 0.1

Produce = Callable[[], Awaitable[list[dict[str, Any]]]]
Deliver = Callable[[Inbound, list[str]], Awaitable[None]]


def user_ref(openid: str) -> str:
    """A short reference to a user for the log (the openid itself is never logged)."""
    return hashlib.sha256(openid.encode("utf-8")).hexdigest()[:10]


class TurnLedger:
    """Claims and answers of messages, in the shared channel state."""

    def __init__(self, state: Callable[[], SharedState], app_id: str) -> None:
        """``state`` gives the shared store (opened on first use)."""
        self._state = state
        self._app_id = app_id

    def _key(self, dedupe_key: str) -> str:
        digest = hashlib.sha256(f"{self._app_id}|{dedupe_key}".encode()).hexdigest()[:40]
        return f"wechat:turn:{digest}"

    async def claim(self, dedupe_key: str) -> bool:
        """True for the first copy of a message (its turn runs), False for a re-sent one."""
        return await self._state().claim(self._key(dedupe_key), CLAIM_SECONDS, RUNNING)

    async def answered(self, dedupe_key: str, reply: str | None) -> None:
        """Record the request's answer: the passive reply's XML, or None (``success``)."""
        value = json.dumps({"reply": reply}, ensure_ascii=False)
        await self._state().put(self._key(dedupe_key), value, ANSWER_SECONDS)

    async def wait(self, dedupe_key: str, deadline: float) -> str | None:
        """A re-sent copy's answer: the first copy's reply once recorded, None (``success``)
        when it went through 客服消息 or is not known by ``deadline`` (the loop's clock)."""
        loop = asyncio.get_running_loop()
        while True:
            value = await self._state().get(self._key(dedupe_key))
            if value is None:
                return None
            if value != RUNNING:
                try:
                    reply = json.loads(value).get("reply")
                except (ValueError, AttributeError):
                    return None
                return reply if isinstance(reply, str) else None
            if loop.time() + POLL_SECONDS >= deadline:
                return None
            await asyncio.sleep(POLL_SECONDS)


class TurnRunner:
    """Runs each message's turn once and decides between the passive reply and 客服消息."""

    def __init__(self, ledger: TurnLedger, deliver: Deliver) -> None:
        """``deliver`` sends texts through 客服消息 (and reports what it could not)."""
        self._ledger = ledger
        self._deliver = deliver
        self.tasks: set[asyncio.Task[None]] = set()

    async def respond(self, inbound: Inbound, produce: Produce, deadline: float) -> str | None:
        """The passive reply's plaintext XML, or None for ``success``; ``deadline`` is on the
        loop's clock. The turn runs only for the first copy of a message."""
        try:
            first = await self._ledger.claim(inbound.dedupe_key)
        except Exception:
            logger.exception("wechat channel: no shared state, a message is handled without its claim")
            first = True
        if not first:
            try:
                return await self._ledger.wait(inbound.dedupe_key, deadline)
            except Exception:
                logger.exception("wechat channel: no shared state, a re-sent copy gets success")
                return None
        passive: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(self._run(inbound, produce, deadline, passive))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return await asyncio.shield(passive)

    async def _run(
        self, inbound: Inbound, produce: Produce, deadline: float, passive: asyncio.Future[str | None]
    ) -> None:
        loop = asyncio.get_running_loop()
        work = asyncio.create_task(_guarded(produce))
        try:
            done, _ = await asyncio.wait({work}, timeout=max(0.0, deadline - loop.time()))
            if done:
                texts = compose(work.result())
                if len(texts) <= 1:
                    reply = text_reply(inbound, texts[0], int(time.time())) if texts else None
                    passive.set_result(reply)
                    await self._record(inbound, reply)
                    return
            passive.set_result(None)
            await self._record(inbound, None)
            texts = compose(await work)
            if texts:
                await self._deliver(inbound, texts)
        finally:
            if not passive.done():
                passive.set_result(None)

    async def _record(self, inbound: Inbound, reply: str | None) -> None:
        try:
            await self._ledger.answered(inbound.dedupe_key, reply)
        except Exception:
            logger.exception("wechat channel: the shared state is unavailable, an answer was not recorded")

    async def drain(self, timeout: float) -> None:
        """Let running turns finish (and send what they have) before the server stops."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout)


async def _guarded(produce: Produce) -> list[dict[str, Any]]:
    """The turn's messages; a failed turn gets the "system busy" notice."""
    try:
        return await produce()
    except Exception:
        logger.exception("wechat channel: handling a message failed")
        return [{"text": notice("busy")}]
