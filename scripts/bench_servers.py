"""The benchmark's processes: the stock moodbot's ``rasa run`` and the project's action server and
Rasa server, each in its own process group on free ports, all stopped by ``Processes.stop_all``;
resident memory read from /proc, children included.

The project is started as ``tests/servers.py`` starts it (private SQLite stores, the sandbox
backend, test secrets), with one difference: the REST channel's per-sender rate limit is raised
in a private copy of ``credentials.yml``, or the long conversation would be refused after 30
messages a minute. ``project_rasa_command`` is the one place that says how the project's Rasa
server is started.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from scripts.bench_stock import STOCK_DIR, VENV_BIN, stock_env
from scripts.cluster_settings import ROOT

REST_SECTION = "bot.channels.rest.GuardedRestInput"
BENCH_RATE_LIMIT = 1_000_000
STOP_TIMEOUT = 20.0


def free_port() -> int:
    """A port nobody listens on at 127.0.0.1, now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    """A started server: its name, process, log and when it was started (monotonic)."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    started: float
    command: list[str]

    def alive(self) -> bool:
        """Still running."""
        return self.popen.poll() is None

    def tail(self, chars: int = 2000) -> str:
        """The end of its log."""
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]


@dataclass
class Processes:
    """Every process the benchmark started, each the leader of its own process group."""

    started: list[Process] = field(default_factory=list)

    def start(self, name: str, command: list[str], cwd: Path, env: dict[str, str], log: Path) -> Process:
        """Start ``command`` in a new session (so its children are stopped with it)."""
        with log.open("wb") as out:
            popen = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        process = Process(name, popen, log, time.monotonic(), command)
        self.started.append(process)
        return process

    def stop(self, process: Process) -> None:
        """SIGTERM to its group, SIGKILL after ``STOP_TIMEOUT`` seconds."""
        _signal_group(process.popen.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(timeout=STOP_TIMEOUT)
        _signal_group(process.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(timeout=5)
        if process in self.started:
            self.started.remove(process)

    def stop_all(self) -> None:
        """Stop every process still known, the last started first."""
        for process in reversed(list(self.started)):
            self.stop(process)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def parse_stat(stat: str) -> tuple[int, int]:
    """(pid, parent pid) from a /proc/<pid>/stat line (the command may hold spaces and ")")."""
    pid = int(stat.split(" ", 1)[0])
    after = stat[stat.rindex(")") + 2 :].split()
    return pid, int(after[1])


def descendants(root: int, parents: dict[int, int]) -> set[int]:
    """``root`` and every process below it, from a pid → parent pid map."""
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def rss_bytes(root: int) -> int:
    """Resident memory of ``root`` and its children (VmRSS from /proc), in bytes."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid, parent = parse_stat(stat.read_text(encoding="utf-8", errors="replace"))
            parents[pid] = parent
    total = 0
    for pid in descendants(root, parents):
        with contextlib.suppress(OSError):
            for line in (
                Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace").splitlines()
            ):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def stock_rasa_command(model: Path, port: int) -> list[str]:
    """Plain ``rasa run`` of the moodbot (in-memory tracker store, no action server)."""
    return [
        str(VENV_BIN / "rasa"), "run", "--model", str(model), "--endpoints", "endpoints.yml",
        "--credentials", "credentials.yml", "--interface", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip


def start_stock(processes: Processes, model: Path, workdir: Path) -> tuple[Process, str]:
    """The stock Rasa server; it and its URL."""
    port = free_port()
    process = processes.start(
        "stock-rasa", stock_rasa_command(model, port), STOCK_DIR, stock_env(), workdir / "stock-rasa.log"
    )
    return process, f"http://127.0.0.1:{port}"


def project_rasa_command(model: Path, endpoints: Path, credentials: Path, port: int) -> list[str]:
    """How the project's Rasa server starts: ``python -m bot.server run`` once ``bot/server.py``
    exists, ``rasa run`` before; the same options either way."""
    options = [
        "--model", str(model), "--endpoints", str(endpoints), "--credentials", str(credentials),
        "--interface", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    if (ROOT / "bot" / "server.py").exists():
        return [str(VENV_BIN / "python"), "-m", "bot.server", "run", *options]
    return [str(VENV_BIN / "rasa"), "run", *options]


def project_actions_command(port: int) -> list[str]:
    """The project's action server, as scripts/run.sh starts it."""
    return [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(port)]


@dataclass(frozen=True)
class ProjectConfig:
    """The private files and environment of one project run."""

    endpoints: Path
    credentials: Path
    env: dict[str, str]
    token: str


def project_config(workdir: Path, actions_port: int) -> ProjectConfig:
    """Private copies of endpoints.yml (this action server, a private SQLite tracker store) and
    credentials.yml (a rate limit the long conversation does not hit), and the environment of
    tests/servers.py with a fresh REST token."""
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{actions_port}/webhook"
    store = endpoints.get("tracker_store") or {}
    if store.get("dialect", "sqlite") == "sqlite" and "db" in store:
        store["db"] = str(workdir / "trackers.db")
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    credentials[REST_SECTION] = {
        **(credentials.get(REST_SECTION) or {}),
        "rate_limit_per_minute": BENCH_RATE_LIMIT,
    }
    endpoints_path, credentials_path = workdir / "endpoints.yml", workdir / "credentials.yml"
    endpoints_path.write_text(yaml.safe_dump(endpoints, allow_unicode=True), encoding="utf-8")
    credentials_path.write_text(yaml.safe_dump(credentials, allow_unicode=True), encoding="utf-8")
    token = secrets.token_urlsafe(24)
    env = {
        **stock_env(),
        "WALLET_BACKEND": "sandbox",
        "WALLET_SANDBOX_DB": str(workdir / "wallet.db"),
        "IDENTITY_SECRET": secrets.token_hex(32),
        "REST_CHANNEL_TOKEN": token,
        "WIDGET_SESSION_SECRET": secrets.token_urlsafe(32),
        "WIDGET_DEMO_IDENTITY": "0",
        "HANDOFF_DB_URL": f"sqlite:///{workdir / 'handoff.db'}",
        "HANDOFF_AGENT_HOURS": "00:00-23:59",
        "CHANNEL_STATE_URL": f"sqlite:///{workdir / 'channel_state.db'}",
    }
    for name in ("WALLET_SANDBOX_FIXED_CODE", "SOCKETIO_REDIS_URL"):
        env.pop(name, None)
    return ProjectConfig(endpoints_path, credentials_path, env, token)


def wait_http(url: str, process: Process, timeout: float) -> float:
    """Seconds from the process's start until ``url`` answers 200.

    Raises:
        RuntimeError: it exited, or did not answer in time.
    """
    while time.monotonic() - process.started < timeout:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return time.monotonic() - process.started
        time.sleep(0.2)
    raise RuntimeError(f"{process.name} did not start within {timeout:.0f} s:\n{process.tail()}")


def start_project(
    processes: Processes, model: Path, workdir: Path, timeout: float
) -> tuple[Process, Process, str, ProjectConfig, float]:
    """The action server (waited for first, so it does not share the CPU with the Rasa server's
    start), then the Rasa server. The Rasa server, the action server, the Rasa URL, the
    configuration and the action server's seconds to ready."""
    actions_port, rasa_port = free_port(), free_port()
    config = project_config(workdir, actions_port)
    actions = processes.start(
        "project-actions", project_actions_command(actions_port), ROOT, config.env, workdir / "actions.log"
    )
    actions_ready = wait_http(f"http://127.0.0.1:{actions_port}/health", actions, timeout)
    command = project_rasa_command(model, config.endpoints, config.credentials, rasa_port)
    rasa = processes.start("project-rasa", command, ROOT, config.env, workdir / "rasa.log")
    return rasa, actions, f"http://127.0.0.1:{rasa_port}", config, actions_ready
