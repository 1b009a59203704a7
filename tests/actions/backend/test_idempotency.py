"""Writes done once: the ledger, the sandbox's keyed writes, the HTTP header and the
reference server's replay."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from actions.backend.errors import InvalidRequest, NotFound
from actions.backend.http_client import HttpBackend
from actions.backend.idempotency import WriteInProgress, WriteLedger, fingerprint, step_key
from actions.backend.sandbox import SandboxBackend
from tests.actions.backend.conftest import API_KEY


def test_step_keys_are_stable_and_distinct() -> None:
    assert step_key("rest:u1", "freeze", "U1001", 1.5) == step_key("rest:u1", "freeze", "U1001", 1.5)
    assert step_key("rest:u1", "freeze", "U1001", 1.5) != step_key("rest:u2", "freeze", "U1001", 1.5)
    assert step_key("rest:u1", "freeze", "U1001", 1.5) != step_key("rest:u1", "freeze", "U1001", 2.5)
    assert len(step_key("x", "y")) == 40


def test_a_keyed_write_is_done_once_and_replayed(tmp_path: Path) -> None:
    ledger, calls = WriteLedger(tmp_path / "ledger.db"), []

    def write() -> dict[str, Any]:
        calls.append(1)
        return {"ticket": len(calls)}

    first = ledger.once("k1", "create_ticket", fingerprint("a"), write, lambda data: data)
    again = ledger.once("k1", "create_ticket", fingerprint("a"), write, lambda data: data)
    assert first == again == {"ticket": 1} and len(calls) == 1
    with pytest.raises(InvalidRequest):
        ledger.once("k1", "create_ticket", fingerprint("b"), write, lambda data: data)


def test_a_failed_write_can_be_retried(tmp_path: Path) -> None:
    ledger = WriteLedger(tmp_path / "ledger.db")

    def fail() -> dict[str, Any]:
        raise NotFound("no such account")

    with pytest.raises(NotFound):
        ledger.once("k", "freeze_account", "f", fail, lambda data: data)
    assert ledger.once("k", "freeze_account", "f", lambda: {"ok": True}, lambda data: data) == {"ok": True}


def test_a_write_still_running_is_not_started_twice(tmp_path: Path) -> None:
    ledger = WriteLedger(tmp_path / "ledger.db")
    started, release = threading.Event(), threading.Event()

    def slow() -> dict[str, Any]:
        started.set()
        release.wait(5)
        return {"done": True}

    worker = threading.Thread(target=lambda: ledger.once("k", "op", "f", slow, lambda data: data))
    worker.start()
    started.wait(5)
    with pytest.raises(WriteInProgress):
        ledger.once("k", "op", "f", slow, lambda data: data)
    release.set()
    worker.join(5)
    assert ledger.once("k", "op", "f", slow, lambda data: data) == {"done": True}  # the late completion


def test_the_sandbox_freezes_and_files_once_per_key(tmp_path: Path) -> None:
    sandbox = SandboxBackend(tmp_path / "wallet.db")
    sandbox.reseed()
    first = sandbox.create_ticket("U1001", "security", "urgent", "被盗", idempotency_key="k-ticket")
    again = sandbox.create_ticket("U1001", "security", "urgent", "被盗", idempotency_key="k-ticket")
    assert first.ticket_id == again.ticket_id and len(sandbox.tickets()) == 1
    sandbox.freeze_account("U1001", "被盗", idempotency_key="k-freeze")
    assert sandbox.freeze_account("U1001", "被盗", idempotency_key="k-freeze").status == "frozen"
    sandbox.send_code("U1002", idempotency_key="k-code")
    sandbox.send_code("U1002", idempotency_key="k-code")
    assert len(sandbox.outbox("13912345678")) == 1
    assert len({sandbox.create_ticket("U1001", "complaint", "normal", "x").ticket_id for _ in range(2)}) == 2


def test_the_http_client_sends_the_step_key() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"channel": "sms", "masked_destination": "139****5678"})

    with HttpBackend("http://backend.test", "key", transport=httpx.MockTransport(answer)) as client:
        client.send_code("U1002", idempotency_key="step-key-1")
        client.send_code("U1002")
    assert seen[0].headers["Idempotency-Key"] == "step-key-1"
    assert seen[1].headers["Idempotency-Key"] not in ("", "step-key-1")  # a fresh one without a step


def test_the_reference_server_replays_a_repeated_key(api_url: str) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "same-step"}
    body = {"account_id": "U1001", "kind": "complaint", "priority": "normal", "summary": "服务态度"}
    with httpx.Client(base_url=api_url) as http:
        first = http.post("/v1/tickets", json=body, headers=headers)
        again = http.post("/v1/tickets", json=body, headers=headers)
        other = http.post("/v1/tickets", json={**body, "kind": "transaction"}, headers=headers)
    assert first.status_code == 201 and again.status_code in (200, 201)
    assert first.json()["ticket_id"] == again.json()["ticket_id"]
    assert other.status_code == 422  # the same key for another request is refused
