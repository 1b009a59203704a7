"""Flow 3: field, fresh code, new value validated, confirmation, update."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.backend.sandbox import SandboxBackend
from actions.flows.account_update import ActionUpdateAccount, ValidateUpdateForm
from actions.sealed import seal, unseal
from tests.actions.conftest import responses, slots
from tests.actions.trackers import tracker

pytestmark = pytest.mark.anyio
CONFIRMED = {"new_value": seal("13900001234")}  # the slot holds the new value sealed


async def test_field_from_the_first_message(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidateUpdateForm().run(dispatcher, tracker("update_field_phone"), domain)
    assert slots(events)["account_field"] == "phone" and slots(events)["field_name"] == "手机号"


async def test_signed_in_user_still_needs_a_fresh_code(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidateUpdateForm().run(
        dispatcher, tracker("update_field_phone", account_id="U1001", verified_by="token"), domain
    )
    assert slots(events)["requested_slot"] == "identity_code"


async def test_new_phone_is_accepted_and_masked(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidateUpdateForm().run(dispatcher, tracker("update_new_phone"), domain)
    assert unseal(slots(events)["new_value"]) == "13900001234"
    assert "13900001234" not in str(events)  # kept sealed, never in plain text
    assert slots(events)["new_value_masked"] == "139****1234"
    assert slots(events)["requested_slot"] == "confirm_update"


async def test_same_value_is_refused(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidateUpdateForm().run(dispatcher, tracker("update_same_phone"), domain)
    assert slots(events)["new_value"] is None
    assert responses(dispatcher) == ["utter_new_value_same"]


async def test_bad_email_is_refused(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidateUpdateForm().run(dispatcher, tracker("update_bad_email"), domain)
    assert slots(events)["new_value"] is None
    assert responses(dispatcher) == ["utter_invalid_new_email"]


async def test_confirmed_change_is_made(sandbox: SandboxBackend, dispatcher: CollectingDispatcher) -> None:
    events = await ActionUpdateAccount().run(dispatcher, tracker("update_confirmed", **CONFIRMED), {})
    assert sandbox.get_account("U1001").phone == "13900001234"
    assert dispatcher.messages[0]["new_value_masked"] == "139****1234"
    assert slots(events)["identity_code"] is None  # the next change needs a new code


async def test_a_retried_change_is_replayed_not_refused(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    """The same confirmed step run twice (a retry after a time-out): the second run gets the
    first one's result, not "this is already your phone number"."""
    confirmed = tracker("update_confirmed", **CONFIRMED)
    await ActionUpdateAccount().run(dispatcher, confirmed, {})
    await ActionUpdateAccount().run(dispatcher, confirmed, {})
    assert responses(dispatcher) == ["utter_update_done", "utter_update_done"]
    assert sandbox.get_account("U1001").phone == "13900001234"


async def test_declined_change_is_not_made(sandbox: SandboxBackend, dispatcher: CollectingDispatcher) -> None:
    await ActionUpdateAccount().run(
        dispatcher, tracker("update_confirmed", **CONFIRMED, confirm_update=False), {}
    )
    assert sandbox.get_account("U1001").phone == "13800138000"
    assert responses(dispatcher) == ["utter_update_not_confirmed"]


async def test_phone_of_another_account_is_refused(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    events = await ActionUpdateAccount().run(
        dispatcher, tracker("update_confirmed", new_value=seal("13912345678")), {}
    )
    assert responses(dispatcher) == ["utter_update_refused"]
    assert slots(events)["next_step"] == "offer_human"
    assert sandbox.get_account("U1001").phone == "13800138000"


@pytest.mark.parametrize(
    ("field", "text", "entities", "hint"),
    [
        ("email", "把邮箱改成 New@Example.org", [("email", "new@example.org")], "new@example.org"),
        (
            "email",
            "我的邮箱 old@x.com 想换成 new@example.org",
            [("email", "old@x.com"), ("email", "new@example.org")],
            "new@example.org",
        ),
        ("phone", "手机号换成139 0000 1234", [("phone", "13900001234")], "13900001234"),
        ("nickname", "昵称改成小李飞刀吧", [], "小李飞刀"),
        ("email", "我想修改绑定的邮箱", [], None),
        ("email", "我的邮箱是 old@x.com", [("email", "old@x.com")], None),  # the current one, not a new one
    ],
)
def test_a_new_value_given_with_the_request(
    field: str, text: str, entities: list[tuple[str, str]], hint: str | None
) -> None:
    from actions.flows.account_update import new_value_hint

    parse = {"text": text, "entities": [{"entity": e, "value": v} for e, v in entities]}
    assert new_value_hint(field, parse) == hint


async def test_a_new_value_that_is_not_sealed_is_not_used(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    """A plain (or masked) value in the slot is never written to the account."""
    for value in ("13900001234", "139****1234"):
        events = await ActionUpdateAccount().run(dispatcher, tracker("update_confirmed", new_value=value), {})
        assert slots(events)["next_step"] == "none"
    assert sandbox.get_account("U1001").phone == "13800138000"


async def test_the_hint_given_with_the_request_is_sealed_and_used_after_verification(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    form = ValidateUpdateForm()
    asked = tracker("update_field_phone", account_field="email", requested_slot="account_field")
    asked.latest_message.update(text="把邮箱改成 New@Example.org", entities=[])
    extracted = await form.extract_new_value(dispatcher, asked, {})
    assert unseal(extracted["new_value_hint"]) == "new@example.org"
    assert "new@example.org" not in str(extracted)
    hint = {"account_field": "email", "new_value_hint": extracted["new_value_hint"]}
    values = await form.after_verification(dispatcher, tracker("update_bad_email", **hint), "U1001")
    assert unseal(values["new_value"]) == "new@example.org"
    assert values["new_value_masked"] == "n***@example.org" and values["new_value_hint"] is None
