"""The production wallet backend: ``WalletBackend`` over HTTP (docs/api/wallet-backend.openapi.yaml).

Reads (GET) are retried with a short backoff on connection failures, timeouts and 502/503/504;
writes (POST) are never retried. Neither the API key nor request bodies reach exception messages
or logs.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from actions.backend.codec import (
    Malformed,
    decode_account,
    decode_delivery,
    decode_ticket,
    decode_transaction,
    read_field,
    read_money,
)
from actions.backend.errors import BackendUnavailable, InvalidRequest, NotFound, TooManyAttempts
from actions.backend.models import Account, Delivery, Ticket, Transaction, TransactionStatus

logger = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_STATUSES = frozenset({502, 503, 504})
MAX_LIMIT = 50
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _segment(value: str) -> str:
    """One path segment: "/" and dots escaped, so no id can climb to another route."""
    return quote(value, safe="").replace(".", "%2E")


class HttpBackend:
    """The wallet backend over HTTP, with a bearer API key."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float = 3.0,
        retries: int = 2,
        transport: httpx.BaseTransport | None = None,
        *,
        backoff: float = 0.1,
    ) -> None:
        """Prepare the client; no connection is opened until the first call.

        Args:
            base_url: the backend's base URL, e.g. ``https://wallet.internal/api``.
            api_key: the bearer key; never logged nor put into errors.
            timeout: seconds for each of connecting, sending and reading one response.
            retries: extra attempts of a GET after a connection failure, a timeout or 502/503/504.
            transport: an httpx transport to use instead of the network (tests).
            backoff: seconds before the first retry, doubled for each further one.
        """
        if not api_key:
            raise ValueError("api_key must not be empty")
        if timeout <= 0 or retries < 0 or backoff < 0:
            raise ValueError("timeout must be positive, retries and backoff not negative")
        self._api_key = api_key
        self._retries = retries
        self._backoff = backoff
        self._client = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> HttpBackend:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- one request, its retries and its errors ------------------------------
    def _call(
        self,
        method: str,
        operation: str,
        path: str,
        decode: Callable[[Any], T],
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> T:
        attempts = 1 + (self._retries if method == "GET" else 0)
        # a write's key comes from the conversation step, so a repeated step is replayed by
        # the backend, not done twice; lookups (POST without side effects) get a fresh one
        headers = {"Idempotency-Key": idempotency_key or uuid.uuid4().hex} if method == "POST" else {}
        failure = "no answer"
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                time.sleep(self._backoff * 2 ** (attempt - 2))
            try:
                response = self._client.request(method, path, params=params, json=body, headers=headers)
            except (httpx.ConnectError, httpx.TimeoutException) as error:
                failure = "a timeout" if isinstance(error, httpx.TimeoutException) else "a connection failure"
            except httpx.HTTPError as error:
                logger.warning("wallet backend %s failed: %s", operation, type(error).__name__)
                raise BackendUnavailable("the wallet backend connection failed") from None
            else:
                if response.status_code not in RETRY_STATUSES or attempt == attempts:
                    return self._result(operation, response, decode)
                failure = f"HTTP {response.status_code}"
            logger.warning("wallet backend %s: %s (attempt %d of %d)", operation, failure, attempt, attempts)
        raise BackendUnavailable(f"the wallet backend is unreachable ({failure})")

    def _result(self, operation: str, response: httpx.Response, decode: Callable[[Any], T]) -> T:
        status = response.status_code
        if 200 <= status < 300:
            try:
                return decode(json.loads(response.content))
            except (ValueError, TypeError, ArithmeticError, RecursionError):  # bad JSON, field or enum
                logger.warning("wallet backend %s: malformed answer (HTTP %d)", operation, status)
                raise BackendUnavailable("the wallet backend sent a malformed answer") from None
        code, message = self._error(response)
        logger.info("wallet backend %s: HTTP %d %s", operation, status, code or "-")
        if status == 404 and code == "not_found":
            raise NotFound(message or "not found")
        if status in (400, 413, 422):
            raise InvalidRequest(message or "the wallet backend refused the request")
        if status == 429:
            raise TooManyAttempts(message or "too many attempts; try later")
        if status in (401, 403):
            raise BackendUnavailable(
                f"the wallet backend refused our API key (HTTP {status}): check WALLET_API_KEY"
            )
        raise BackendUnavailable(f"the wallet backend answered HTTP {status}")

    def _error(self, response: httpx.Response) -> tuple[str, str]:
        """The error body's code and message, cleaned; empty when the body is not the contract's."""
        try:
            error = json.loads(response.content)["error"]
            code, message = str(error["code"])[:40], str(error["message"])[:200]
        except (ValueError, TypeError, KeyError, RecursionError):
            return "", ""
        return code, _CONTROL.sub(" ", message).replace(self._api_key, "***")

    # --- the operations -------------------------------------------------------
    def find_account(self, contact: str) -> Account | None:
        """The account registered with this phone number or e-mail address."""

        def decode(data: Any) -> Account | None:
            if not isinstance(data, dict) or "account" not in data:
                raise Malformed("account")
            return None if data["account"] is None else decode_account(data["account"])

        return self._call("POST", "find_account", "/v1/account-lookups", decode, body={"contact": contact})

    def get_account(self, account_id: str) -> Account:
        """The account with this id; raises NotFound otherwise."""
        return self._call("GET", "get_account", f"/v1/accounts/{_segment(account_id)}", decode_account)

    def send_password_reset(self, contact: str, *, idempotency_key: str | None = None) -> Delivery:
        """Send a reset link or SMS; the answer is the same whether or not the account exists."""
        body = {"contact": contact}
        return self._call(
            "POST",
            "send_password_reset",
            "/v1/password-resets",
            decode_delivery,
            body=body,
            idempotency_key=idempotency_key,
        )

    def send_code(
        self, account_id: str, channel: str = "sms", *, idempotency_key: str | None = None
    ) -> Delivery:
        """Send a one-time code to the account's registered phone (sms) or e-mail."""
        path = f"/v1/accounts/{_segment(account_id)}/codes"
        body = {"channel": channel}
        return self._call(
            "POST", "send_code", path, decode_delivery, body=body, idempotency_key=idempotency_key
        )

    def verify_code(self, account_id: str, code: str) -> bool:
        """Check a one-time code; raises TooManyAttempts after repeated failures."""
        path = f"/v1/accounts/{_segment(account_id)}/codes/verify"
        decode: Callable[[Any], bool] = lambda data: read_field(data, "valid", bool)  # noqa: E731
        return self._call("POST", "verify_code", path, decode, body={"code": code})

    def get_balance(self, account_id: str) -> Decimal:
        """The account's balance in yuan."""
        path = f"/v1/accounts/{_segment(account_id)}/balance"
        return self._call("GET", "get_balance", path, lambda data: read_money(data, "balance"))

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
        """The account's transactions, newest first, filtered (``limit`` is kept within 1–50)."""
        params = {"limit": str(max(1, min(limit, MAX_LIMIT)))}
        if status is not None:
            params["status"] = TransactionStatus(status).value
        if since is not None:
            params["since"] = since.isoformat()
        if until is not None:
            params["until"] = until.isoformat()
        if amount is not None:
            params["amount"] = format(amount, "f")
        if counterparty:
            params["counterparty"] = counterparty

        def decode(data: Any) -> list[Transaction]:
            return [decode_transaction(item) for item in read_field(data, "transactions", list)]

        path = f"/v1/accounts/{_segment(account_id)}/transactions"
        return self._call("GET", "list_transactions", path, decode, params=params)

    def get_transaction(self, account_id: str, transaction_id: str) -> Transaction:
        """One of the account's transactions; raises NotFound otherwise."""
        path = f"/v1/accounts/{_segment(account_id)}/transactions/{_segment(transaction_id)}"
        return self._call("GET", "get_transaction", path, decode_transaction)

    def update_contact(
        self, account_id: str, field: str, value: str, *, idempotency_key: str | None = None
    ) -> Account:
        """Change phone, email, nickname or address; raises InvalidRequest on a bad value."""
        path = f"/v1/accounts/{_segment(account_id)}/contact"
        body = {"field": field, "value": value}
        return self._call(
            "POST", "update_contact", path, decode_account, body=body, idempotency_key=idempotency_key
        )

    def freeze_account(self, account_id: str, reason: str, *, idempotency_key: str | None = None) -> Account:
        """Freeze the account at once (suspected theft, lost phone)."""
        path = f"/v1/accounts/{_segment(account_id)}/freeze"
        body = {"reason": reason}
        return self._call(
            "POST", "freeze_account", path, decode_account, body=body, idempotency_key=idempotency_key
        )

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
        body = {"account_id": account_id, "kind": kind, "priority": priority, "summary": summary}
        return self._call(
            "POST", "create_ticket", "/v1/tickets", decode_ticket, body=body, idempotency_key=idempotency_key
        )

    def get_ticket(self, ticket_id: str) -> Ticket:
        """Look a ticket up; raises NotFound otherwise."""
        return self._call("GET", "get_ticket", f"/v1/tickets/{_segment(ticket_id)}", decode_ticket)
