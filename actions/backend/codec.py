"""The contract's wire format (docs/api/wallet-backend.openapi.yaml): models to JSON-ready data
and back. One place, used by the HTTP client, the reference server and the write ledger."""

from __future__ import annotations

import enum
import re
from dataclasses import fields, is_dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from actions.backend.models import (
    Account,
    Delivery,
    FailureReason,
    RefundState,
    Ticket,
    Transaction,
    TransactionStatus,
)

T = TypeVar("T")
_MONEY = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def encode(value: Any) -> Any:
    """A model (or list of models) as JSON-ready data: money as strings, times in ISO 8601."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list):
        return [encode(item) for item in value]
    return value


class Malformed(ValueError):
    """The backend answered something that is not the contract's JSON."""


def read_field(data: Any, name: str, kind: type[T]) -> T:
    """A required field of the given type; raises Malformed otherwise."""
    if not isinstance(data, dict) or not isinstance(data.get(name), kind):
        raise Malformed(name)
    return data[name]


def _optional(data: Any, name: str) -> str | None:
    return None if isinstance(data, dict) and data.get(name) is None else read_field(data, name, str)


def read_money(data: Any, name: str) -> Decimal:
    """A money field ("12.50"); raises Malformed otherwise."""
    text = read_field(data, name, str)
    if not _MONEY.fullmatch(text):
        raise Malformed(name)
    return Decimal(text)


def _datetime(data: Any, name: str) -> datetime:
    text = read_field(data, name, str)
    value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    if value.utcoffset() is None:
        raise Malformed(name)
    return value


def decode_account(data: Any) -> Account:
    """An account from the contract's JSON."""
    return Account(
        account_id=read_field(data, "account_id", str),
        name=read_field(data, "name", str),
        phone=read_field(data, "phone", str),
        email=read_field(data, "email", str),
        balance=read_money(data, "balance"),
        two_factor=read_field(data, "two_factor", bool),
        status=read_field(data, "status", str),
        nickname=_optional(data, "nickname") or "",
        address=_optional(data, "address") or "",
    )


def decode_transaction(data: Any) -> Transaction:
    """A transaction from the contract's JSON."""
    reason = _optional(data, "failure_reason")
    return Transaction(
        transaction_id=read_field(data, "transaction_id", str),
        account_id=read_field(data, "account_id", str),
        kind=read_field(data, "kind", str),
        amount=read_money(data, "amount"),
        counterparty=read_field(data, "counterparty", str),
        created_at=_datetime(data, "created_at"),
        status=TransactionStatus(read_field(data, "status", str)),
        failure_reason=FailureReason(reason) if reason else None,
        refund_state=RefundState(read_field(data, "refund_state", str)),
        refund_eta_days=_optional(data, "refund_eta_days") or "",
    )


def decode_delivery(data: Any) -> Delivery:
    """Where a link or code went, from the contract's JSON."""
    return Delivery(read_field(data, "channel", str), read_field(data, "masked_destination", str))


def decode_ticket(data: Any) -> Ticket:
    """A ticket from the contract's JSON."""
    return Ticket(
        ticket_id=read_field(data, "ticket_id", str),
        account_id=_optional(data, "account_id"),
        kind=read_field(data, "kind", str),
        priority=read_field(data, "priority", str),
        summary=read_field(data, "summary", str),
        status=read_field(data, "status", str),
        created_at=_datetime(data, "created_at"),
    )
