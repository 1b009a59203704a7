"""Flows 5 and 6, and the shared actions: triage, freeze, complaint tickets, fallback, handoff."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.backend.sandbox import SandboxBackend
from actions.flows.complaint import ActionSubmitComplaint
from actions.flows.conversation import ActionFlowCancelled, ActionWalletFallback
from actions.flows.security import ActionSecuritySubmit, ActionSecurityTriage
from tests.actions.conftest import responses, slots
from tests.actions.trackers import tracker, user_event

pytestmark = pytest.mark.anyio


async def test_theft_is_an_incident(sandbox: SandboxBackend, dispatcher: CollectingDispatcher) -> None:
    events = await ActionSecurityTriage().run(dispatcher, tracker("security_theft"), {})
    assert slots(events)["security_case"] == "incident"
    assert responses(dispatcher) == ["utter_security_incident"]


async def test_advice_gets_the_tips(sandbox: SandboxBackend, dispatcher: CollectingDispatcher) -> None:
    events = await ActionSecurityTriage().run(dispatcher, tracker("security_advice"), {})
    assert slots(events)["security_case"] == "advice"
    assert responses(dispatcher) == ["utter_account_security"]


async def test_a_typed_password_is_warned_about_and_not_repeated(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    await ActionSecurityTriage().run(dispatcher, tracker("security_typed_password"), {})
    assert responses(dispatcher)[0] == "utter_secret_warning"
    assert "Abc12345" not in str(dispatcher.messages)


async def test_freeze_and_urgent_ticket(sandbox: SandboxBackend, dispatcher: CollectingDispatcher) -> None:
    events = await ActionSecuritySubmit().run(dispatcher, tracker("security_freeze_verified"), {})
    assert sandbox.get_account("U1001").status == "frozen"
    ticket = sandbox.get_ticket(slots(events)["ticket_id"])
    assert (ticket.kind, ticket.priority) == ("security", "urgent")
    assert slots(events)["next_step"] == "offer_human" and slots(events)["handoff_priority"] == "urgent"


async def test_no_freeze_still_opens_the_ticket(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    await ActionSecuritySubmit().run(
        dispatcher, tracker("security_freeze_verified", freeze_confirm=False), {}
    )
    assert sandbox.get_account("U1001").status == "active"
    assert responses(dispatcher) == ["utter_security_not_frozen"]
    assert sandbox.tickets()[0].priority == "urgent"


async def test_complaint_ticket_holds_the_answers_masked(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    events = await ActionSubmitComplaint().run(dispatcher, tracker("complaint_done"), {})
    ticket = sandbox.get_ticket(slots(events)["ticket_id"])
    assert "服务态度" in ticket.summary and "昨天下午" in ticket.summary
    assert "13800138000" not in ticket.summary
    assert dispatcher.messages[0]["ticket_id"] == ticket.ticket_id


async def test_second_misunderstanding_in_a_row_offers_a_person(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    events = await ActionWalletFallback().run(dispatcher, tracker("fallback_once"), {})
    assert slots(events)["next_step"] == "none"
    twice = tracker("fallback_once", events=[user_event("嗯嗯嗯", "nlu_fallback")])
    events = await ActionWalletFallback().run(dispatcher, twice, {})
    assert slots(events)["next_step"] == "offer_human"
    understood_between = tracker(
        "fallback_once", events=[user_event("嗯嗯嗯", "nlu_fallback"), user_event("你好", "greet")]
    )
    events = await ActionWalletFallback().run(dispatcher, understood_between, {})
    assert slots(events)["next_step"] == "none"


async def test_leaving_clears_the_flow_but_keeps_verification(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    events = await ActionFlowCancelled().run(dispatcher, tracker("update_confirmed"), {})
    assert slots(events)["new_value"] is None and "account_id" not in slots(events)
