"""The reference wallet API server, running for real on a free localhost port over a sandbox."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from actions.backend.api_server import WalletApiServer
from actions.backend.http_client import HttpBackend
from actions.backend.sandbox import CHINA_TZ, SandboxBackend

NOW = datetime(2026, 11, 25, 10, 30, tzinfo=CHINA_TZ)
API_KEY = "test-key-5f2c9a"


@pytest.fixture()
def sandbox(tmp_path: Path) -> SandboxBackend:
    backend = SandboxBackend(tmp_path / "wallet.db")
    backend.reseed(NOW)
    return backend


@pytest.fixture()
def api_url(sandbox: SandboxBackend) -> Iterator[str]:
    """Base URL of the reference server over ``sandbox``, served from a thread."""
    server = WalletApiServer(("127.0.0.1", 0), sandbox, API_KEY)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture()
def client(api_url: str) -> Iterator[HttpBackend]:
    with HttpBackend(api_url, API_KEY, timeout=2.0, backoff=0.0) as backend:
        yield backend
