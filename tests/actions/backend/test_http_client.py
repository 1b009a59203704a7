"""The HTTP wallet backend against the reference server over the sandbox, and against faults."""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import yaml

from actions.backend.api_server import ROUTES
from actions.backend.errors import BackendUnavailable, InvalidRequest, NotFound, TooManyAttempts
from actions.backend.http_client import HttpBackend
from actions.backend.models import TransactionStatus
from actions.backend.sandbox import CHINA_TZ, SandboxBackend
from tests.actions.backend.conftest import API_KEY

OPENAPI = Path(__file__).resolve().parents[3] / "docs" / "api" / "wallet-backend.openapi.yaml"


def _last_code(sandbox: SandboxBackend, destination: str) -> str:
    match = re.search(r"验证码 (\d{6})", sandbox.outbox(destination)[0]["body"])
    assert match
    return match.group(1)


# --- every operation round-trips -------------------------------------------
def test_accounts_round_trip(client: HttpBackend, sandbox: SandboxBackend) -> None:
    assert client.find_account("+86 138-0013-8000") == sandbox.find_account("13800138000")
    assert client.find_account("13000000000") is None
    assert client.get_account("U1002") == sandbox.get_account("U1002")
    assert client.get_balance("U1001") == Decimal("1250.00")


def test_transactions_round_trip(client: HttpBackend, sandbox: SandboxBackend) -> None:
    assert client.list_transactions("U1001") == sandbox.list_transactions("U1001")
    failed = client.list_transactions("U1001", status=TransactionStatus.FAILED, limit=3)
    assert failed == sandbox.list_transactions("U1001", status=TransactionStatus.FAILED, limit=3)
    assert failed[0].created_at == datetime(2026, 11, 24, 21, 3, tzinfo=CHINA_TZ)
    evening = client.list_transactions(
        "U1001",
        since=datetime(2026, 11, 24, 18, tzinfo=CHINA_TZ),
        until=datetime(2026, 11, 25, tzinfo=CHINA_TZ),
    )
    assert [t.counterparty for t in evening] == ["李娜", "星巴克"]
    assert len(client.list_transactions("U1001", amount=Decimal("88.00"))) == 2
    assert client.list_transactions("U1001", counterparty="京东")[0].amount == Decimal("2000.00")
    assert len(client.list_transactions("U1001", limit=500)) == 7  # kept within 1–50, like the sandbox
    held = client.list_transactions("U1002")[0]
    assert client.get_transaction("U1002", held.transaction_id.lower()) == held
    assert client.get_transaction("U1002", held.transaction_id).failure_reason is not None


def test_codes_round_trip(client: HttpBackend, sandbox: SandboxBackend) -> None:
    assert client.send_code("U1001").masked_destination == "138****8000"
    code = _last_code(sandbox, "13800138000")
    assert client.verify_code("U1001", "000000" if code != "000000" else "111111") is False
    assert client.verify_code("U1001", code) is True
    assert client.send_code("U1001", "email").masked_destination == "z***@example.com"


def test_password_reset_round_trip(client: HttpBackend, sandbox: SandboxBackend) -> None:
    known, unknown = client.send_password_reset("13800138000"), client.send_password_reset("13000000000")
    assert (known.channel, known.masked_destination) == ("sms", "138****8000")
    assert unknown.masked_destination == "130****0000"
    assert len(sandbox.outbox("13800138000")) == 1 and sandbox.outbox("13000000000") == []


def test_changes_and_tickets_round_trip(client: HttpBackend, sandbox: SandboxBackend) -> None:
    assert client.update_contact("U1001", "email", "ZW@Example.com").email == "zw@example.com"
    assert sandbox.get_account("U1001").email == "zw@example.com"
    assert client.freeze_account("U1001", "lost phone").status == "frozen"
    ticket = client.create_ticket("U1001", "security", "urgent", "手机丢失，已冻结")
    assert client.get_ticket(ticket.ticket_id) == ticket == sandbox.get_ticket(ticket.ticket_id)
    anonymous = client.create_ticket(None, "complaint", "normal", "")
    assert client.get_ticket(anonymous.ticket_id).account_id is None


# --- refusals map to the backend's errors ----------------------------------
@pytest.mark.parametrize("account_id", ["U9999", "", "..", "../U1002", "U1001/balance", "😀", "x" * 100])
def test_unknown_or_impossible_ids_are_not_found(client: HttpBackend, account_id: str) -> None:
    with pytest.raises(NotFound):
        client.get_account(account_id)
    with pytest.raises(NotFound):
        client.get_transaction("U1001", account_id)
    with pytest.raises(NotFound):
        client.get_ticket(account_id)


def test_refusals(client: HttpBackend, sandbox: SandboxBackend) -> None:
    with pytest.raises(NotFound):
        client.get_transaction("U1001", sandbox.list_transactions("U1002")[0].transaction_id)
    with pytest.raises(InvalidRequest, match="same"):
        client.update_contact("U1001", "phone", "13800138000")
    with pytest.raises(InvalidRequest, match="another account"):
        client.update_contact("U1001", "phone", "13912345678")
    with pytest.raises(InvalidRequest):
        client.update_contact("U1001", "password", "x")
    with pytest.raises(InvalidRequest):
        client.send_password_reset("not a contact")
    with pytest.raises(InvalidRequest):
        client.create_ticket(None, "x", "whenever", "x")
    with pytest.raises(InvalidRequest):
        client.list_transactions("U1001", since=datetime(2026, 11, 24))  # no offset


def test_too_many_attempts(client: HttpBackend, sandbox: SandboxBackend) -> None:
    client.send_code("U1001")
    code = _last_code(sandbox, "13800138000")
    wrong = "999999" if code != "999999" else "888888"
    assert not client.verify_code("U1001", wrong) and not client.verify_code("U1001", wrong)
    with pytest.raises(TooManyAttempts):
        client.verify_code("U1001", wrong)
    for _ in range(4):
        client.send_password_reset("13800138000")
    with pytest.raises(TooManyAttempts):
        client.send_password_reset("13800138000")


def test_wrong_api_key_is_unavailable_without_the_key(api_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with (
        HttpBackend(api_url, "wrong-key-7d1e", backoff=0.0) as client,
        pytest.raises(BackendUnavailable) as error,
    ):
        client.update_contact("U1001", "nickname", "secret-nickname")
    assert "API key" in str(error.value)
    for text in ("wrong-key-7d1e", "secret-nickname"):
        assert text not in str(error.value) and text not in caplog.text


# --- faults: down, slow, broken ----------------------------------------------
@pytest.fixture()
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def silent_port() -> Iterator[int]:
    """A port that accepts connections (in the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def test_server_down_is_unavailable_quickly(closed_port: int) -> None:
    started = time.monotonic()
    with HttpBackend(f"http://127.0.0.1:{closed_port}", API_KEY) as client, pytest.raises(BackendUnavailable):
        client.get_balance("U1001")
    assert time.monotonic() - started < 2.0


def test_slow_server_is_unavailable_within_the_timeout(silent_port: int) -> None:
    url = f"http://127.0.0.1:{silent_port}"
    with HttpBackend(url, API_KEY, timeout=0.3, retries=0) as client:
        started = time.monotonic()
        with pytest.raises(BackendUnavailable, match="timeout"):
            client.get_balance("U1001")
        with pytest.raises(BackendUnavailable):
            client.freeze_account("U1001", "lost phone")  # a POST: one attempt only
        assert time.monotonic() - started < 1.5


Plan = list[int | type[httpx.TransportError]]


def _mock(plan: Plan, seen: list[httpx.Request]) -> httpx.MockTransport:
    """Answer each request with the next status (or raise the next transport error)."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = plan[min(len(seen), len(plan)) - 1]
        if isinstance(step, type):
            raise step("simulated", request=request)
        return httpx.Response(step, json={"account_id": "U1001", "balance": "1.00", "currency": "CNY"})

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("plan", "calls"),
    [
        ([503, 502, 200], 3),
        ([httpx.ConnectError, httpx.ReadTimeout, 200], 3),
        ([504], 3),
        ([500], 1),
        ([404], 1),
    ],
)
def test_gets_are_retried_on_transient_failures_only(plan: Plan, calls: int) -> None:
    seen: list[httpx.Request] = []
    with HttpBackend("http://backend.test", API_KEY, transport=_mock(plan, seen), backoff=0.0) as client:
        if plan[-1] == 200:
            assert client.get_balance("U1001") == Decimal("1.00")
        else:
            with pytest.raises(BackendUnavailable):
                client.get_balance("U1001")
    assert len(seen) == calls
    assert seen[0].headers["Authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize("failure", [503, 502, 504, httpx.ConnectError, httpx.ReadTimeout])
def test_posts_are_never_retried(failure: int | type[httpx.TransportError]) -> None:
    seen: list[httpx.Request] = []
    with HttpBackend("http://backend.test", API_KEY, transport=_mock([failure, 200], seen)) as client:
        with pytest.raises(BackendUnavailable):
            client.freeze_account("U1001", "lost phone")
        with pytest.raises(BackendUnavailable):
            client.verify_code("U1001", "123456")
    assert len(seen) == 2
    assert seen[0].headers["Idempotency-Key"] != seen[1].headers["Idempotency-Key"]


def test_secrets_stay_out_of_errors_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echo = httpx.MockTransport(
        lambda request: httpx.Response(
            422, json={"error": {"code": "invalid_request", "message": f"bad {API_KEY}"}}
        )
    )
    with (
        HttpBackend("http://backend.test", API_KEY, transport=echo) as client,
        pytest.raises(InvalidRequest) as refused,
    ):
        client.update_contact("U1001", "address", "上海市秘密路 1 号")
    down = _mock([httpx.ConnectError], [])
    with (
        HttpBackend("http://backend.test", API_KEY, transport=down, backoff=0.0) as client,
        pytest.raises(BackendUnavailable) as unavailable,
    ):
        client.update_contact("U1001", "address", "上海市秘密路 1 号")
    for message in (str(refused.value), str(unavailable.value), caplog.text):
        assert API_KEY not in message and "秘密路" not in message


BROKEN: dict[str, Callable[[httpx.Request], httpx.Response]] = {
    "not_json": lambda r: httpx.Response(200, content=b"{not json"),
    "html": lambda r: httpx.Response(200, content=b"<html>ok</html>", headers={"Content-Type": "text/html"}),
    "wrong_shape": lambda r: httpx.Response(200, json={"account_id": 1001}),
    "bad_money": lambda r: httpx.Response(200, json={"balance": "NaN"}),
    "list": lambda r: httpx.Response(200, json=[1, 2]),
    "proxy_404": lambda r: httpx.Response(404, content=b"<h1>Not Found</h1>"),
    "no_route": lambda r: httpx.Response(404, json={"error": {"code": "no_route", "message": "no"}}),
}


@pytest.mark.parametrize("answer", BROKEN.values(), ids=BROKEN.keys())
def test_malformed_answers_are_unavailable(answer: Callable[[httpx.Request], httpx.Response]) -> None:
    with HttpBackend("http://backend.test", API_KEY, transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(BackendUnavailable):
            client.get_balance("U1001")
        with pytest.raises(BackendUnavailable):
            client.get_account("U1001")


def test_constructor_refuses_bad_settings() -> None:
    for kwargs in ({"api_key": ""}, {"timeout": 0.0}, {"retries": -1}):
        with pytest.raises(ValueError):
            HttpBackend(**{"base_url": "http://backend.test", "api_key": API_KEY, **kwargs})  # type: ignore[arg-type]


# --- the documented contract is what the server serves -----------------------
def test_every_documented_operation_is_served(api_url: str) -> None:
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    documented = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    assert documented == set(ROUTES)
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        for method, path in documented:
            concrete = path.format(account_id="U1001", transaction_id="TX1", ticket_id="T1")
            answer = http.request(method, concrete, json={} if method == "POST" else None)
            assert answer.status_code not in (405, 501), (method, path)
            assert answer.headers["Content-Type"].startswith("application/json")
            if answer.status_code == 404:
                assert answer.json()["error"]["code"] == "not_found", (method, path)
