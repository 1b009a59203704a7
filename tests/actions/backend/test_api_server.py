"""The reference wallet API server, sent garbage on purpose; its command line."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from actions.backend.api_server import WalletApiServer, open_sandbox
from actions.backend.sandbox import SandboxBackend
from tests.actions.backend.conftest import API_KEY
from tests.bad_inputs import bad_messages, bad_payloads
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture()
def http(api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {API_KEY}"}) as client:
        yield client


def _error(answer: httpx.Response, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    error = answer.json()["error"]
    assert error["code"] == code and isinstance(error["message"], str)
    return str(error["message"])


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", f"Basic {API_KEY}", f"Bearer {API_KEY}x", "Bearer ключ"],
)
def test_missing_or_wrong_key(api_url: str, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization.encode()}
    for method, path in (("GET", "/v1/accounts/U1001"), ("POST", "/v1/tickets"), ("GET", "/nowhere")):
        answer = httpx.request(method, api_url + path, headers=headers)
        _error(answer, 401, "unauthorized")
        assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_bearer_scheme_is_case_insensitive(api_url: str) -> None:
    answer = httpx.get(f"{api_url}/v1/accounts/U1001", headers={"Authorization": f"bearer {API_KEY}"})
    assert answer.status_code == 200 and answer.json()["balance"] == "1250.00"


def test_unknown_routes_and_methods(http: httpx.Client) -> None:
    for path in (
        "/",
        "/v1",
        "/v1/accounts",
        "/v2/tickets",
        "/v1/tickets/T1/extra",
        "/v1/accounts/U1001/<script>",
    ):
        _error(http.get(path), 404, "no_route")
    _error(http.delete("/v1/accounts/U1001"), 405, "method_not_allowed")
    answer = http.get("/v1/tickets")
    _error(answer, 405, "method_not_allowed")
    assert answer.headers["Allow"] == "POST"
    _error(http.request("OPTIONS", "/v1/tickets"), 501, "unavailable")


@pytest.mark.parametrize("name", ["not_json", "json_array", "json_string"])
def test_bodies_that_are_not_json_objects(http: httpx.Client, name: str) -> None:
    case = bad_payloads()[name]
    raw = case["raw"].encode() if "raw" in case else json.dumps(case["body"]).encode()
    for path in ("/v1/account-lookups", "/v1/tickets", "/v1/accounts/U1001/freeze"):
        message = _error(http.post(path, content=raw), 400, "invalid_request")
        assert raw.decode() not in message


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\xfe{}",
        b"[" * 5000 + b"]" * 5000,
        b'{"contact": NaN}',
        b'{"contact": 13800138000}',
        b'{"contact": null}',
        b'{"contact": "13800138000", "extra": 1}',
        json.dumps({"contact": "1" * 300}).encode(),
    ],
)
def test_malformed_lookups(http: httpx.Client, body: bytes) -> None:
    message = _error(http.post("/v1/account-lookups", content=body), 400, "invalid_request")
    assert "13800138000" not in message and "extra" not in message


def test_oversized_body(http: httpx.Client) -> None:
    huge = json.dumps({"contact": "x" * 70_000}).encode()
    _error(http.post("/v1/account-lookups", content=huge), 413, "invalid_request")


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "since=yesterday",
        "since=2026-11-24T18:00:00",  # no offset
        "amount=abc",
        "amount=NaN",
        "limit=0",
        "limit=51",
        "limit=%EF%BC%95",  # a full-width digit
        "limit=1&limit=2",
        "counterparty=",
        "sort=amount",
        "counterparty=%FF",
    ],
)
def test_bad_transaction_filters(http: httpx.Client, query: str) -> None:
    message = _error(http.get(f"/v1/accounts/U1001/transactions?{query}"), 400, "invalid_request")
    value = query.split("=")[1].split("&")[0]
    assert len(value) < 3 or value not in message


def test_body_fields_are_checked(http: httpx.Client) -> None:
    bad: list[tuple[str, dict[str, Any]]] = [
        ("/v1/accounts/U1001/codes", {"channel": "pigeon"}),
        ("/v1/accounts/U1001/codes/verify", {"code": 123456}),
        ("/v1/accounts/U1001/contact", {"field": "password", "value": "x"}),
        ("/v1/accounts/U1001/contact", {"field": "phone"}),
        ("/v1/tickets", {"account_id": "U 1", "kind": "x", "priority": "normal", "summary": ""}),
        ("/v1/tickets", {"kind": "x", "priority": "whenever", "summary": ""}),
        ("/v1/tickets", {"kind": " ", "priority": "normal", "summary": ""}),
    ]
    for path, body in bad:
        _error(http.post(path, json=body), 400, "invalid_request")
    refused = http.post("/v1/accounts/U1001/contact", json={"field": "phone", "value": "12345"})
    _error(refused, 422, "invalid_request")


@pytest.mark.parametrize("name", sorted(bad_messages()))
def test_bad_texts_in_every_field(http: httpx.Client, name: str) -> None:
    text = bad_messages()[name]
    requests: list[tuple[str, dict[str, Any]]] = [
        ("/v1/account-lookups", {"contact": text}),
        ("/v1/password-resets", {"contact": text}),
        ("/v1/accounts/U1001/codes/verify", {"code": text}),
        ("/v1/accounts/U1001/contact", {"field": "nickname", "value": text}),
        ("/v1/tickets", {"account_id": None, "kind": "complaint", "priority": "normal", "summary": text}),
    ]
    for path, body in requests:
        answer = http.post(path, json=body)
        assert answer.status_code in (200, 201, 400, 422, 429), (path, answer.status_code)
        if answer.status_code >= 400 and text.strip():
            assert text not in answer.json()["error"]["message"]
    listed = http.get("/v1/accounts/U1001/transactions", params={"counterparty": text})
    assert listed.status_code in (200, 400)


def test_open_sandbox_seeds_only_an_empty_database(tmp_path: Path) -> None:
    sandbox = open_sandbox(tmp_path / "wallet.db")
    assert sandbox.get_account("U1001").balance == 1250
    sandbox.update_contact("U1001", "nickname", "小张")
    assert open_sandbox(tmp_path / "wallet.db").get_account("U1001").nickname == "小张"


def test_server_refuses_an_empty_key(sandbox: SandboxBackend) -> None:
    with pytest.raises(ValueError):
        WalletApiServer(("127.0.0.1", 0), sandbox, "")


def test_command_line_serves_the_sandbox(tmp_path: Path) -> None:
    port, db = free_port(), tmp_path / "var" / "wallet.db"
    command = [sys.executable, "-m", "actions.backend.api_server", "--db", str(db), "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--api-key", "dev-key"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
        answer = httpx.get(
            f"http://127.0.0.1:{port}/v1/accounts/U1002", headers={"Authorization": "Bearer dev-key"}
        )
        assert answer.status_code == 200 and answer.json()["name"] == "李娜"
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert b"dev-key" not in stderr
