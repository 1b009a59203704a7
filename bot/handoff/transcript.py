"""The conversation's Rasa transcript, written by the Rasa server for the handoff: agent
messages and system notices are appended to the tracker (under the conversation's lock),
the bot is paused and resumed there, and the console reads the transcript from it. Agent
messages and notices carry an id in their metadata (``message_id``: what became of their push
is recorded under it); an image the user sent is a user message whose metadata carries the
image's id (``attachment_refs``).

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
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed, Event, UserUttered

from bot.handoff.attachment_refs import attachment_metadata, texts
from bot.handoff.ids import is_id, new_id
from bot.handoff.models import Attachment
from bot.handoff.workers import Pool
from bot.nlg import localize, user_script

MESSAGE_ID = "message_id"  # the metadata key of an agent message's or a notice's id (deliveries)


@dataclass(frozen=True)
class UserTurn:
    """The user's latest message as the gate needs it."""

    text: str
    answer: dict[str, Any] | None
    paused: bool
    channel: str | None


def agent_message(text: str, agent_name: str) -> BotUttered:
    """An agent's message, marked as the agent's in the transcript, with its own id."""
    meta = {"role": "agent", "agent_name": agent_name}
    return BotUttered(text, data={"custom": meta}, metadata={**meta, MESSAGE_ID: new_id()})


def system_notice(text: str, buttons: list[dict[str, str]] | None = None) -> BotUttered:
    """A notice such as "人工客服 小王 已接入" (optionally with buttons), with its own id."""
    data: dict[str, Any] = {"custom": {"role": "system"}}
    if buttons:
        data["buttons"] = buttons
    return BotUttered(text, data=data, metadata={"role": "system", MESSAGE_ID: new_id()})


def message_id(event: BotUttered | dict[str, Any]) -> str | None:
    """The id of an agent message or a notice (None for the bot's own messages)."""
    meta = event.metadata if isinstance(event, BotUttered) else event.get("metadata")
    found = (meta or {}).get(MESSAGE_ID) if isinstance(meta, dict) else None
    return found if is_id(found) else None


def image_message(attachment: Attachment) -> UserUttered:
    """The user's message that carries an image (its text a placeholder, its id in the metadata)."""
    return UserUttered(
        texts()["placeholder"],
        input_channel=attachment.channel,
        metadata=attachment_metadata(attachment.id, attachment.content_type),
    )


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


async def read_events(agent: Agent, sender_id: str, pool: Pool | None = None) -> list[dict[str, Any]]:
    """The conversation's events, serialized (empty for an unknown conversation)."""
    (tracker,) = await _retrieve_all(agent, [sender_id], pool)
    return [] if tracker is None else [e.as_dict() for e in tracker.events]


def last_user_at(serialized: Sequence[dict[str, Any]]) -> float | None:
    """When the user last wrote (unix seconds), from serialized events; None if never."""
    for event in reversed(serialized):
        if event.get("event") == "user" and isinstance(event.get("timestamp"), int | float):
            return float(event["timestamp"])
    return None


async def last_user_times(
    agent: Agent, sender_ids: Sequence[str], pool: Pool | None = None
) -> dict[str, float | None]:
    """When each user last wrote (unix seconds; None if never), from their transcripts."""
    trackers = await _retrieve_all(agent, list(sender_ids), pool)
    times: dict[str, float | None] = {}
    for sender_id, tracker in zip(sender_ids, trackers, strict=True):
        latest = (
            None
            if tracker is None
            else next((e.timestamp for e in reversed(tracker.events) if isinstance(e, UserUttered)), None)
        )
        times[sender_id] = float(latest) if latest is not None else None
    return times


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
