"""What a handoff step does to the conversation: the store's state change, the notices in
the Rasa transcript, the pause or resumption of the bot, and the live push to the user.

Used by the agent console (take, reply, transfer, hand back, resolve), the user's channel
(stop waiting) and the expiry task (waited too long → leave a message). The store's calls run
in a worker pool, never on the event loop; texts come from ``notices.yml``.

Every message is written to the transcript first and pushed after; what became of each push
is recorded in the store (``deliveries``), and each step returns the outcome, so a message
that did not reach the user is shown to the agent as not delivered, with the reason.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from rasa.core.agent import Agent as RasaAgent
from rasa.shared.core.events import BotUttered
from sanic import Sanic

from bot.handoff import external, transcript
from bot.handoff.assignment import Assigned, PlaceChange
from bot.handoff.deliveries import DeliveryRecord
from bot.handoff.errors import HandoffError
from bot.handoff.models import Agent, Handoff
from bot.handoff.notices import notice
from bot.handoff.push import Delivery, push_each
from bot.handoff.store import HandoffStore
from bot.handoff.workers import Pool, guarded

P = ParamSpec("P")
T = TypeVar("T")
logger = logging.getLogger(__name__)
UNKNOWN_CHANNEL = "unknown"


@dataclass(frozen=True)
class Step:
    """What a step did: the handoff as it is now, and whether the user got the message(s)."""

    handoff: Handoff
    delivery: Delivery
    message: dict[str, Any] | None = None  # an agent's reply, as the user's channel got it


def overall(outcomes: Sequence[Delivery]) -> Delivery:
    """One outcome for several messages: the first that failed, else delivered."""
    return next((d for d in outcomes if not d.delivered), Delivery(True))


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

    async def _tell(
        self,
        sender_id: str,
        channel: str | None,
        handoff_id: int | None,
        notices: list[BotUttered],
        resume: bool = False,
    ) -> Delivery:
        """Write the messages to the transcript, push them, record what became of each."""
        if resume:
            await transcript.resume(self.rasa, sender_id, notices)
        else:
            await transcript.append(self.rasa, sender_id, list(notices))
        outcomes = await push_each(self.app, channel, sender_id, [transcript.as_push(n) for n in notices])
        await self._record(sender_id, channel, handoff_id, notices, outcomes)
        return overall(outcomes)

    async def _record(
        self,
        sender_id: str,
        channel: str | None,
        handoff_id: int | None,
        notices: list[BotUttered],
        outcomes: list[Delivery],
    ) -> None:
        name = channel or UNKNOWN_CHANNEL
        records = [
            DeliveryRecord(message_id, sender_id, handoff_id, name, d.delivered, d.reason)
            for n, d in zip(notices, outcomes, strict=True)
            if (message_id := transcript.message_id(n)) is not None
        ]
        try:
            await self._db(self.store.deliveries.record, records)
        except HandoffError:  # the store is down: the outcome is logged, the step stands
            failed = [r.reason for r in records if not r.delivered]
            logger.warning("handoff: outcomes of %d pushes not recorded (failed: %s)", len(records), failed)

    async def take(self, handoff_id: int, agent: Agent) -> Step:
        """The agent takes a waiting conversation (exactly one wins a race)."""
        handoff = await self._db(self.store.take, handoff_id, agent.id)
        taken = transcript.system_notice(notice("taken", agent=agent.display_name))
        return Step(handoff, await self._tell(handoff.sender_id, handoff.channel, handoff.id, [taken]))

    async def reply(self, handoff: Handoff, agent: Agent, text: str) -> Step:
        """An agent message: into the transcript, then to the user live."""
        message = transcript.agent_message(text, agent.display_name)
        delivery = await self._tell(handoff.sender_id, handoff.channel, handoff.id, [message])
        return Step(handoff, delivery, transcript.as_push(message))

    async def transfer(self, handoff: Handoff, agent: Agent, target_id: int) -> Step:
        """Pass the conversation to another agent."""

        def move() -> tuple[Handoff, Agent]:
            supervisor = agent.role == "supervisor"
            moved = self.store.transfer(handoff.id, agent.id, target_id, supervisor=supervisor)
            return moved, self.store.get_agent(target_id)

        moved, target = await self._db(move)
        text = transcript.system_notice(notice("transferred", agent=target.display_name))
        return Step(moved, await self._tell(moved.sender_id, moved.channel, moved.id, [text]))

    async def hand_back(self, handoff: Handoff, agent: Agent) -> Step:
        """Give the conversation back to the bot."""
        supervisor = agent.role == "supervisor"
        back = await self._db(self.store.hand_back, handoff.id, agent.id, supervisor=supervisor)
        text = transcript.system_notice(notice("handed_back"))
        return Step(back, await self._tell(back.sender_id, back.channel, back.id, [text], resume=True))

    async def resolve(self, handoff: Handoff, agent: Agent, note: str) -> Step:
        """Close the conversation; the bot asks for a one-to-five rating."""
        supervisor = agent.role == "supervisor"
        done = await self._db(self.store.resolve, handoff.id, agent.id, note, supervisor=supervisor)
        notices = [
            transcript.system_notice(notice("resolved")),
            transcript.system_notice(notice("rate"), rating_buttons()),
        ]
        return Step(done, await self._tell(done.sender_id, done.channel, done.id, notices, resume=True))

    async def stop_waiting(self, handoff: Handoff) -> Delivery:
        """The user no longer wants to wait: back to the bot (Conflict if no longer pending)."""
        await self._db(self.store.cancel, handoff.id)
        text = transcript.system_notice(notice("cancelled"))
        return await self._tell(handoff.sender_id, handoff.channel, handoff.id, [text], resume=True)

    async def cancel_failed(self, sender_id: str, channel: str | None) -> Delivery:
        """The store is down and the user asked to stop waiting: say so (the bot stays paused)."""
        text = transcript.system_notice(notice("cancel_failed"))
        return await self._tell(sender_id, channel, None, [text])

    async def expire(self, max_wait_seconds: int) -> list[Handoff]:
        """Waited too long: the user's request becomes a message, with its number."""
        expired = await self._db(self.store.expire_pending, max_wait_seconds)
        for handoff in expired:
            text = transcript.system_notice(notice("expired", reference=handoff.reference))
            await self._tell(handoff.sender_id, handoff.channel, handoff.id, [text], resume=True)
            await external.message_left(self.app, handoff.sender_id, handoff.channel)  # contact, ticket
        return expired

    async def assign(self, capacity: int) -> list[Assigned]:
        """Round robin: waiting users go to online agents with room; each user is told who."""
        given = await self._db(self.store.assignment.assign_round_robin, capacity)
        for assigned in given:
            handoff = assigned.handoff
            text = transcript.system_notice(notice("taken", agent=assigned.agent_name))
            await self._tell(handoff.sender_id, handoff.channel, handoff.id, [text])
        return given

    async def requeue_unanswered(self, minutes: int) -> list[Handoff]:
        """Assignments nobody answered in time go back to the queue; their users are told."""
        requeued = await self._db(self.store.assignment.requeue_unanswered, minutes)
        for handoff in requeued:
            text = transcript.system_notice(notice("requeued"))
            await self._tell(handoff.sender_id, handoff.channel, handoff.id, [text])
        return requeued

    async def tell_places(self, minutes_per_place: int) -> list[PlaceChange]:
        """Tell each waiting user whose place in the queue changed their new place and wait."""
        changes = await self._db(self.store.assignment.place_changes)
        for change in changes:
            handoff = change.handoff
            wait = change.position * minutes_per_place
            text = transcript.system_notice(
                notice("queue_position", position=change.position, wait_minutes=wait)
            )
            await self._tell(handoff.sender_id, handoff.channel, handoff.id, [text])
        return changes
