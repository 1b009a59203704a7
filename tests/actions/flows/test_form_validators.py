"""The complaint and security forms' validators: free answers, yes/no in words, leaving."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.backend.sandbox import SandboxBackend
from actions.flows.complaint import ValidateComplaintForm
from actions.flows.security import ValidateSecurityForm
from tests.actions.conftest import responses, slots
from tests.actions.trackers import tracker

pytestmark = pytest.mark.anyio


async def test_category_from_a_button_title(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidateComplaintForm().run(dispatcher, tracker("complaint_category_button"), domain)
    assert slots(events)["complaint_category"] == "服务态度"


async def test_too_short_description_is_asked_again(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidateComplaintForm().run(dispatcher, tracker("complaint_description_short"), domain)
    assert slots(events)["complaint_description"] is None
    assert responses(dispatcher) == ["utter_complaint_too_short"]


async def test_no_evidence_is_an_answer(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidateComplaintForm().run(dispatcher, tracker("complaint_evidence_none"), domain)
    assert slots(events)["complaint_evidence"] == "无"


async def test_leaving_is_not_taken_as_an_answer(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidateComplaintForm().run(dispatcher, tracker("complaint_leave"), domain)
    assert "complaint_description" not in slots(events)  # the form rejects; the leave rule runs


@pytest.mark.parametrize(("snapshot", "answer"), [("freeze_answer_words", True), ("freeze_answer_no", False)])
async def test_freeze_answer_in_words(
    sandbox: SandboxBackend,
    dispatcher: CollectingDispatcher,
    domain: dict[str, Any],
    snapshot: str,
    answer: bool,
) -> None:
    events = await ValidateSecurityForm().run(dispatcher, tracker(snapshot), domain)
    assert slots(events)["freeze_confirm"] is answer
    if not answer:  # no freeze: no identity step, the form ends (an urgent ticket follows)
        assert slots(events)["requested_slot"] is None
    else:  # the form goes on to the identity step
        assert slots(events).get("requested_slot", "identity_contact") == "identity_contact"
