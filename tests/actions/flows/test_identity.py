"""Identity: contact → code (sent once, masked), wrong codes, unknown accounts, tokens."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.backend.sandbox import SandboxBackend
from actions.flows.transactions import ValidateTransactionForm
from actions.flows.verification import ActionAskIdentityCode, ActionResendCode
from bot.identity import sign_identity
from tests.actions.conftest import CODE, responses, slots
from tests.actions.trackers import tracker

pytestmark = pytest.mark.anyio


async def test_contact_resolves_the_account_and_keeps_only_the_masked_value(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidateTransactionForm().run(dispatcher, tracker("identity_contact_answer"), domain)
    values = slots(events)
    assert values["identity_contact"] == "138****8000"
    assert values["identity_account"] == "U1001"
    assert "13800138000" not in str(values)


async def test_email_contact_sends_the_code_by_email(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidateTransactionForm().run(dispatcher, tracker("identity_contact_email"), domain)
    assert slots(events)["identity_channel"] == "email"


async def test_asking_for_the_code_sends_it_once(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    events = await ActionAskIdentityCode().run(dispatcher, tracker("identity_code_asked"), {})
    assert slots(events)["identity_code_sent"] is True
    assert CODE in sandbox.outbox("13800138000")[0]["body"]
    assert dispatcher.messages[0]["identity_masked"] == "138****8000"
    await ActionAskIdentityCode().run(dispatcher, tracker("identity_code_asked", identity_code_sent=True), {})
    assert len(sandbox.outbox("13800138000")) == 1
    assert responses(dispatcher)[-1] == "utter_ask_identity_code_again"


async def test_right_code_verifies_and_the_code_is_not_kept(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    sandbox.send_code("U1001")
    events = await ValidateTransactionForm().run(dispatcher, tracker("identity_code_answer"), domain)
    values = slots(events)
    assert values["account_id"] == "U1001" and values["verified_by"] == "code"
    assert values["identity_code"] == "verified"
    assert CODE not in str(events)


async def test_three_wrong_codes_stop_and_offer_a_person(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    sandbox.send_code("U1001")
    for _ in range(2):
        events = await ValidateTransactionForm().run(dispatcher, tracker("identity_code_wrong"), domain)
        assert slots(events)["identity_code"] is None
    events = await ValidateTransactionForm().run(dispatcher, tracker("identity_code_wrong"), domain)
    assert slots(events)["requested_slot"] is None and slots(events)["flow_aborted"] is True
    assert responses(dispatcher)[-2:] == ["utter_code_blocked", "utter_offer_human"]
    assert "account_id" not in slots(events)


async def test_unknown_account_never_verifies(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidateTransactionForm().run(dispatcher, tracker("identity_code_unknown_account"), domain)
    assert "account_id" not in slots(events)
    assert slots(events)["flow_aborted"] is True


async def test_not_received_resends(sandbox: SandboxBackend, dispatcher: CollectingDispatcher) -> None:
    await ActionResendCode().run(dispatcher, tracker("identity_code_asked"), {})
    assert responses(dispatcher) == ["utter_code_not_received_tips", "utter_ask_identity_code"]
    assert len(sandbox.outbox("13800138000")) == 1


async def test_a_valid_token_skips_the_identity_step(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    token = sign_identity("U1001", "test-secret")
    snapshot = tracker("tx_verified_with_hints", account_id=None, verified_by=None)
    snapshot.latest_message["metadata"] = {"identity_token": token}
    events = await ValidateTransactionForm().run(dispatcher, snapshot, domain)
    assert slots(events)["account_id"] == "U1001" and slots(events)["verified_by"] == "token"


async def test_a_forged_token_is_ignored(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    token = sign_identity("U1001", "not-the-secret")
    snapshot = tracker("tx_verified_with_hints", account_id=None, verified_by=None)
    snapshot.latest_message["metadata"] = {"identity_token": token}
    events = await ValidateTransactionForm().run(dispatcher, snapshot, domain)
    assert "account_id" not in slots(events)  # so the form asks for the contact, as for anyone


def _identity_tracker(metadata: dict[str, Any] | None = None, **slot_values: Any) -> Any:
    from rasa_sdk import Tracker

    message = {"text": "查一下", "intent": {"name": "inform"}, "entities": [], "metadata": metadata or {}}
    return Tracker("rest:u1", slot_values, message, [], False, None, {}, "action_listen")


def _slot_values(events: list[Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events}


def test_a_valid_token_signs_in_and_is_checked_every_turn() -> None:
    from actions.flows.identity import identity_events

    token = sign_identity("U1001", "s")
    first = _slot_values(identity_events(_identity_tracker({"identity_token": token}), "s", 900, 1000.0))
    assert first == {
        "account_id": "U1001",
        "verified_by": "token",
        "verified_for": "rest:u1",
        "verified_at": 1000.0,
    }
    kept = identity_events(_identity_tracker({"identity_token": token}, **first), "s", 900, 1010.0)
    assert _slot_values(kept) == {"verified_at": 1010.0, "verified_for": "rest:u1"}


@pytest.mark.parametrize("token", [None, "forged.token", "__other__"])
def test_a_missing_forged_or_other_token_drops_the_identity(token: str | None) -> None:
    from actions.flows.identity import identity_events

    if token == "__other__":
        token = sign_identity("U1002", "s")
    slots_now = {
        "account_id": "U1001",
        "verified_by": "token",
        "verified_for": "rest:u1",
        "verified_at": 1000.0,
        "transaction_id": "TX1",
        "tx_candidates": ["TX1", "TX2"],
    }
    values = _slot_values(
        identity_events(_identity_tracker({"identity_token": token}, **slots_now), "s", 900, 1001.0)
    )
    assert values["transaction_id"] is None and values["tx_candidates"] is None
    if token and not token.startswith("forged"):
        assert values["account_id"] == "U1002"  # the other account's valid token signs it in
    else:
        assert values["account_id"] is None and values["verified_by"] is None


def test_a_code_verification_idles_out() -> None:
    from actions.flows.identity import identity_events

    code = {"account_id": "U1001", "verified_by": "code", "verified_for": "rest:u1", "verified_at": 1000.0}
    assert _slot_values(identity_events(_identity_tracker(**code), "s", 900, 1899.0))["verified_at"] == 1899.0
    assert _slot_values(identity_events(_identity_tracker(**code), "s", 900, 1901.0))["account_id"] is None


def test_a_verification_is_bound_to_its_channel_user() -> None:
    from actions.flows.identity import identity_events

    code = {
        "account_id": "U1001",
        "verified_by": "code",
        "verified_for": "widget:other",
        "verified_at": 1000.0,
    }
    assert _slot_values(identity_events(_identity_tracker(**code), "s", 900, 1001.0))["account_id"] is None


def test_verification_never_carries_into_a_new_session() -> None:
    from pathlib import Path

    import yaml

    domain = yaml.safe_load(Path("domain.yml").read_text(encoding="utf-8"))
    assert domain["session_config"]["carry_over_slots_to_new_session"] is False
    assert domain["slots"]["account_id"]["mappings"] == [
        {"type": "custom", "action": "action_check_identity"}
    ]
