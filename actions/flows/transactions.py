"""Flow 2, transaction failed: identity → find the transaction → the real reason and
the next step → refund timeline, or a ticket and a person when it stays unresolved."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend.errors import BackendError, NotFound
from actions.backend.models import FailureReason, Transaction, TransactionStatus
from actions.flows.base import WalletFormValidation, backend, backend_call
from actions.flows.hints import flow_messages, flow_step_key
from actions.flows.text import latest_intent, user_text
from bot.handoff.attachment_refs import with_references
from bot.masking import mask_text

KIND_NAMES = {"payment": "付款", "transfer": "转账", "top_up": "充值", "withdrawal": "提现"}
REASON_RESPONSES = {
    FailureReason.NETWORK_TIMEOUT: "utter_tx_reason_network",
    FailureReason.INSUFFICIENT_BALANCE: "utter_tx_reason_balance",
    FailureReason.INVALID_PAYEE: "utter_tx_reason_payee",
    FailureReason.DUPLICATE_REQUEST: "utter_tx_reason_duplicate",
    FailureReason.DEDUCTED_NOT_RECEIVED: "utter_tx_reason_deducted",
    FailureReason.RISK_CONTROL: "utter_tx_reason_risk_control",
}
MAX_BUTTONS = 5


def describe(tx: Transaction) -> dict[str, str]:
    """Response variables of a transaction."""
    return {
        "tx_when": f"{tx.created_at.month}月{tx.created_at.day}日 {tx.created_at:%H:%M}",
        "tx_kind": KIND_NAMES.get(tx.kind, "交易"),
        "tx_amount": f"{tx.amount:.2f}",
        "tx_counterparty": tx.counterparty,
        "transaction_id": tx.transaction_id,
        "refund_eta": tx.refund_eta_days or "1-3 个工作日",
    }


def _hints(tracker: Tracker) -> dict[str, Any]:
    """Time, amount, id and texts the user gave about the transaction so far."""
    hints: dict[str, Any] = {"texts": []}
    for parse in reversed(flow_messages(tracker)):  # the latest clue first
        hints["texts"].append(str(parse.get("text") or ""))
        for entity in parse.get("entities") or []:
            name, value = entity.get("entity"), entity.get("value")
            if name in ("time", "amount", "transaction_id") and name not in hints and value:
                hints[name] = value
    return hints


def _matches_counterparty(tx: Transaction, texts: list[str]) -> bool:
    name = tx.counterparty
    keys = {name, name[:2]} if len(name) >= 2 else {name}
    return any(key in text for key in keys for text in texts)


async def find_transactions(account_id: str, hints: dict[str, Any]) -> list[Transaction]:
    """The account's transactions matching the hints; failed or held ones first."""
    since = until = None
    time = hints.get("time")
    if isinstance(time, dict):
        try:
            since, until = datetime.fromisoformat(time["from"]), datetime.fromisoformat(time["to"])
        except (KeyError, TypeError, ValueError):
            since = until = None
    amount = None
    if hints.get("amount"):
        try:
            amount = Decimal(str(hints["amount"]))
        except InvalidOperation:
            amount = None
    found = await backend_call(
        backend().list_transactions, account_id, since=since, until=until, amount=amount, limit=50
    )
    named = [t for t in found if _matches_counterparty(t, hints["texts"])]
    if named:
        found = named
    elif since is None and amount is None:
        return []  # nothing the user said narrows it down
    problems = [t for t in found if t.status != TransactionStatus.SUCCEEDED]
    return problems or found


class ValidateTransactionForm(WalletFormValidation):
    """Identity first, then which transaction."""

    identity_required = True

    def name(self) -> str:
        """The action's name."""
        return "validate_transaction_form"

    async def after_verification(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, account_id: str
    ) -> dict[str, Any]:
        """Straight to the answer when what the user said before verification points to one
        transaction; the matching ones as the options otherwise."""
        if tracker.get_slot("transaction_id"):
            return {}
        hints = _hints(tracker)
        try:
            if hints.get("transaction_id"):
                tx = await backend_call(backend().get_transaction, account_id, str(hints["transaction_id"]))
                return {"transaction_id": tx.transaction_id}
            found = await find_transactions(account_id, hints)
        except BackendError:
            return {}
        if len(found) == 1:
            return {"transaction_id": found[0].transaction_id, "tx_candidates": None}
        if found:
            return {"tx_candidates": [t.transaction_id for t in found[:MAX_BUTTONS]]}
        return {}

    async def extract_transaction_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """An id, or the one transaction that the time, amount or payee given points to."""
        account_id = tracker.get_slot("account_id")
        if not account_id or tracker.get_slot("transaction_id"):
            return {}
        requested = tracker.get_slot("requested_slot") == "transaction_id"
        if requested and self.wants_out(tracker) and latest_intent(tracker) != "transaction_failed":
            return {}
        hints = _hints(tracker)
        if hints.get("transaction_id"):
            return {"transaction_id": str(hints["transaction_id"])}
        try:
            found = await find_transactions(account_id, hints)
        except BackendError:
            if requested:
                dispatcher.utter_message(response="utter_backend_busy")
            return {}
        if len(found) == 1:
            return {"transaction_id": found[0].transaction_id, "tx_candidates": None}
        if requested and len(found) > 1:
            dispatcher.utter_message(response="utter_tx_several_found", count=len(found))
            return {"tx_candidates": [t.transaction_id for t in found[:MAX_BUTTONS]], "form_failures": 0.0}
        if requested:
            failed = self.invalid(dispatcher, tracker, "transaction_id", "utter_tx_not_found")
            return {"form_failures": failed["form_failures"], "tx_candidates": None}
        return {}

    async def validate_transaction_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The transaction must be the verified user's own."""
        account_id = tracker.get_slot("account_id")
        if not account_id or not value:
            return {"transaction_id": None}
        try:
            await backend_call(backend().get_transaction, account_id, str(value))
        except NotFound:
            return self.invalid(dispatcher, tracker, "transaction_id", "utter_tx_not_found")
        except BackendError:
            return self.busy(dispatcher, "transaction_id")
        return {"transaction_id": str(value).upper(), "form_failures": 0.0}


class ActionAskTransactionId(Action):
    """Ask which transaction, with the likely ones (or recent failed ones) as buttons."""

    def name(self) -> str:
        """The action's name."""
        return "action_ask_transaction_id"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Buttons send the transaction id as an entity."""
        account_id = tracker.get_slot("account_id")
        candidates = tracker.get_slot("tx_candidates") or []
        try:
            if candidates:
                txs = [await backend_call(backend().get_transaction, account_id, c) for c in candidates]
            else:
                recent = await backend_call(backend().list_transactions, account_id, limit=20)
                txs = [t for t in recent if t.status != TransactionStatus.SUCCEEDED][:MAX_BUTTONS]
        except BackendError:
            dispatcher.utter_message(response="utter_backend_busy")
            dispatcher.utter_message(response="utter_ask_transaction_id_free")
            return []
        if not txs:
            dispatcher.utter_message(response="utter_ask_transaction_id_free")
            return []
        buttons = [
            {
                "title": "{tx_when} {tx_kind} {tx_amount} 元 · {tx_counterparty}".format(**describe(t)),
                "payload": f'/inform{{"transaction_id":"{t.transaction_id}"}}',
            }
            for t in txs
        ]
        dispatcher.utter_message(response="utter_ask_transaction_id", buttons=buttons)
        return []


class ActionExplainTransaction(Action):
    """Submit: the real reason, the next step, and what happens now."""

    def name(self) -> str:
        """The action's name."""
        return "action_explain_transaction"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Explain; risk control opens a priority ticket and offers a person."""
        account_id, transaction_id = tracker.get_slot("account_id"), tracker.get_slot("transaction_id")
        if not account_id or not transaction_id:
            return [SlotSet("next_step", "none")]
        try:
            tx = await backend_call(backend().get_transaction, account_id, transaction_id)
            balance = await backend_call(backend().get_balance, account_id)
        except BackendError:
            dispatcher.utter_message(response="utter_backend_busy")
            return [SlotSet("next_step", "offer_human")]
        variables = {**describe(tx), "balance": f"{balance:.2f}"}
        if tx.status == TransactionStatus.SUCCEEDED or tx.failure_reason is None:
            dispatcher.utter_message(response="utter_tx_succeeded", **variables)
            return [SlotSet("next_step", "ask_solved")]
        dispatcher.utter_message(response=REASON_RESPONSES[tx.failure_reason], **variables)
        if tx.failure_reason == FailureReason.RISK_CONTROL:
            return await _open_ticket(dispatcher, tracker, tx, "high", "风控拦截，需人工核实")
        return [SlotSet("next_step", "ask_solved")]


async def _open_ticket(
    dispatcher: CollectingDispatcher, tracker: Tracker, tx: Transaction, priority: str, note: str
) -> list[EventType]:
    reason = tx.failure_reason.value if tx.failure_reason else tx.status.value
    said = mask_text(" / ".join(_hints(tracker)["texts"][::-1]))[:500]
    summary = (
        f"交易问题：{tx.transaction_id} {KIND_NAMES.get(tx.kind, tx.kind)} {tx.amount:.2f} 元 "
        f"对方 {tx.counterparty}，原因 {reason}，{note}。用户描述：{said}"
    )
    summary = with_references(summary, tracker.events)  # the images the user sent, if any
    try:
        key = flow_step_key(tracker, "ticket:transaction", tx.transaction_id)
        ticket = await backend_call(
            backend().create_ticket, tx.account_id, "transaction", priority, summary, idempotency_key=key
        )
    except BackendError:
        dispatcher.utter_message(response="utter_backend_busy_write")
        return [SlotSet("next_step", "offer_human")]
    dispatcher.utter_message(response="utter_tx_ticket_created", ticket_id=ticket.ticket_id)
    return [SlotSet("ticket_id", ticket.ticket_id), SlotSet("next_step", "offer_human")]


class ActionEscalateTransaction(Action):
    """Not solved after the explanation: a ticket with the details, then a person."""

    def name(self) -> str:
        """The action's name."""
        return "action_escalate_transaction"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Deducted money gets a high priority; the rest normal."""
        account_id, transaction_id = tracker.get_slot("account_id"), tracker.get_slot("transaction_id")
        if not account_id or not transaction_id:
            return [SlotSet("next_step", "offer_human")]
        try:
            tx = await backend_call(backend().get_transaction, account_id, transaction_id)
        except BackendError:
            dispatcher.utter_message(response="utter_backend_busy")
            return [SlotSet("next_step", "offer_human")]
        priority = "high" if tx.failure_reason == FailureReason.DEDUCTED_NOT_RECEIVED else "normal"
        return await _open_ticket(dispatcher, tracker, tx, priority, "用户表示问题未解决" + _said(tracker))


def _said(tracker: Tracker) -> str:
    text = user_text(tracker)
    return f"（{mask_text(text)[:200]}）" if text and not text.startswith("/") else ""
