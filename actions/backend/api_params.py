"""Request parsing of the reference wallet API server: bodies, query filters and path ids.

Every refusal is an ``ApiError`` whose message names the parameter, never its value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, unquote

from actions.backend.models import TransactionStatus

ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
MONEY = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?")
TRANSACTION_FILTERS = frozenset({"status", "since", "until", "amount", "counterparty", "limit"})
MAX_LIMIT = 50


class ApiError(Exception):
    """An error answer: HTTP status, stable code, fixed message and extra headers."""

    def __init__(self, status: int, code: str, message: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        """Describe the answer; ``message`` must not contain any part of the request."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def _invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_request", message)


def path_id(raw: str) -> str:
    """An id from the path; one that cannot exist is simply not found."""
    try:
        value = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        value = ""
    if not ID.fullmatch(value):
        raise ApiError(404, "not_found", "not found")
    return value


def parse_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a POST body."""

    def refuse_constant(name: str) -> Any:
        raise ValueError("not JSON")

    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=refuse_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise _invalid("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _invalid("the body must be a JSON object")
    return body


def check_fields(body: dict[str, Any], allowed: Collection[str]) -> None:
    """Refuse fields the operation does not know (a client bug, not to be ignored)."""
    if set(body) - set(allowed):
        raise _invalid("unknown field in the body")


def parse_query(query: str, allowed: Collection[str]) -> dict[str, str]:
    """Query parameters: each known, given once and not empty."""
    if not query:
        return {}
    try:
        values = parse_qs(query, keep_blank_values=True, errors="strict", max_num_fields=20)
    except ValueError:
        raise _invalid("invalid query string") from None
    if set(values) - set(allowed):
        raise _invalid("unknown query parameter")
    result = {}
    for name, given in values.items():
        if len(given) != 1 or not given[0].strip():
            raise _invalid(f"{name} must be given once and not be empty")
        result[name] = given[0]
    return result


def _datetime(name: str, text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise _invalid(f"{name} must be an ISO 8601 date-time") from None
    if value.utcoffset() is None:
        raise _invalid(f"{name} must have a UTC offset")
    return value


def transaction_filters(query: dict[str, str]) -> dict[str, Any]:
    """The keyword arguments of ``list_transactions`` from its query parameters."""
    filters: dict[str, Any] = {}
    if "status" in query:
        try:
            filters["status"] = TransactionStatus(query["status"])
        except ValueError:
            raise _invalid("unknown status") from None
    for name in ("since", "until"):
        if name in query:
            filters[name] = _datetime(name, query[name])
    if "amount" in query:
        if not MONEY.fullmatch(query["amount"]):
            raise _invalid("amount must be a decimal string")
        filters["amount"] = Decimal(query["amount"])
    if "counterparty" in query:
        if len(query["counterparty"]) > 100:
            raise _invalid("counterparty is too long")
        filters["counterparty"] = query["counterparty"]
    if "limit" in query:
        limit = query["limit"]
        if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= MAX_LIMIT):
            raise _invalid(f"limit must be an integer from 1 to {MAX_LIMIT}")
        filters["limit"] = int(limit)
    return filters


@dataclass(frozen=True)
class Request:
    """What an operation receives: path ids, query parameters and the JSON body."""

    path: dict[str, str]
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None

    @staticmethod
    def key_of(header: str | None) -> str | None:
        """A usable ``Idempotency-Key`` header (printable ASCII, at most 200 characters)."""
        if header is None:
            return None
        value = header.strip()
        if not value or len(value) > 200 or not value.isascii() or not value.isprintable():
            raise _invalid("invalid Idempotency-Key")
        return value

    def text(
        self,
        name: str,
        max_length: int,
        *,
        choices: Collection[str] = (),
        default: str | None = None,
        allow_empty: bool = False,
    ) -> str:
        """A string field of the body, checked; raises ApiError 400 otherwise."""
        value = self.body.get(name, default)
        if value is None:
            raise _invalid(f"{name} is required")
        if not isinstance(value, str) or len(value) > max_length:
            raise _invalid(f"{name} must be a string of at most {max_length} characters")
        if (not value.strip() and not allow_empty) or (choices and value not in choices):
            raise _invalid(f"invalid {name}")
        return value

    def optional_id(self, name: str) -> str | None:
        """An id field of the body that may be null or missing."""
        value = self.body.get(name)
        if value is not None and not (isinstance(value, str) and ID.fullmatch(value)):
            raise _invalid(f"invalid {name}")
        return value
