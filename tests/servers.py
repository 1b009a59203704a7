"""Start the action server and the Rasa server as real processes for tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
IDENTITY_SECRET = "server-test-secret"
REST_TOKEN = "server-test-rest-token"
REST_HEADERS = {"Authorization": f"Bearer {REST_TOKEN}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Servers:
    """Running servers: the Rasa server's base URL and the processes."""

    rasa_url: str
    actions_url: str
    processes: list[subprocess.Popen[bytes]]
    logs: Path
    sandbox_db: Path
    rasa_command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    actions_command: list[str] = field(default_factory=list)

    def stop_actions(self) -> None:
        """Kill the action server (the Rasa server stays)."""
        actions = self.processes[0]
        actions.kill()
        actions.wait(timeout=30)

    def start_actions(self) -> None:
        """Start the action server again on its port."""
        log = self.logs / "actions-restarted.log"
        self.processes[0] = subprocess.Popen(
            self.actions_command, cwd=ROOT, env=self.env, stdout=log.open("wb"), stderr=subprocess.STDOUT
        )
        _wait(f"{self.actions_url}/health", self.processes[0], log)

    def restart_rasa(self) -> None:
        """Stop the Rasa server and start it again on the same port (the action server stays)."""
        rasa = self.processes[1]
        rasa.send_signal(signal.SIGTERM)
        try:
            rasa.wait(timeout=30)
        except subprocess.TimeoutExpired:
            rasa.kill()
        log = self.logs / "rasa-restarted.log"
        self.processes[1] = subprocess.Popen(
            self.rasa_command, cwd=ROOT, env=self.env, stdout=log.open("wb"), stderr=subprocess.STDOUT
        )
        _wait(f"{self.rasa_url}/webhooks/rest/", self.processes[1], log)

    @property
    def handoff_db_url(self) -> str:
        """The handoff store both servers use."""
        return f"sqlite:///{self.logs / 'handoff.db'}"

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"server did not start in {timeout}s: {log.read_text(errors='replace')[-3000:]}")


def start_servers(workdir: Path, model: Path, extra_env: dict[str, str] | None = None) -> Servers:
    """Start both servers on free ports with a private SQLite tracker store; ``extra_env``
    adds to (or overrides) their environment (a channel's settings, say)."""
    rasa_port, actions_port = free_port(), free_port()
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{actions_port}/webhook"
    endpoints["tracker_store"]["db"] = str(workdir / "trackers.db")
    (workdir / "endpoints.yml").write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        # the logs are files the tests read while the servers run: written as they happen, not
        # in blocks a test may read before they are flushed
        "PYTHONUNBUFFERED": "1",
        "WALLET_BACKEND": "sandbox",
        "WALLET_SANDBOX_DB": str(workdir / "wallet.db"),
        "IDENTITY_SECRET": IDENTITY_SECRET,
        "REST_CHANNEL_TOKEN": REST_TOKEN,
        "WIDGET_SESSION_SECRET": "server-test-widget-session-secret-0123456789",
        "HANDOFF_DB_URL": f"sqlite:///{workdir / 'handoff.db'}",
        "HANDOFF_AGENT_HOURS": "00:00-23:59",
        "HANDOFF_MAX_WAIT_SECONDS": "600",
        "CHANNEL_STATE_URL": f"sqlite:///{workdir / 'channel_state.db'}",
        **(extra_env or {}),
    }
    env.pop("WALLET_SANDBOX_FIXED_CODE", None)
    bin_dir = Path(sys.executable).parent
    actions_log, rasa_log = workdir / "actions.log", workdir / "rasa.log"
    actions_command = [
        str(bin_dir / "rasa"),
        "run",
        "actions",
        "--actions",
        "actions",
        "--port",
        str(actions_port),
    ]
    actions = subprocess.Popen(
        actions_command,
        cwd=ROOT,
        env=env,
        stdout=actions_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    rasa_command = [
        sys.executable,
        "-m",
        "bot.server",
        "run",
        "--model",
        str(model),
        "--endpoints",
        str(workdir / "endpoints.yml"),
        "--credentials",
        "credentials.yml",
        "--port",
        str(rasa_port),
    ]
    rasa = subprocess.Popen(
        rasa_command,
        cwd=ROOT,
        env=env,
        stdout=rasa_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    servers = Servers(
        f"http://127.0.0.1:{rasa_port}",
        f"http://127.0.0.1:{actions_port}",
        [actions, rasa],
        workdir,
        workdir / "wallet.db",
        rasa_command,
        env,
        actions_command,
    )
    try:
        _wait(f"{servers.actions_url}/health", actions, actions_log)
        _wait(f"{servers.rasa_url}/webhooks/rest/", rasa, rasa_log)
    except Exception:
        servers.stop()
        raise
    return servers
