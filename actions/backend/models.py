"""Values exchanged with the wallet backend."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


class TransactionStatus(str, enum.Enum):
    """Where a transaction ended up."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    HELD = "held"  # held by risk control, needs an agent


class FailureReason(str, enum.Enum):
    """Why a transaction failed: the causes the help article lists, and risk control."""

    INSUFFICIENT_BALANCE = "insufficient_balance"
    NETWORK_TIMEOUT = "network_timeout"
    INVALID_PAYEE = "invalid_payee"
    DUPLICATE_REQUEST = "duplicate_request"
    DEDUCTED_NOT_RECEIVED = "deducted_not_received"
    RISK_CONTROL = "risk_control"


class RefundState(str, enum.Enum):
    """Refund of a failed transaction whose money was deducted."""

    NOT_DEDUCTED = "not_deducted"
    PENDING = "pending"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class Account:
    """A wallet account."""

    account_id: str
    name: str
    phone: str
    email: str
    balance: Decimal
    two_factor: bool
    status: str  # active | locked | frozen
    nickname: str = ""
    address: str = ""


@dataclass(frozen=True)
class Transaction:
    """One payment, transfer, top-up or withdrawal."""

    transaction_id: str
    account_id: str
    kind: str  # payment | transfer | top_up | withdrawal
    amount: Decimal
    counterparty: str
    created_at: datetime
    status: TransactionStatus
    failure_reason: FailureReason | None
    refund_state: RefundState
    refund_eta_days: str = ""


@dataclass(frozen=True)
class Delivery:
    """Where a link or code was sent, already masked (138****8000)."""

    channel: str  # sms | email
    masked_destination: str


@dataclass(frozen=True)
class Ticket:
    """A support ticket."""

    ticket_id: str
    account_id: str | None
    kind: str
    priority: str  # normal | high | urgent
    summary: str
    status: str
    created_at: datetime
