"""The conversation's Rasa transcript, written by the Rasa server for the handoff: agent
messages and system notices are appended to the tracker (under the conversation's lock),
the bot is paused and resumed there, and the console reads the transcript from it.

Reads run in a worker thread (Rasa's tracker stores are synchronous inside their async
methods, so on the event loop a slow tracker database would stall every conversation).
Writes stay on the loop, as Rasa's own message handling does: they hold the conversation's
lock and may publish to Rasa's event broker, both bound to the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rasa.core.agent import Agent
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed, Event

from bot.channels.history import history_from_events
from bot.handoff.workers import Pool
from bot.nlg import localize, user_script


@dataclass(frozen=True)
class UserTurn:
    """The user's latest message as the gate needs it."""

    text: str
    answer: dict[str, Any] | None
    paused: bool
    channel: str | None


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


async def _retrieve_all(agent: Agent, sender_ids: Sequence[str], pool: Pool | None) -> list[Any]:
    """The trackers of these conversations (None for an unknown one), read in a worker thread."""
    store = agent.tracker_store

    async def fetch() -> list[Any]:
        return [await store.retrieve(sender_id) for sender_id in sender_ids]

    def in_thread() -> list[Any]:
        return asyncio.run(fetch())

    if not sender_ids:
        return []
    return await (pool.run(in_thread) if pool is not None else asyncio.to_thread(in_thread))


async def read(agent: Agent, sender_id: str, pool: Pool | None = None) -> list[dict[str, Any]]:
    """The transcript: user, bot, agent and system messages in order."""
    (tracker,) = await _retrieve_all(agent, [sender_id], pool)
    if tracker is None:
        return []
    return history_from_events([e.as_dict() for e in tracker.events], limit=1000)


async def event_counts(agent: Agent, sender_ids: Sequence[str], pool: Pool | None = None) -> dict[str, int]:
    """How many events each conversation has (cheap change detection for the console)."""
    trackers = await _retrieve_all(agent, list(sender_ids), pool)
    return {s: len(t.events) if t else 0 for s, t in zip(sender_ids, trackers, strict=True)}


async def latest_turn(agent: Agent, sender_id: str, pool: Pool | None = None) -> UserTurn | None:
    """The user's latest message, its reading as an answer, and whether the bot is paused."""
    (tracker,) = await _retrieve_all(agent, [sender_id], pool)
    if tracker is None or tracker.latest_message is None:
        return None
    message = tracker.latest_message
    answer = (message.parse_data or {}).get("answer")
    return UserTurn(
        text=str(message.text or ""),
        answer=answer if isinstance(answer, dict) else None,
        paused=tracker.is_paused(),
        channel=tracker.get_latest_input_channel(),
    )
