"""What a handoff step does to the conversation: the store's state change, the notices in
the Rasa transcript, the pause or resumption of the bot, and the live push to the user.

Used by the agent console (take, reply, transfer, hand back, resolve), the user's channel
(stop waiting) and the expiry task (waited too long → leave a message).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa.core.agent import Agent as RasaAgent
from rasa.shared.core.events import BotUttered
from sanic import Sanic

from bot.company import load_company_facts
from bot.handoff import transcript
from bot.handoff.models import Agent, Handoff
from bot.handoff.push import push
from bot.handoff.store import HandoffStore

RATING_BUTTONS = [
    {"title": f"{score} 分", "payload": f'/rate_service{{"satisfaction":"{score}"}}'}
    for score in (1, 2, 3, 4, 5)
]


@dataclass
class Lifecycle:
    """The handoff steps, bound to the store and the running Rasa server."""

    store: HandoffStore
    app: Sanic

    @property
    def rasa(self) -> RasaAgent:
        """The Rasa agent (tracker store and lock store) of this server."""
        return self.app.ctx.agent

    async def _tell(self, handoff: Handoff, notices: list[BotUttered], resume: bool = False) -> None:
        if resume:
            await transcript.resume(self.rasa, handoff.sender_id, notices)
        else:
            await transcript.append(self.rasa, handoff.sender_id, list(notices))
        await push(self.app, handoff.channel, handoff.sender_id, [transcript.as_push(n) for n in notices])

    async def take(self, handoff_id: int, agent: Agent) -> Handoff:
        """The agent takes a waiting conversation (exactly one wins a race)."""
        handoff = self.store.take(handoff_id, agent.id)
        await self._tell(
            handoff, [transcript.system_notice(f"人工客服 {agent.display_name} 已接入，请问有什么可以帮您？")]
        )
        return handoff

    async def reply(self, handoff: Handoff, agent: Agent, text: str) -> dict[str, Any]:
        """An agent message: into the transcript, then to the user live."""
        message = transcript.agent_message(text, agent.display_name)
        await self._tell(handoff, [message])
        return transcript.as_push(message)

    async def transfer(self, handoff: Handoff, agent: Agent, target_id: int) -> Handoff:
        """Pass the conversation to another agent."""
        moved = self.store.transfer(handoff.id, agent.id, target_id, supervisor=agent.role == "supervisor")
        target = self.store.get_agent(target_id)
        await self._tell(moved, [transcript.system_notice(f"已为您转接至人工客服 {target.display_name}。")])
        return moved

    async def hand_back(self, handoff: Handoff, agent: Agent) -> Handoff:
        """Give the conversation back to the bot."""
        back = self.store.hand_back(handoff.id, agent.id, supervisor=agent.role == "supervisor")
        notice = transcript.system_notice("人工客服已结束接待，接下来由智能客服继续为您服务。")
        await self._tell(back, [notice], resume=True)
        return back

    async def resolve(self, handoff: Handoff, agent: Agent, note: str) -> Handoff:
        """Close the conversation; the bot asks for a one-to-five rating."""
        done = self.store.resolve(handoff.id, agent.id, note, supervisor=agent.role == "supervisor")
        notices = [
            transcript.system_notice("本次人工服务已结束，感谢您的耐心。"),
            transcript.system_notice("请为本次服务打分（5 分为非常满意）：", RATING_BUTTONS),
        ]
        await self._tell(done, notices, resume=True)
        return done

    async def stop_waiting(self, handoff: Handoff) -> None:
        """The user no longer wants to wait: back to the bot."""
        self.store.cancel(handoff.id)
        await self._tell(
            handoff,
            [transcript.system_notice("好的，已为您取消人工排队，智能客服继续为您服务。")],
            resume=True,
        )

    async def expire(self, max_wait_seconds: int) -> list[Handoff]:
        """Waited too long: the user's request becomes a message, with its number."""
        facts = load_company_facts()
        expired = self.store.expire_pending(max_wait_seconds)
        for handoff in expired:
            text = (
                f"抱歉，目前人工客服繁忙，暂时无法接入。已为您登记留言，编号 {handoff.reference}，"
                f"客服会在服务时间（{facts.hotline_hours}）内尽快联系您，您刚才的描述会一并转交。"
                f"紧急问题请拨打 {facts.hotline}。"
            )
            await self._tell(handoff, [transcript.system_notice(text)], resume=True)
        return expired
