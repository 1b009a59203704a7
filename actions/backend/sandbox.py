"""The sandbox wallet backend: SQLite, seeded with DESIGN.md's data, with an outbox.

Codes and links it "sends" are written to the ``outbox`` table, never to a phone (the
outbox is the simulated phone: it keeps them as sent). Ticket summaries are stored masked.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from actions.backend import seed
from actions.backend.codec import decode_account, decode_delivery, decode_ticket
from actions.backend.errors import InvalidRequest, NotFound, TooManyAttempts
from actions.backend.idempotency import WriteLedger, fingerprint
from actions.backend.models import (
    Account,
    Delivery,
    FailureReason,
    RefundState,
    Ticket,
    Transaction,
    TransactionStatus,
)
from bot.masking import mask_email, mask_phone, mask_text
from bot.nlu.normalize import normalize_email, normalize_phone

T = TypeVar("T")


def _send_key(destination: str) -> str:
    """The send limit counts per destination without storing it (a hash, not the phone)."""
    return hashlib.sha256(destination.encode()).hexdigest()[:32]


CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
CODE_TTL = timedelta(minutes=5)
MAX_CODE_ATTEMPTS = 3
MAX_SENDS_PER_WINDOW = 5
SEND_WINDOW = timedelta(minutes=10)
RESET_URL = "https://www.unitedwallet.example/reset?token="

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
  account_id TEXT PRIMARY KEY, name TEXT NOT NULL, phone TEXT UNIQUE NOT NULL,
  email TEXT UNIQUE NOT NULL, balance TEXT NOT NULL, two_factor INTEGER NOT NULL,
  status TEXT NOT NULL, nickname TEXT NOT NULL DEFAULT '', address TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS transactions (
  transaction_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, kind TEXT NOT NULL,
  amount TEXT NOT NULL, counterparty TEXT NOT NULL, created_at TEXT NOT NULL,
  status TEXT NOT NULL, failure_reason TEXT, refund_state TEXT NOT NULL, refund_eta TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS codes (
  account_id TEXT PRIMARY KEY, code_hash TEXT NOT NULL, expires_at TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, channel TEXT NOT NULL,
  destination TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS send_log (
  key TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
  ticket_id TEXT PRIMARY KEY, account_id TEXT, kind TEXT NOT NULL, priority TEXT NOT NULL,
  summary TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL);
"""


def _hash(account_id: str, code: str) -> str:
    return hashlib.sha256(f"{account_id}:{code}".encode()).hexdigest()


class SandboxBackend:
    """The embedded wallet backend over one SQLite file."""

    def __init__(
        self, path: Path | str, clock: type[datetime] = datetime, fixed_code: str | None = None
    ) -> None:
        """Open (and create) the sandbox database; nothing is seeded here.

        Args:
            path: the SQLite file.
            clock: where "now" comes from (tests pass a frozen clock).
            fixed_code: for scripted conversation tests only, every one-time code is this
                six-digit value instead of a random one.
        """
        if fixed_code is not None and not (len(fixed_code) == 6 and fixed_code.isdigit()):
            raise ValueError("fixed_code must be six digits")
        self._path = str(path)
        self._clock = clock
        self._fixed_code = fixed_code
        self._ledger: WriteLedger | None = None  # keyed writes, opened on first use
        with self._db() as db:
            db.executescript(_SCHEMA)

    def _now(self) -> datetime:
        return self._clock.now(CHINA_TZ)

    def _once(
        self, key: str, operation: str, call: Callable[[], T], decode: Callable[[Any], T], *args: object
    ) -> T:
        """A keyed write done once: replayed from the ledger when the key was seen."""
        if self._ledger is None:
            self._ledger = WriteLedger(self._path)
        return self._ledger.once(key, operation, fingerprint(*args), call, decode)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self._path, timeout=5)
        connection.row_factory = sqlite3.Row
        try:
            with connection:
                yield connection
        finally:
            connection.close()

    # --- seeding and the outbox (for developers and tests) ------------------
    def is_seeded(self) -> bool:
        """Whether the database holds any account."""
        with self._db() as db:
            return bool(db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0])

    def reseed(self, now: datetime | None = None) -> None:
        """Replace everything with DESIGN.md's accounts and transactions."""
        now = now or self._now()
        with self._db() as db:
            for table in ("accounts", "transactions", "codes", "outbox", "send_log", "tickets"):
                db.execute(f"DELETE FROM {table}")
            for a in seed.ACCOUNTS:
                db.execute(
                    "INSERT INTO accounts VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        a.account_id,
                        a.name,
                        a.phone,
                        a.email,
                        str(a.balance),
                        int(a.two_factor),
                        a.status,
                        a.nickname,
                        a.address,
                    ),
                )
            for t in seed.transactions(now):
                db.execute(
                    "INSERT INTO transactions VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        t.transaction_id,
                        t.account_id,
                        t.kind,
                        str(t.amount),
                        t.counterparty,
                        t.created_at.isoformat(),
                        t.status.value,
                        t.failure_reason.value if t.failure_reason else None,
                        t.refund_state.value,
                        t.refund_eta_days,
                    ),
                )

    def tickets(self) -> list[Ticket]:
        """Every ticket, newest first."""
        with self._db() as db:
            ids = [row[0] for row in db.execute("SELECT ticket_id FROM tickets ORDER BY created_at DESC")]
        return [self.get_ticket(ticket_id) for ticket_id in ids]

    def outbox(self, destination: str | None = None) -> list[dict[str, str]]:
        """What the sandbox has "sent", newest first."""
        query = "SELECT kind, channel, destination, body, created_at FROM outbox"
        args: tuple[str, ...] = ()
        if destination:
            query, args = query + " WHERE destination = ?", (destination,)
        with self._db() as db:
            return [dict(row) for row in db.execute(query + " ORDER BY id DESC", args)]

    def _send(self, db: sqlite3.Connection, kind: str, channel: str, destination: str, body: str) -> None:
        now = self._now()
        window_start = (now - SEND_WINDOW).isoformat()
        sent = db.execute(
            "SELECT COUNT(*) FROM send_log WHERE key = ? AND created_at > ?",
            (_send_key(destination), window_start),
        ).fetchone()[0]
        if sent >= MAX_SENDS_PER_WINDOW:
            raise TooManyAttempts("too many messages sent to this destination; try later")
        db.execute("INSERT INTO send_log VALUES (?, ?)", (_send_key(destination), now.isoformat()))
        if body:
            db.execute(
                "INSERT INTO outbox (kind, channel, destination, body, created_at) VALUES (?,?,?,?,?)",
                (kind, channel, destination, body, now.isoformat()),
            )

    # --- accounts -----------------------------------------------------------
    @staticmethod
    def _account(row: sqlite3.Row) -> Account:
        return Account(
            row["account_id"],
            row["name"],
            row["phone"],
            row["email"],
            Decimal(row["balance"]),
            bool(row["two_factor"]),
            row["status"],
            row["nickname"],
            row["address"],
        )

    def _get_account(self, db: sqlite3.Connection, account_id: str) -> Account:
        row = db.execute("SELECT * FROM accounts WHERE account_id = ?", (account_id,)).fetchone()
        if row is None:
            raise NotFound("no such account")
        return self._account(row)

    def get_account(self, account_id: str) -> Account:
        """The account with this id; raises NotFound otherwise."""
        with self._db() as db:
            return self._get_account(db, account_id)

    def find_account(self, contact: str) -> Account | None:
        """The account registered with this phone number or e-mail address."""
        phone, email = normalize_phone(contact), normalize_email(contact)
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM accounts WHERE phone = ? OR email = ?", (phone or "", email or "")
            ).fetchone()
        return self._account(row) if row else None

    def send_password_reset(self, contact: str, *, idempotency_key: str | None = None) -> Delivery:
        """Send a reset link by e-mail or SMS; the answer never reveals whether it exists."""
        if idempotency_key:
            call = lambda: self.send_password_reset(contact)  # noqa: E731
            return self._once(idempotency_key, "send_password_reset", call, decode_delivery, contact)
        phone, email = normalize_phone(contact), normalize_email(contact)
        if not phone and not email:
            raise InvalidRequest("not a phone number or e-mail address")
        channel, destination = ("sms", phone) if phone else ("email", email)
        assert destination is not None
        account = self.find_account(destination)
        body = ""
        if account is not None:
            body = (
                f"【联合钱包】您正在重置密码，请点击 {RESET_URL}{secrets.token_urlsafe(16)} ，30 分钟内有效。"
            )
        with self._db() as db:
            self._send(db, "password_reset", channel, destination, body)
        masked = mask_phone(destination) if channel == "sms" else mask_email(destination)
        return Delivery(channel, masked)

    def send_code(
        self, account_id: str, channel: str = "sms", *, idempotency_key: str | None = None
    ) -> Delivery:
        """Send a six-digit one-time code to the registered phone or e-mail."""
        if idempotency_key:
            call = lambda: self.send_code(account_id, channel)  # noqa: E731
            return self._once(idempotency_key, "send_code", call, decode_delivery, account_id, channel)
        with self._db() as db:
            account = self._get_account(db, account_id)
            destination = account.phone if channel == "sms" else account.email
            code = self._fixed_code or f"{secrets.randbelow(1_000_000):06d}"
            self._send(
                db, "code", channel, destination, f"【联合钱包】验证码 {code}，5 分钟内有效，请勿告诉他人。"
            )
            db.execute(
                "INSERT OR REPLACE INTO codes VALUES (?, ?, ?, 0)",
                (account_id, _hash(account_id, code), (self._now() + CODE_TTL).isoformat()),
            )
        masked = mask_phone(destination) if channel == "sms" else mask_email(destination)
        return Delivery(channel, masked)

    def verify_code(self, account_id: str, code: str) -> bool:
        """Check a code; the third wrong one invalidates it and raises TooManyAttempts."""
        with self._db() as db:
            row = db.execute("SELECT * FROM codes WHERE account_id = ?", (account_id,)).fetchone()
            if row is None or datetime.fromisoformat(row["expires_at"]) < self._now():
                return False
            if secrets.compare_digest(row["code_hash"], _hash(account_id, code.strip())):
                db.execute("DELETE FROM codes WHERE account_id = ?", (account_id,))
                return True
            attempts = row["attempts"] + 1
            if attempts < MAX_CODE_ATTEMPTS:
                db.execute("UPDATE codes SET attempts = ? WHERE account_id = ?", (attempts, account_id))
                return False
            db.execute("DELETE FROM codes WHERE account_id = ?", (account_id,))
        raise TooManyAttempts("too many wrong codes")  # after the commit: the code stays deleted

    def get_balance(self, account_id: str) -> Decimal:
        """The account's balance in yuan."""
        with self._db() as db:
            return self._get_account(db, account_id).balance

    # --- transactions -------------------------------------------------------
    @staticmethod
    def _transaction(row: sqlite3.Row) -> Transaction:
        return Transaction(
            row["transaction_id"],
            row["account_id"],
            row["kind"],
            Decimal(row["amount"]),
            row["counterparty"],
            datetime.fromisoformat(row["created_at"]),
            TransactionStatus(row["status"]),
            FailureReason(row["failure_reason"]) if row["failure_reason"] else None,
            RefundState(row["refund_state"]),
            row["refund_eta"],
        )

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
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM transactions WHERE account_id = ? ORDER BY created_at DESC", (account_id,)
            ).fetchall()
        result = []
        for t in map(self._transaction, rows):
            if status is not None and t.status != status:
                continue
            if since is not None and t.created_at < since:
                continue
            if until is not None and t.created_at >= until:
                continue
            if amount is not None and t.amount != amount:
                continue
            if counterparty and counterparty not in t.counterparty:
                continue
            result.append(t)
        return result[: max(1, min(limit, 50))]

    def get_transaction(self, account_id: str, transaction_id: str) -> Transaction:
        """One of the account's own transactions; raises NotFound otherwise."""
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM transactions WHERE transaction_id = ? AND account_id = ?",
                (transaction_id.upper(), account_id),
            ).fetchone()
        if row is None:
            raise NotFound("no such transaction")
        return self._transaction(row)

    # --- changes and tickets ------------------------------------------------
    def update_contact(
        self, account_id: str, field: str, value: str, *, idempotency_key: str | None = None
    ) -> Account:
        """Change phone, email, nickname or address after validating the new value."""
        if idempotency_key:
            call = lambda: self.update_contact(account_id, field, value)  # noqa: E731
            return self._once(
                idempotency_key, "update_contact", call, decode_account, account_id, field, value
            )
        normalizers = {
            "phone": normalize_phone,
            "email": normalize_email,
            "nickname": lambda v: v.strip() if 1 <= len(v.strip()) <= 20 else None,
            "address": lambda v: v.strip() if 5 <= len(v.strip()) <= 120 else None,
        }
        if field not in normalizers:
            raise InvalidRequest("unknown field")
        new = normalizers[field](value)
        if new is None:
            raise InvalidRequest(f"invalid {field}")
        with self._db() as db:
            account = self._get_account(db, account_id)
            if getattr(account, field) == new:
                raise InvalidRequest(f"the new {field} is the same as the current one")
            try:
                db.execute(f"UPDATE accounts SET {field} = ? WHERE account_id = ?", (new, account_id))
            except sqlite3.IntegrityError as error:
                raise InvalidRequest(f"this {field} is used by another account") from error
            return self._get_account(db, account_id)

    def freeze_account(self, account_id: str, reason: str, *, idempotency_key: str | None = None) -> Account:
        """Freeze the account at once."""
        if idempotency_key:
            call = lambda: self.freeze_account(account_id, reason)  # noqa: E731
            return self._once(idempotency_key, "freeze_account", call, decode_account, account_id)
        with self._db() as db:
            self._get_account(db, account_id)
            db.execute("UPDATE accounts SET status = 'frozen' WHERE account_id = ?", (account_id,))
            return self._get_account(db, account_id)

    def create_ticket(
        self,
        account_id: str | None,
        kind: str,
        priority: str,
        summary: str,
        *,
        idempotency_key: str | None = None,
    ) -> Ticket:
        """Open a ticket with a new number (T + date + sequence); personal data in the
        summary is masked before it is stored."""
        if idempotency_key:
            call = lambda: self.create_ticket(account_id, kind, priority, summary)  # noqa: E731
            return self._once(
                idempotency_key, "create_ticket", call, decode_ticket, account_id, kind, priority
            )
        if priority not in ("normal", "high", "urgent"):
            raise InvalidRequest("unknown priority")
        now = self._now()
        with self._db() as db:
            # the number is read and used under the write lock: two action servers never pick
            # the same one
            db.execute("BEGIN IMMEDIATE")
            count = db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
            ticket = Ticket(
                f"T{now:%Y%m%d}{count + 1:04d}",
                account_id,
                kind,
                priority,
                mask_text(summary)[:2000],
                "open",
                now,
            )
            db.execute(
                "INSERT INTO tickets VALUES (?,?,?,?,?,?,?)",
                (ticket.ticket_id, account_id, kind, priority, ticket.summary, "open", now.isoformat()),
            )
        return ticket

    def get_ticket(self, ticket_id: str) -> Ticket:
        """Look a ticket up; raises NotFound otherwise."""
        with self._db() as db:
            row = db.execute("SELECT * FROM tickets WHERE ticket_id = ?", (ticket_id.upper(),)).fetchone()
        if row is None:
            raise NotFound("no such ticket")
        return Ticket(
            row["ticket_id"],
            row["account_id"],
            row["kind"],
            row["priority"],
            row["summary"],
            row["status"],
            datetime.fromisoformat(row["created_at"]),
        )
