"""Flow 2: finding the transaction from what the user said, the real reason, tickets."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.backend.models import TransactionStatus
from actions.backend.sandbox import SandboxBackend
from actions.flows.transactions import (
    ActionAskTransactionId,
    ActionEscalateTransaction,
    ActionExplainTransaction,
    ValidateTransactionForm,
)
from tests.actions.conftest import responses, slots
from tests.actions.trackers import tracker

pytestmark = pytest.mark.anyio


def _tx(sandbox: SandboxBackend, counterparty: str, amount: str) -> str:
    return next(
        t.transaction_id
        for t in sandbox.list_transactions("U1001", limit=50)
        if t.counterparty == counterparty
        and str(t.amount) == amount
        and t.status != TransactionStatus.SUCCEEDED
    )


async def test_time_and_amount_of_the_first_message_find_the_transaction(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidateTransactionForm().run(dispatcher, tracker("tx_verified_with_hints"), domain)
    assert slots(events)["transaction_id"] == _tx(sandbox, "李娜", "500.00")


async def test_payee_name_finds_the_transaction(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidateTransactionForm().run(dispatcher, tracker("tx_ask_with_payee"), domain)
    assert slots(events)["transaction_id"] == _tx(sandbox, "京东商城", "2000.00")


async def test_ambiguous_description_offers_the_candidates(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    # 88.00 to 美团外卖 twice: one succeeded, one failed as a duplicate → the failed one
    events = await ValidateTransactionForm().run(dispatcher, tracker("tx_ask_ambiguous"), domain)
    assert slots(events)["transaction_id"] == _tx(sandbox, "美团外卖", "88.00")


async def test_nothing_matches_is_explained(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await ValidateTransactionForm().run(dispatcher, tracker("tx_ask_nothing_matches"), domain)
    assert slots(events).get("transaction_id") is None
    assert responses(dispatcher) == ["utter_tx_not_found"]


async def test_someone_elses_transaction_is_not_found(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    theirs = sandbox.list_transactions("U1002")[0].transaction_id
    snapshot = tracker("tx_ask_with_payee")
    snapshot.latest_message["entities"] = [{"entity": "transaction_id", "value": theirs}]
    events = await ValidateTransactionForm().run(dispatcher, snapshot, domain)
    assert slots(events)["transaction_id"] is None


async def test_ask_lists_recent_failed_transactions_as_buttons(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    await ActionAskTransactionId().run(dispatcher, tracker("tx_ask_with_payee"), {})
    buttons = dispatcher.messages[0]["buttons"]
    assert 1 < len(buttons) <= 5
    assert all(b["payload"].startswith('/inform{"transaction_id":"TX') for b in buttons)
    assert "星巴克" not in str(buttons)  # the successful one is not offered


@pytest.mark.parametrize(
    ("counterparty", "amount", "response", "next_step"),
    [
        ("李娜", "500.00", "utter_tx_reason_network", "ask_solved"),
        ("京东商城", "2000.00", "utter_tx_reason_balance", "ask_solved"),
        ("王强", "300.00", "utter_tx_reason_payee", "ask_solved"),
        ("美团外卖", "88.00", "utter_tx_reason_duplicate", "ask_solved"),
        ("银行卡", "1000.00", "utter_tx_reason_deducted", "ask_solved"),
    ],
)
async def test_the_real_reason_is_explained(
    sandbox: SandboxBackend,
    dispatcher: CollectingDispatcher,
    counterparty: str,
    amount: str,
    response: str,
    next_step: str,
) -> None:
    snapshot = tracker("tx_ask_with_payee", transaction_id=_tx(sandbox, counterparty, amount))
    events = await ActionExplainTransaction().run(dispatcher, snapshot, {})
    assert responses(dispatcher) == [response]
    assert slots(events)["next_step"] == next_step
    if response == "utter_tx_reason_deducted":
        assert dispatcher.messages[0]["refund_eta"] == "1-3 个工作日"


async def test_risk_control_opens_a_priority_ticket(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    held = sandbox.list_transactions("U1002")[0].transaction_id
    events = await ActionExplainTransaction().run(
        dispatcher, tracker("tx_ask_with_payee", account_id="U1002", transaction_id=held), {}
    )
    assert responses(dispatcher) == ["utter_tx_reason_risk_control", "utter_tx_ticket_created"]
    ticket = sandbox.get_ticket(slots(events)["ticket_id"])
    assert ticket.priority == "high" and held in ticket.summary
    assert slots(events)["next_step"] == "offer_human"


async def test_unsolved_opens_a_ticket_with_the_details(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher
) -> None:
    deducted = _tx(sandbox, "银行卡", "1000.00")
    events = await ActionEscalateTransaction().run(
        dispatcher, tracker("tx_ask_with_payee", transaction_id=deducted), {}
    )
    ticket = sandbox.get_ticket(slots(events)["ticket_id"])
    assert ticket.priority == "high" and deducted in ticket.summary and ticket.kind == "transaction"


async def test_backend_down_is_a_polite_busy_answer(
    sandbox: SandboxBackend, dispatcher: CollectingDispatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("backend down")

    monkeypatch.setattr(sandbox, "get_transaction", down)
    events = await ActionExplainTransaction().run(
        dispatcher, tracker("tx_ask_with_payee", transaction_id="TX202611241203001"), {}
    )
    assert responses(dispatcher) == ["utter_backend_busy"]
    assert slots(events) == {"next_step": "offer_human"}  # nothing collected is cleared
