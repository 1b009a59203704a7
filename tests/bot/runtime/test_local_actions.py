"""The identity check run in the Rasa server gives what the action server gives, for every
kind of conversation, and never calls the action server; other actions still do."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.backend import factory
from actions.flows.identity import ActionCheckIdentity
from bot import runtime
from bot.identity import sign_identity
from bot.runtime.local_actions import check_identity

SECRET = "local-test-secret"
NOW = 1_800_000_000.0
SLOTS = ("account_id", "verified_by", "verified_for", "verified_at", "transaction_id", "ticket_id")


@pytest.fixture(autouse=True)
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A known secret and idle time, and a frozen clock."""
    monkeypatch.setenv("IDENTITY_SECRET", SECRET)
    monkeypatch.setenv("IDENTITY_CODE_IDLE_SECONDS", "900")
    monkeypatch.setattr(time, "time", lambda: NOW)
    factory.get_settings.cache_clear()
    yield
    factory.get_settings.cache_clear()


def conversation(sender: str, slots: dict[str, Any], metadata: dict[str, Any] | None) -> DialogueStateTracker:
    """A conversation with these slots set, whose latest message carries this metadata."""
    events: list[Event] = [ActionExecuted("action_listen")]
    events += [SlotSet(name, value) for name, value in slots.items()]
    events.append(UserUttered("你好", {"name": "greet", "confidence": 1.0}, metadata=metadata))
    return DialogueStateTracker.from_events(sender, events, slots=[_slot(name) for name in SLOTS])


def _slot(name: str) -> Any:
    from rasa.shared.core.slots import AnySlot

    return AnySlot(name, mappings=[{"type": "custom"}], influence_conversation=False)


def token(account: str, secret: str = SECRET, ttl: int = 3600) -> dict[str, Any]:
    """Metadata with a widget identity token."""
    return {"identity_token": sign_identity(account, secret, ttl, NOW)}


CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any] | None]] = {
    "anonymous, no token": ("u1", {}, None),
    "anonymous, empty metadata": ("u1", {}, {}),
    "anonymous, valid token": ("u1", {}, token("U1001")),
    "anonymous, forged token": ("u1", {}, token("U1001", secret="another")),
    "anonymous, token not a string": ("u1", {}, {"identity_token": 12}),
    "token identity kept": ("u1", {"account_id": "U1001", "verified_by": "token"}, token("U1001")),
    "token identity, token gone": (
        "u1",
        {"account_id": "U1001", "verified_by": "token", "transaction_id": "T1", "ticket_id": "C1"},
        None,
    ),
    "token identity, another account's token": (
        "u1",
        {"account_id": "U1001", "verified_by": "token"},
        token("U1002"),
    ),
    "code identity fresh": (
        "u1",
        {"account_id": "U1001", "verified_by": "code", "verified_for": "u1", "verified_at": NOW - 60},
        None,
    ),
    "code identity idled out": (
        "u1",
        {"account_id": "U1001", "verified_by": "code", "verified_for": "u1", "verified_at": NOW - 901},
        None,
    ),
    "code identity of another sender": (
        "u2",
        {"account_id": "U1001", "verified_by": "code", "verified_for": "u1", "verified_at": NOW},
        None,
    ),
}


async def over_the_action_server(tracker: DialogueStateTracker) -> list[Event]:
    """What the action server answers: the SDK's action on the tracker as Rasa sends it."""
    sent = Tracker.from_dict(tracker.current_state(EventVerbosity.ALL))
    found = await ActionCheckIdentity().run(CollectingDispatcher(), sent, {})
    return deserialise_events([dict(event) for event in found])


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES)
async def test_in_process_equals_the_action_server(case: str) -> None:
    tracker = conversation(*CASES[case])
    assert check_identity(tracker) == await over_the_action_server(tracker)


def test_the_cases_cover_every_outcome() -> None:
    outcomes = set()
    for sender, slots, metadata in CASES.values():
        keys = {event.key for event in check_identity(conversation(sender, slots, metadata))}  # type: ignore[attr-defined]
        outcomes.add(frozenset(keys))
    assert frozenset() in outcomes  # nothing to do
    assert frozenset({"verified_at", "verified_for"}) in outcomes  # kept and refreshed
    assert frozenset({"account_id", "verified_by", "verified_for", "verified_at"}) in outcomes  # signed in
    assert any("transaction_id" in keys for keys in outcomes)  # dropped with what it owned


@pytest.mark.anyio
async def test_installed_it_runs_without_the_action_server() -> None:
    assert runtime.install()
    nowhere = EndpointConfig("http://127.0.0.1:9/webhook")  # nothing listens on port 9
    tracker = conversation("u1", {}, token("U1001"))
    events = await RemoteAction("action_check_identity", nowhere).run(None, None, tracker, None)  # type: ignore[arg-type]
    assert {event.key: event.value for event in events} == {  # type: ignore[attr-defined]
        "account_id": "U1001",
        "verified_by": "token",
        "verified_for": "u1",
        "verified_at": NOW,
    }
    with pytest.raises(RasaException):  # any other action still goes to the action server
        await RemoteAction("action_other", nowhere).run(None, None, tracker, _domain())  # type: ignore[arg-type]


def _domain() -> Any:
    from rasa.shared.core.domain import Domain

    return Domain.empty()


def test_only_the_identity_settings_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # the action server's other settings (an HTTP backend without its key, say) are not the
    # Rasa server's business: the check still runs
    monkeypatch.setenv("WALLET_BACKEND", "http")
    monkeypatch.delenv("WALLET_API_KEY", raising=False)
    events = check_identity(conversation("u1", {}, token("U1001")))
    assert {event.key for event in events} >= {"account_id"}  # type: ignore[attr-defined]


def test_a_bad_idle_time_stops_the_server_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import server

    monkeypatch.setenv("IDENTITY_CODE_IDLE_SECONDS", "soon")
    with pytest.raises(SystemExit, match="IDENTITY_CODE_IDLE_SECONDS"):
        server.main()
