"""The conversation's Rasa transcript, written by the Rasa server for the handoff: agent
messages and system notices are appended to the tracker (under the conversation's lock),
the bot is paused and resumed there, and the console reads the transcript from it."""

from __future__ import annotations

from typing import Any

from rasa.core.agent import Agent
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed, Event

from bot.channels.history import history_from_events
from bot.nlg import localize, user_script


def agent_message(text: str, agent_name: str) -> BotUttered:
    """An agent's message, marked as the agent's in the transcript."""
    meta = {"role": "agent", "agent_name": agent_name}
    return BotUttered(text, data={"custom": meta}, metadata=meta)


def system_notice(text: str, buttons: list[dict[str, str]] | None = None) -> BotUttered:
    """A notice such as "人工客服 小王 已接入" (optionally with buttons)."""
    data: dict[str, Any] = {"custom": {"role": "system"}}
    if buttons:
        data["buttons"] = buttons
    return BotUttered(text, data=data, metadata={"role": "system"})


def as_push(event: BotUttered) -> dict[str, Any]:
    """What the user's channel receives for a transcript message."""
    meta = event.metadata or {}
    message: dict[str, Any] = {"text": event.text, "role": meta.get("role", "bot")}
    if meta.get("agent_name"):
        message["agent_name"] = meta["agent_name"]
    if (event.data or {}).get("buttons"):
        message["buttons"] = event.data["buttons"]
    return message


async def append(agent: Agent, sender_id: str, events: list[Event]) -> None:
    """Append events to the conversation's tracker, holding its lock.

    System notices are written in the user's script first (in place, so that what is pushed
    to the user's channel is the same text); agents' messages stay as the agent typed them.
    """
    async with agent.lock_store.lock(sender_id):
        tracker = await agent.tracker_store.get_or_create_tracker(sender_id)
        script = user_script(tracker)
        for event in events:
            if isinstance(event, BotUttered) and (event.metadata or {}).get("role") == "system":
                localized = localize(
                    {"text": event.text, "buttons": (event.data or {}).get("buttons")}, script
                )
                event.text = localized["text"]
            tracker.update(event)
        await agent.tracker_store.save(tracker)


async def resume(agent: Agent, sender_id: str, notices: list[BotUttered]) -> None:
    """Give the conversation back to the bot, with the notices that say so.

    The closing ``action_listen`` makes the user's next message start a fresh turn, so the
    bot's rules apply to it as to any message (messages during the handoff had no bot turn).
    """
    await append(agent, sender_id, [ConversationResumed(), *notices, ActionExecuted(ACTION_LISTEN_NAME)])


async def read(agent: Agent, sender_id: str) -> list[dict[str, Any]]:
    """The transcript: user, bot, agent and system messages in order."""
    tracker = await agent.tracker_store.retrieve(sender_id)
    if tracker is None:
        return []
    return history_from_events([e.as_dict() for e in tracker.events], limit=1000)


async def event_count(agent: Agent, sender_id: str) -> int:
    """How many events the conversation has (cheap change detection for the console)."""
    tracker = await agent.tracker_store.retrieve(sender_id)
    return len(tracker.events) if tracker else 0


async def latest_intent(agent: Agent, sender_id: str) -> str | None:
    """The intent of the user's latest message."""
    tracker = await agent.tracker_store.retrieve(sender_id)
    if tracker is None or tracker.latest_message is None:
        return None
    name = (tracker.latest_message.intent or {}).get("name")
    return str(name) if name else None
