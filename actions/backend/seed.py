"""The sandbox's seed data: exactly the accounts and transactions of DESIGN.md.

Dates are relative to the seeding time, so "yesterday 21:03" stays yesterday.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from actions.backend.models import Account, FailureReason, RefundState, Transaction, TransactionStatus

ACCOUNTS = [
    Account("U1001", "张伟", "13800138000", "zhangwei@example.com", Decimal("1250.00"), False, "active"),
    Account("U1002", "李娜", "13912345678", "lina@example.cn", Decimal("36.50"), True, "active"),
    Account("U1003", "王强", "13700001111", "wangqiang@example.com", Decimal("0.00"), False, "locked"),
]


def _at(now: datetime, days_ago: int, hour: int, minute: int) -> datetime:
    day = (now - timedelta(days=days_ago)).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=now.tzinfo)


def _tx(
    account: str,
    when: datetime,
    seq: int,
    kind: str,
    amount: str,
    counterparty: str,
    status: TransactionStatus,
    reason: FailureReason | None = None,
    refund: RefundState = RefundState.NOT_DEDUCTED,
    eta: str = "",
) -> Transaction:
    transaction_id = f"TX{when:%Y%m%d%H%M}{seq:03d}"
    return Transaction(
        transaction_id, account, kind, Decimal(amount), counterparty, when, status, reason, refund, eta
    )


def transactions(now: datetime) -> list[Transaction]:
    """The seeded transactions, dated relative to ``now``."""
    failed, ok, held = TransactionStatus.FAILED, TransactionStatus.SUCCEEDED, TransactionStatus.HELD
    return [
        _tx(
            "U1001",
            _at(now, 1, 21, 3),
            1,
            "transfer",
            "500.00",
            "李娜",
            failed,
            FailureReason.NETWORK_TIMEOUT,
        ),
        _tx(
            "U1001",
            _at(now, 2, 14, 20),
            2,
            "payment",
            "2000.00",
            "京东商城",
            failed,
            FailureReason.INSUFFICIENT_BALANCE,
        ),
        _tx(
            "U1001", _at(now, 3, 10, 5), 3, "transfer", "300.00", "王强", failed, FailureReason.INVALID_PAYEE
        ),
        _tx("U1001", _at(now, 4, 12, 30), 4, "payment", "88.00", "美团外卖", ok),
        _tx(
            "U1001",
            _at(now, 4, 12, 31),
            5,
            "payment",
            "88.00",
            "美团外卖",
            failed,
            FailureReason.DUPLICATE_REQUEST,
        ),
        _tx(
            "U1001",
            _at(now, 5, 9, 40),
            6,
            "top_up",
            "1000.00",
            "银行卡",
            failed,
            FailureReason.DEDUCTED_NOT_RECEIVED,
            RefundState.PENDING,
            "1-3 个工作日",
        ),
        _tx("U1001", _at(now, 1, 20, 15), 7, "payment", "38.00", "星巴克", ok),
        _tx(
            "U1002", _at(now, 1, 8, 45), 8, "payment", "120.00", "滴滴出行", held, FailureReason.RISK_CONTROL
        ),
    ]
