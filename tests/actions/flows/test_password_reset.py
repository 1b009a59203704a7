"""Flow 1: validation of the contact, sending the link, "没收到"."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.backend.sandbox import SandboxBackend
from actions.flows.password_reset import (
    ActionResendPasswordReset,
    ActionResetNotReceived,
    ActionSendPasswordReset,
    ValidatePasswordResetForm,
)
from actions.sealed import seal, unseal
from tests.actions.conftest import responses, slots
from tests.actions.trackers import tracker

pytestmark = pytest.mark.anyio
SENT = {"reset_contact": seal("sms:13800138000")}  # the slot holds the contact sealed


def sent(**slots: object) -> Tracker:
    """The link was sent to 13800138000 (the snapshot's contact, as the flow seals it)."""
    return tracker("reset_sent", **{**SENT, **slots})


async def test_contact_in_the_first_message_is_taken(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidatePasswordResetForm().run(dispatcher, tracker("reset_start_with_phone"), domain)
    assert unseal(slots(events)["reset_contact"]) == "sms:13800138000"
    assert "13800138000" not in str(events)  # kept sealed, never in plain text
    assert slots(events)["reset_masked"] == "138****8000"


async def test_invalid_contact_is_explained_and_asked_again(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidatePasswordResetForm().run(dispatcher, tracker("reset_contact_invalid"), domain)
    assert slots(events)["reset_contact"] is None
    assert responses(dispatcher) == ["utter_invalid_contact"]


async def test_second_failure_offers_a_person(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidatePasswordResetForm().run(dispatcher, tracker("reset_contact_invalid_again"), domain)
    assert slots(events)["form_failures"] == 2.0
    assert responses(dispatcher) == ["utter_invalid_contact", "utter_offer_human_in_flow"]


async def test_a_question_instead_of_an_answer_is_not_taken_as_the_contact(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidatePasswordResetForm().run(
        dispatcher, tracker("reset_contact_question_instead"), domain
    )
    assert "reset_contact" not in slots(events)  # the form rejects; the interruption rules answer


async def test_link_is_sent_and_reply_is_masked(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    events = await ActionSendPasswordReset().run(dispatcher, sent(), {})
    assert "重置" in sandbox.outbox("13800138000")[0]["body"]
    assert dispatcher.messages[0]["response"] == "utter_reset_sent"
    assert dispatcher.messages[0]["reset_masked"] == "138****8000"
    assert "13800138000" not in str(dispatcher.messages)
    assert slots(events)["next_step"] == "ask_received"


async def test_a_retried_step_sends_the_link_once(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    """The action run again for the same user message (a retry after a time-out) replays the
    first send instead of sending a second link."""
    await ActionSendPasswordReset().run(dispatcher, sent(), {})
    await ActionSendPasswordReset().run(dispatcher, sent(), {})
    assert len(sandbox.outbox("13800138000")) == 1
    assert responses(dispatcher) == ["utter_reset_sent", "utter_reset_sent"]


async def test_same_answer_for_an_unknown_contact(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    await ActionSendPasswordReset().run(
        dispatcher, sent(reset_contact=seal("sms:13000000000"), reset_masked="130****0000"), {}
    )
    assert responses(dispatcher) == ["utter_reset_sent"]
    assert sandbox.outbox("13000000000") == []  # nothing really sent


async def test_not_received_then_resend_then_a_person(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    events = await ActionResetNotReceived().run(dispatcher, sent(), {})
    assert slots(events)["next_step"] == "ask_resend"
    events = await ActionResendPasswordReset().run(dispatcher, sent(), {})
    assert slots(events)["reset_resends"] == 1.0
    assert len(sandbox.outbox("13800138000")) == 1
    events = await ActionResetNotReceived().run(dispatcher, sent(reset_resends=2.0), {})
    assert slots(events)["next_step"] == "offer_human"
    assert responses(dispatcher)[-1] == "utter_reset_not_received_again"


async def test_send_limit_offers_a_person(sandbox: SandboxBackend, dispatcher: CollectingDispatcher) -> None:
    for _ in range(5):
        sandbox.send_password_reset("13800138000")
    events = await ActionSendPasswordReset().run(dispatcher, sent(), {})
    assert responses(dispatcher) == ["utter_reset_send_limit"]
    assert slots(events)["next_step"] == "offer_human"


async def test_a_contact_that_is_not_sealed_is_not_used(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    """A plain (or masked) value in the slot is not a contact: nothing is sent to it."""
    for value in ("sms:13800138000", "sms:138****8000"):
        events = await ActionResendPasswordReset().run(dispatcher, sent(reset_contact=value), {})
        assert slots(events)["next_step"] == "none"
    assert sandbox.outbox("13800138000") == []
    await ActionResetNotReceived().run(dispatcher, sent(reset_contact="sms:138****8000"), {})
    assert responses(dispatcher)[-1] == "utter_not_received_no_context"
