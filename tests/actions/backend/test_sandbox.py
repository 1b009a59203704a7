"""The sandbox backend against DESIGN.md's seed data."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from actions.backend.errors import InvalidRequest, NotFound, TooManyAttempts
from actions.backend.models import FailureReason, RefundState, TransactionStatus
from actions.backend.sandbox import CHINA_TZ, SandboxBackend

NOW = datetime(2026, 11, 25, 10, 30, tzinfo=CHINA_TZ)


@pytest.fixture()
def backend(tmp_path: Path) -> SandboxBackend:
    sandbox = SandboxBackend(tmp_path / "wallet.db")
    sandbox.reseed(NOW)
    return sandbox


def test_seeded_accounts(backend: SandboxBackend) -> None:
    account = backend.find_account("+86 138-0013-8000")
    assert account is not None and account.account_id == "U1001" and account.balance == Decimal("1250.00")
    assert backend.find_account("LINA@example.cn").account_id == "U1002"  # type: ignore[union-attr]
    assert backend.find_account("13700001111").status == "locked"  # type: ignore[union-attr]
    assert backend.find_account("13000000000") is None


def test_seeded_transactions_are_relative_to_now(backend: SandboxBackend) -> None:
    failed = backend.list_transactions("U1001", status=TransactionStatus.FAILED)
    assert [t.failure_reason for t in failed] == [
        FailureReason.NETWORK_TIMEOUT,
        FailureReason.INSUFFICIENT_BALANCE,
        FailureReason.INVALID_PAYEE,
        FailureReason.DUPLICATE_REQUEST,
        FailureReason.DEDUCTED_NOT_RECEIVED,
    ]
    assert failed[0].created_at == datetime(2026, 11, 24, 21, 3, tzinfo=CHINA_TZ)
    assert failed[-1].refund_state == RefundState.PENDING
    held = backend.list_transactions("U1002")
    assert held[0].status == TransactionStatus.HELD and held[0].counterparty == "滴滴出行"


def test_transaction_filters(backend: SandboxBackend) -> None:
    yesterday_evening = backend.list_transactions(
        "U1001",
        since=datetime(2026, 11, 24, 18, tzinfo=CHINA_TZ),
        until=datetime(2026, 11, 25, tzinfo=CHINA_TZ),
    )
    assert [t.counterparty for t in yesterday_evening] == ["李娜", "星巴克"]
    assert len(backend.list_transactions("U1001", amount=Decimal("88.00"))) == 2
    assert backend.list_transactions("U1001", counterparty="京东")[0].amount == Decimal("2000.00")


def test_transactions_of_others_are_not_found(backend: SandboxBackend) -> None:
    mine = backend.list_transactions("U1002")[0].transaction_id
    with pytest.raises(NotFound):
        backend.get_transaction("U1001", mine)


def test_password_reset_does_not_reveal_existence(backend: SandboxBackend) -> None:
    known = backend.send_password_reset("13800138000")
    unknown = backend.send_password_reset("13000000000")
    assert known.masked_destination == "138****8000" and unknown.masked_destination == "130****0000"
    assert known.channel == unknown.channel == "sms"
    assert len(backend.outbox("13800138000")) == 1
    assert backend.outbox("13000000000") == []
    assert backend.send_password_reset("ZhangWei@example.com").masked_destination == "z***@example.com"
    with pytest.raises(InvalidRequest):
        backend.send_password_reset("not a contact")


def test_resend_limit(backend: SandboxBackend) -> None:
    for _ in range(5):
        backend.send_password_reset("13800138000")
    with pytest.raises(TooManyAttempts):
        backend.send_password_reset("13800138000")


def _last_code(backend: SandboxBackend, destination: str) -> str:
    match = re.search(r"验证码 (\d{6})", backend.outbox(destination)[0]["body"])
    assert match
    return match.group(1)


def test_codes(backend: SandboxBackend) -> None:
    delivery = backend.send_code("U1001")
    assert delivery.masked_destination == "138****8000"
    code = _last_code(backend, "13800138000")
    assert not backend.verify_code("U1001", "000000" if code != "000000" else "111111")
    assert backend.verify_code("U1001", code)
    assert not backend.verify_code("U1001", code)  # single use


def test_three_wrong_codes_block(backend: SandboxBackend) -> None:
    backend.send_code("U1001")
    code = _last_code(backend, "13800138000")
    wrong = "999999" if code != "999999" else "888888"
    assert not backend.verify_code("U1001", wrong)
    assert not backend.verify_code("U1001", wrong)
    with pytest.raises(TooManyAttempts):
        backend.verify_code("U1001", wrong)
    assert not backend.verify_code("U1001", code)  # the code is gone


def test_update_contact(backend: SandboxBackend) -> None:
    updated = backend.update_contact("U1001", "email", "ZW@Example.com")
    assert updated.email == "zw@example.com"
    with pytest.raises(InvalidRequest, match="same"):
        backend.update_contact("U1001", "email", "zw@example.com")
    with pytest.raises(InvalidRequest):
        backend.update_contact("U1001", "phone", "12345")
    with pytest.raises(InvalidRequest, match="another account"):
        backend.update_contact("U1001", "phone", "13912345678")
    with pytest.raises(InvalidRequest):
        backend.update_contact("U1001", "password", "x")


def test_freeze_and_tickets(backend: SandboxBackend) -> None:
    assert backend.freeze_account("U1001", "lost phone").status == "frozen"
    ticket = backend.create_ticket("U1001", "security", "urgent", "手机丢失，已冻结")
    assert backend.get_ticket(ticket.ticket_id).priority == "urgent"
    with pytest.raises(NotFound):
        backend.get_ticket("T000")
    with pytest.raises(InvalidRequest):
        backend.create_ticket(None, "x", "whenever", "x")


def test_reseed_restores_the_seed(backend: SandboxBackend) -> None:
    backend.update_contact("U1001", "nickname", "小张")
    backend.reseed(NOW)
    assert backend.find_account("13800138000").nickname == ""  # type: ignore[union-attr]
    assert backend.outbox() == []


def test_get_account(backend: SandboxBackend) -> None:
    assert backend.get_account("U1002").name == "李娜"
    with pytest.raises(NotFound):
        backend.get_account("U9999")


def test_fixed_code_for_scripted_tests(tmp_path: Path) -> None:
    sandbox = SandboxBackend(tmp_path / "fixed.db", fixed_code="246810")
    sandbox.reseed(NOW)
    sandbox.send_code("U1001")
    assert "246810" in sandbox.outbox("13800138000")[0]["body"]
    assert sandbox.verify_code("U1001", "246810")
    with pytest.raises(ValueError):
        SandboxBackend(tmp_path / "bad.db", fixed_code="12ab")


def test_tickets_filed_at_once_by_two_processes_get_distinct_numbers(backend: SandboxBackend) -> None:
    """Two action servers share the sandbox file: the ticket number is taken under the lock."""
    import concurrent.futures

    other = SandboxBackend(backend._path)  # another process's view of the same file

    def file(n: int) -> str:
        sandbox = backend if n % 2 else other
        return sandbox.create_ticket("U1001", "complaint", "normal", f"第{n}件").ticket_id

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(file, range(24)))
    assert len(set(numbers)) == 24
