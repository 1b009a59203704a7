"""What a handoff step does to the conversation: the store's state change, the notices in
the Rasa transcript, the pause or resumption of the bot, and the live push to the user.

Used by the agent console (take, reply, transfer, hand back, resolve), the user's channel
(stop waiting) and the expiry task (waited too long → leave a message). The store's calls run
in a worker pool, never on the event loop; texts come from ``notices.yml``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from rasa.core.agent import Agent as RasaAgent
from rasa.shared.core.events import BotUttered
from sanic import Sanic

from bot.handoff import transcript
from bot.handoff.models import Agent, Handoff
from bot.handoff.notices import notice
from bot.handoff.push import push
from bot.handoff.store import HandoffStore
from bot.handoff.workers import Pool, guarded

P = ParamSpec("P")
T = TypeVar("T")


def rating_buttons() -> list[dict[str, str]]:
    """The one-to-five buttons after a resolved conversation, in score order."""
    return [
        {
            "title": notice("rating_button", score=score),
            "payload": f'/rate_service{{"satisfaction":"{score}"}}',
        }
        for score in (1, 2, 3, 4, 5)
    ]


@dataclass
class Lifecycle:
    """The handoff steps, bound to the store, the running Rasa server and a worker pool.

    Without a pool the store's calls run in the loop's default executor.
    """

    store: HandoffStore
    app: Sanic
    pool: Pool | None = None

    @property
    def rasa(self) -> RasaAgent:
        """The Rasa agent (tracker store and lock store) of this server."""
        return self.app.ctx.agent

    async def _db(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self.pool is None:
            return await asyncio.to_thread(functools.partial(guarded, fn, *args, **kwargs))
        return await self.pool.run(fn, *args, **kwargs)

    async def _tell(self, handoff: Handoff, notices: list[BotUttered], resume: bool = False) -> None:
        if resume:
            await transcript.resume(self.rasa, handoff.sender_id, notices)
        else:
            await transcript.append(self.rasa, handoff.sender_id, list(notices))
        await push(self.app, handoff.channel, handoff.sender_id, [transcript.as_push(n) for n in notices])

    async def take(self, handoff_id: int, agent: Agent) -> Handoff:
        """The agent takes a waiting conversation (exactly one wins a race)."""
        handoff = await self._db(self.store.take, handoff_id, agent.id)
        await self._tell(handoff, [transcript.system_notice(notice("taken", agent=agent.display_name))])
        return handoff

    async def reply(self, handoff: Handoff, agent: Agent, text: str) -> dict[str, Any]:
        """An agent message: into the transcript, then to the user live."""
        message = transcript.agent_message(text, agent.display_name)
        await self._tell(handoff, [message])
        return transcript.as_push(message)

    async def transfer(self, handoff: Handoff, agent: Agent, target_id: int) -> Handoff:
        """Pass the conversation to another agent."""

        def move() -> tuple[Handoff, Agent]:
            supervisor = agent.role == "supervisor"
            moved = self.store.transfer(handoff.id, agent.id, target_id, supervisor=supervisor)
            return moved, self.store.get_agent(target_id)

        moved, target = await self._db(move)
        await self._tell(moved, [transcript.system_notice(notice("transferred", agent=target.display_name))])
        return moved

    async def hand_back(self, handoff: Handoff, agent: Agent) -> Handoff:
        """Give the conversation back to the bot."""
        supervisor = agent.role == "supervisor"
        back = await self._db(self.store.hand_back, handoff.id, agent.id, supervisor=supervisor)
        await self._tell(back, [transcript.system_notice(notice("handed_back"))], resume=True)
        return back

    async def resolve(self, handoff: Handoff, agent: Agent, note: str) -> Handoff:
        """Close the conversation; the bot asks for a one-to-five rating."""
        supervisor = agent.role == "supervisor"
        done = await self._db(self.store.resolve, handoff.id, agent.id, note, supervisor=supervisor)
        notices = [
            transcript.system_notice(notice("resolved")),
            transcript.system_notice(notice("rate"), rating_buttons()),
        ]
        await self._tell(done, notices, resume=True)
        return done

    async def stop_waiting(self, handoff: Handoff) -> None:
        """The user no longer wants to wait: back to the bot (Conflict if no longer pending)."""
        await self._db(self.store.cancel, handoff.id)
        await self._tell(handoff, [transcript.system_notice(notice("cancelled"))], resume=True)

    async def cancel_failed(self, sender_id: str, channel: str | None) -> None:
        """The store is down and the user asked to stop waiting: say so (the bot stays paused)."""
        text = transcript.system_notice(notice("cancel_failed"))
        await transcript.append(self.rasa, sender_id, [text])
        await push(self.app, channel, sender_id, [transcript.as_push(text)])

    async def expire(self, max_wait_seconds: int) -> list[Handoff]:
        """Waited too long: the user's request becomes a message, with its number."""
        expired = await self._db(self.store.expire_pending, max_wait_seconds)
        for handoff in expired:
            text = notice("expired", reference=handoff.reference)
            await self._tell(handoff, [transcript.system_notice(text)], resume=True)
        return expired
