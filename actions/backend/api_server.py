"""Reference server of the wallet backend contract (docs/api/wallet-backend.openapi.yaml).

Serves any ``WalletBackend`` (the sandbox by default) with the standard library's threading HTTP
server: for development and for the HTTP client's tests, not for production traffic.
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from actions.backend import api_params as p
from actions.backend.api_params import ApiError, Request
from actions.backend.codec import encode
from actions.backend.errors import BackendError, BackendUnavailable, InvalidRequest, NotFound, TooManyAttempts
from actions.backend.interface import WalletBackend
from actions.backend.sandbox import SandboxBackend

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
Handler = Callable[[WalletBackend, Request], tuple[int, Any]]


# --- operations: one function per operation of the contract -------------------
def _find_account(b: WalletBackend, r: Request) -> tuple[int, Any]:
    return 200, {"account": encode(b.find_account(r.text("contact", 254)))}


def _get_account(b: WalletBackend, r: Request) -> tuple[int, Any]:
    return 200, encode(b.get_account(r.path["account_id"]))


def _get_balance(b: WalletBackend, r: Request) -> tuple[int, Any]:
    account_id = r.path["account_id"]
    return 200, {"account_id": account_id, "balance": encode(b.get_balance(account_id)), "currency": "CNY"}


def _send_code(b: WalletBackend, r: Request) -> tuple[int, Any]:
    channel = r.text("channel", 8, choices=("sms", "email"), default="sms")
    return 200, encode(b.send_code(r.path["account_id"], channel, idempotency_key=r.idempotency_key))


def _verify_code(b: WalletBackend, r: Request) -> tuple[int, Any]:
    return 200, {"valid": bool(b.verify_code(r.path["account_id"], r.text("code", 16)))}


def _list_transactions(b: WalletBackend, r: Request) -> tuple[int, Any]:
    found = b.list_transactions(r.path["account_id"], **p.transaction_filters(r.query))
    return 200, {"transactions": encode(found)}


def _get_transaction(b: WalletBackend, r: Request) -> tuple[int, Any]:
    return 200, encode(b.get_transaction(r.path["account_id"], r.path["transaction_id"]))


def _update_contact(b: WalletBackend, r: Request) -> tuple[int, Any]:
    field = r.text("field", 16, choices=("phone", "email", "nickname", "address"))
    value = r.text("value", 256, allow_empty=True)
    return 200, encode(
        b.update_contact(r.path["account_id"], field, value, idempotency_key=r.idempotency_key)
    )


def _freeze_account(b: WalletBackend, r: Request) -> tuple[int, Any]:
    reason = r.text("reason", 500, allow_empty=True)
    return 200, encode(b.freeze_account(r.path["account_id"], reason, idempotency_key=r.idempotency_key))


def _send_password_reset(b: WalletBackend, r: Request) -> tuple[int, Any]:
    return 200, encode(b.send_password_reset(r.text("contact", 254), idempotency_key=r.idempotency_key))


def _create_ticket(b: WalletBackend, r: Request) -> tuple[int, Any]:
    account_id = r.optional_id("account_id")
    kind = r.text("kind", 64)
    priority = r.text("priority", 8, choices=("normal", "high", "urgent"))
    summary = r.text("summary", 5000, allow_empty=True)
    ticket = b.create_ticket(account_id, kind, priority, summary, idempotency_key=r.idempotency_key)
    return 201, encode(ticket)


def _get_ticket(b: WalletBackend, r: Request) -> tuple[int, Any]:
    return 200, encode(b.get_ticket(r.path["ticket_id"]))


ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/v1/account-lookups"): _find_account,
    ("GET", "/v1/accounts/{account_id}"): _get_account,
    ("GET", "/v1/accounts/{account_id}/balance"): _get_balance,
    ("POST", "/v1/accounts/{account_id}/codes"): _send_code,
    ("POST", "/v1/accounts/{account_id}/codes/verify"): _verify_code,
    ("GET", "/v1/accounts/{account_id}/transactions"): _list_transactions,
    ("GET", "/v1/accounts/{account_id}/transactions/{transaction_id}"): _get_transaction,
    ("POST", "/v1/accounts/{account_id}/contact"): _update_contact,
    ("POST", "/v1/accounts/{account_id}/freeze"): _freeze_account,
    ("POST", "/v1/password-resets"): _send_password_reset,
    ("POST", "/v1/tickets"): _create_ticket,
    ("GET", "/v1/tickets/{ticket_id}"): _get_ticket,
}
"""The contract's operations by (method, path template); the templates are the OpenAPI paths."""

_QUERY_PARAMS = {"/v1/accounts/{account_id}/transactions": p.TRANSACTION_FILTERS}
_BODY_FIELDS = {
    "/v1/account-lookups": {"contact"},
    "/v1/accounts/{account_id}/codes": {"channel"},
    "/v1/accounts/{account_id}/codes/verify": {"code"},
    "/v1/accounts/{account_id}/contact": {"field", "value"},
    "/v1/accounts/{account_id}/freeze": {"reason"},
    "/v1/password-resets": {"contact"},
    "/v1/tickets": {"account_id", "kind", "priority", "summary"},
}
_TEMPLATES = {
    template: re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]*)", template) + "$")
    for template in sorted({template for _, template in ROUTES})
}
_STATUS_FOR: dict[type[BackendError], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    InvalidRequest: (422, "invalid_request"),
    TooManyAttempts: (429, "too_many_attempts"),
    BackendUnavailable: (503, "unavailable"),
}


@dataclass(frozen=True)
class _Match:
    template: str
    handler: Handler
    path: dict[str, str]


def match_route(method: str, path: str) -> _Match:
    """The operation serving this method and path; raises ApiError 404 (no_route) or 405."""
    for template, pattern in _TEMPLATES.items():
        found = pattern.match(path)
        if found is None:
            continue
        handler = ROUTES.get((method, template))
        if handler is None:
            allowed = ", ".join(m for m, t in ROUTES if t == template)
            raise ApiError(405, "method_not_allowed", "method not allowed", (("Allow", allowed),))
        params = {name: p.path_id(value) for name, value in found.groupdict().items()}
        return _Match(template, handler, params)
    raise ApiError(404, "no_route", "no such route")


def _error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class WalletApiServer(ThreadingHTTPServer):
    """The reference server: one backend, one API key."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], backend: WalletBackend, api_key: str) -> None:
        """Bind the server (call ``serve_forever`` to serve).

        Args:
            address: host and port; port 0 picks a free one.
            backend: the implementation behind the contract.
            api_key: the bearer key every request must carry.
        """
        if not api_key:
            raise ValueError("api_key must not be empty")
        self.backend = backend
        self.api_key = api_key
        super().__init__(address, _RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection failed (client gone, timeout): log it briefly, never print the request."""
        logger.debug("connection error", exc_info=True)


class _RequestHandler(BaseHTTPRequestHandler):
    server: WalletApiServer
    server_version = "wallet-backend-reference"
    sys_version = ""
    timeout = 30
    _template = "-"

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _handle(self) -> None:
        headers: Sequence[tuple[str, str]] = ()
        try:
            raw = self._read_body()
            self._check_key()
            url = urlsplit(self.path)
            found = match_route(self.command, url.path)
            self._template = found.template
            query = p.parse_query(url.query, _QUERY_PARAMS.get(found.template, frozenset()))
            body = p.parse_body(raw) if self.command == "POST" else {}
            p.check_fields(body, _BODY_FIELDS.get(found.template, ()))
            key = Request.key_of(self.headers.get("Idempotency-Key")) if self.command == "POST" else None
            status, payload = found.handler(self.server.backend, Request(found.path, query, body, key))
        except ApiError as error:
            status, payload, headers = error.status, _error_body(error.code, error.message), error.headers
        except BackendError as error:
            status, code = next(
                (v for k, v in _STATUS_FOR.items() if isinstance(error, k)), (500, "unavailable")
            )
            payload = _error_body(code, str(error)[:200] or code)  # backends' messages never echo input
        except Exception:
            logger.exception("unhandled error in %s %s", self.command, self._template)
            status, payload = 500, _error_body("unavailable", "internal error")
        self._send(status, payload, headers)

    def _read_body(self) -> bytes:
        if "Transfer-Encoding" in self.headers:
            self.close_connection = True
            raise ApiError(400, "invalid_request", "send a Content-Length, not a chunked body")
        length = self.headers.get("Content-Length", "0").strip()
        if not (length.isascii() and length.isdigit()):
            self.close_connection = True
            raise ApiError(400, "invalid_request", "invalid Content-Length")
        if int(length) > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, "invalid_request", "body too large")
        return self.rfile.read(int(length)) if int(length) else b""

    def _check_key(self) -> None:
        scheme, _, token = self.headers.get("Authorization", "").strip().partition(" ")
        given = token.strip().encode("latin-1", "replace")
        valid = hmac.compare_digest(given, self.server.api_key.encode())
        if scheme.lower() != "bearer" or not valid:
            raise ApiError(401, "unauthorized", "missing or wrong API key", (("WWW-Authenticate", "Bearer"),))

    def _send(self, status: int, payload: Any, headers: Sequence[tuple[str, str]] = ()) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors of http.server, as JSON that never repeats the request line."""
        self.close_connection = True
        status = HTTPStatus(code)
        self._send(code, _error_body("invalid_request" if code < 500 else "unavailable", status.phrase))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.info("%s %s %s", self.command or "-", self._template, code)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http.server: %s", format)  # the arguments may hold the request line


def open_sandbox(db: Path | str) -> SandboxBackend:
    """The sandbox over this file, reseeded when it holds no accounts yet."""
    sandbox = SandboxBackend(db)
    if not sandbox.is_seeded():
        sandbox.reseed()
    return sandbox


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the sandbox: ``python -m actions.backend.api_server --db var/wallet.db --port 8090``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", type=Path, default=Path("var/wallet.db"), help="sandbox SQLite file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--api-key", default=os.environ.get("WALLET_API_KEY", ""))
    args = parser.parse_args(argv)
    if not args.api_key:
        parser.error("give --api-key or set WALLET_API_KEY")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args.db.parent.mkdir(parents=True, exist_ok=True)
    server = WalletApiServer((args.host, args.port), open_sandbox(args.db), args.api_key)
    logger.info("serving the sandbox wallet backend on http://%s:%d", *server.server_address[:2])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
