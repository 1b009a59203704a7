"""What the flows need from the wallet backend: one interface, several implementations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from actions.backend.models import Account, Delivery, Ticket, Transaction, TransactionStatus


class WalletBackend(Protocol):
    """Operations of the wallet backend used by the guided flows.

    Implementations raise the errors of ``actions.backend.errors``; the sandbox
    (``actions.backend.sandbox``) is the embedded default.
    """

    def find_account(self, contact: str) -> Account | None:
        """The account registered with this phone number or e-mail address."""
        ...

    def get_account(self, account_id: str) -> Account:
        """The account with this id; raises NotFound otherwise."""
        ...

    # Writes take an idempotency key (actions.backend.idempotency.step_key): a write repeated
    # with the same key returns the first one's result instead of being done twice.
    def send_password_reset(self, contact: str, *, idempotency_key: str | None = None) -> Delivery:
        """Send a reset link (e-mail) or SMS; same answer whether or not the account exists."""
        ...

    def send_code(
        self, account_id: str, channel: str = "sms", *, idempotency_key: str | None = None
    ) -> Delivery:
        """Send a one-time code to the account's registered phone (sms) or e-mail."""
        ...

    def verify_code(self, account_id: str, code: str) -> bool:
        """Check a one-time code; raises TooManyAttempts after repeated failures."""
        ...

    def get_balance(self, account_id: str) -> Decimal:
        """The account's balance in yuan."""
        ...

    def list_transactions(
        self,
        account_id: str,
        *,
        status: TransactionStatus | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        amount: Decimal | None = None,
        counterparty: str | None = None,
        limit: int = 10,
    ) -> list[Transaction]:
        """The account's transactions, newest first, filtered."""
        ...

    def get_transaction(self, account_id: str, transaction_id: str) -> Transaction:
        """One of the account's transactions; raises NotFound otherwise."""
        ...

    def update_contact(
        self, account_id: str, field: str, value: str, *, idempotency_key: str | None = None
    ) -> Account:
        """Change phone, email, nickname or address; raises InvalidRequest on a bad value."""
        ...

    def freeze_account(self, account_id: str, reason: str, *, idempotency_key: str | None = None) -> Account:
        """Freeze the account at once (suspected theft, lost phone)."""
        ...

    def create_ticket(
        self,
        account_id: str | None,
        kind: str,
        priority: str,
        summary: str,
        *,
        idempotency_key: str | None = None,
    ) -> Ticket:
        """Open a support ticket."""
        ...

    def get_ticket(self, ticket_id: str) -> Ticket:
        """Look a ticket up; raises NotFound otherwise."""
        ...
