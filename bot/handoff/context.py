"""What the console's side panel shows about a conversation: the bot's state (its flow, the
step it waited at and the filled slots, masked), the verified customer's masked profile and
open tickets from the wallet backend, and the customer's previous conversations.

The bot's state comes from the tracker's events (pure functions below); only the slots named
in ``context.yml`` are shown, each value masked by ``bot.masking``, so codes and raw contacts
never reach the console. The wallet backend is reached through its client interface
(``actions.backend``: the sandbox or the HTTP client, as configured), off the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from bot.handoff.annotations import ContextConfig
from bot.handoff.models import Handoff
from bot.masking import mask_email, mask_phone, mask_text

logger = logging.getLogger(__name__)
SESSION_START = "session_started"
MAX_TICKETS = 10
MAX_SLOT_VALUE = 200


class CustomerBackend(Protocol):
    """The part of the wallet backend the side panel reads (``actions.backend.WalletBackend``)."""

    def get_account(self, account_id: str) -> Any:
        """The account; raises when there is none."""

    def get_ticket(self, ticket_id: str) -> Any:
        """The ticket; raises when there is none."""


def wallet_backend() -> CustomerBackend:
    """The configured wallet backend (the action server's settings: sandbox or HTTP)."""
    from actions.backend.factory import get_backend

    return get_backend()


def _current_session(events: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    starts = [i for i, e in enumerate(events) if e.get("event") == SESSION_START]
    return events[starts[-1] :] if starts else events


def _slot_values(events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for event in events:
        if event.get("event") == "slot" and isinstance(event.get("name"), str):
            values[event["name"]] = event.get("value")
        elif event.get("event") in ("restart", SESSION_START):
            values = {}
    return values


def account_of(events: Sequence[Mapping[str, Any]]) -> str | None:
    """The verified account of the conversation: the last account the bot set, in any session."""
    found = None
    for event in events:
        if (
            event.get("event") == "slot"
            and event.get("name") == "account_id"
            and isinstance(event.get("value"), str)
        ):
            found = event["value"]
    return found


def ticket_ids(events: Iterable[Mapping[str, Any]]) -> list[str]:
    """The tickets the bot opened in the conversation (the ``ticket_id`` slot), newest first."""
    found: list[str] = []
    for event in events:
        value = (
            event.get("value") if event.get("event") == "slot" and event.get("name") == "ticket_id" else None
        )
        if isinstance(value, str) and value and value not in found:
            found.insert(0, value)
    return found


def _shown(value: Any) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    text = (
        value
        if isinstance(value, str)
        else ", ".join(map(str, value))
        if isinstance(value, list)
        else str(value)
    )
    return mask_text(text)[:MAX_SLOT_VALUE]


def bot_state(events: Sequence[Mapping[str, Any]], config: ContextConfig) -> dict[str, Any]:
    """The bot's flow (the last form it ran in this session), the step it waited at (the slot it
    requested then) and the filled slots named in the configuration, masked."""
    session = _current_session(events)
    flow = step = None
    for event in session:
        kind, value = event.get("event"), event.get("value")
        if kind == "active_loop" and isinstance(event.get("name"), str):
            flow, step = event["name"], None  # a new form starts at its first question
        elif kind == "slot" and event.get("name") == "requested_slot" and flow and isinstance(value, str):
            step = value  # the question asked last: where the user stopped, once the form ended
    values = _slot_values(session)
    slots = [
        {"name": name, "label": label, "value": shown}
        for name, label in config.slots.items()
        if (shown := _shown(values.get(name))) is not None
    ]
    return {
        "flow": flow,
        "flow_label": config.flows.get(flow or "", flow),
        "step": step,
        "step_label": config.steps.get(step or "", step),
        "slots": slots,
    }


def profile_json(account: Any) -> dict[str, Any]:
    """A wallet account as the agent sees it: the name, phone and e-mail masked."""
    name = str(getattr(account, "name", "") or "")
    return {
        "account_id": str(account.account_id),
        "name": (name[:1] + "*" * max(1, len(name) - 1)) if name else "",
        "phone": mask_phone(str(account.phone)) if getattr(account, "phone", "") else "",
        "email": mask_email(str(account.email)) if getattr(account, "email", "") else "",
        "status": str(account.status),
        "two_factor": bool(account.two_factor),
    }


def ticket_json(ticket: Any) -> dict[str, Any]:
    """A ticket as the side panel lists it (its summary masked)."""
    created = getattr(ticket, "created_at", None)
    return {
        "ticket_id": str(ticket.ticket_id),
        "kind": str(ticket.kind),
        "priority": str(ticket.priority),
        "status": str(ticket.status),
        "summary": mask_text(str(ticket.summary))[:300],
        "created_at": created.isoformat() if created is not None else None,
    }


def customer(
    backend_of: Callable[[], CustomerBackend],
    account_id: str | None,
    tickets: Sequence[str],
    config: ContextConfig,
) -> dict[str, Any]:
    """The verified customer's masked profile and open tickets (runs in a worker thread)."""
    if not account_id:
        return {"verified": False, "profile": None, "tickets": [], "error": None}
    try:
        backend = backend_of()
        profile = profile_json(backend.get_account(account_id))
        found = []
        for ticket_id in tickets[:MAX_TICKETS]:
            try:
                ticket = backend.get_ticket(ticket_id)
            except Exception:  # a ticket the backend no longer has is skipped
                continue
            if str(ticket.status) != "closed" and (ticket.account_id in (None, account_id)):
                found.append(ticket_json(ticket))
    except Exception as error:  # the panel still shows everything else
        logger.warning(
            "console: the wallet backend did not answer for the side panel (%s)", type(error).__name__
        )
        return {
            "verified": True,
            "profile": None,
            "tickets": [],
            "error": config.texts["profile_unavailable"],
        }
    return {"verified": True, "profile": profile, "tickets": found, "error": None}


def previous_json(handoff: Handoff, tags: list[str]) -> dict[str, Any]:
    """A previous conversation of the customer, with its summary and tags."""
    return {
        "id": handoff.id,
        "reference": handoff.reference,
        "channel": handoff.channel,
        "status": handoff.status,
        "topic": handoff.topic,
        "summary": handoff.summary,
        "created_at": handoff.created_at.isoformat(),
        "tags": tags,
    }
