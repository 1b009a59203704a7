"""A private cluster for the cluster tests and the benchmark: ``scripts/run_cluster.sh`` itself,
on this machine's PostgreSQL and RabbitMQ and a ``redis-server`` of its own, with private
names everywhere, so that nothing collides with anybody else's servers or tests.

- PostgreSQL: a database ``wallet_cluster_test_<random>``, created by the launcher and dropped
  at the end; a fault may cut only its connections.
- Redis: a ``redis-server`` on a free port, which a fault may stop and start again.
- RabbitMQ: a queue and exchange of the database's name, deleted at the end.
- Ports: free ones, the balancer on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from scripts.cluster_db import drop_database
from scripts.cluster_haproxy import HaproxyAdmin
from scripts.cluster_settings import ROOT

PG_SERVER = os.environ.get("CLUSTER_TEST_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")
RABBITMQ = os.environ.get("CLUSTER_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
START_TIMEOUT = 420


def reachable(host: str, port: int) -> bool:
    """Whether something listens at host:port."""
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex((host, port)) == 0


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive free ports on 127.0.0.1."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = int(probe.getsockname()[1])
        if first + count > 65535:
            continue
        try:
            with contextlib.ExitStack() as stack:
                for port in range(first, first + count):
                    sock = stack.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first
    raise RuntimeError("no consecutive free ports")


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.5) -> Any:
    """Poll ``check`` until it returns something true (exceptions count as false).

    Raises:
        AssertionError: not within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            found = check()
            if found:
                return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class PrivateRedis:
    """A redis-server of its own on a free port, nothing kept on disk; can stop and start again."""

    def __init__(self, workdir: Path) -> None:
        """Choose the port; nothing starts yet."""
        self.workdir = workdir
        self.port = free_ports(1)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>`` (no database number)."""
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server and wait until it listens."""
        command = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for(lambda: reachable("127.0.0.1", self.port), 20, "the private redis-server to listen")

    def stop(self) -> None:
        """Stop the server (its data is gone: it keeps nothing)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class PrivateCluster:
    """A running private cluster: the balancer's URL, the instances, the stores behind them."""

    url: str
    ports: dict[str, int]
    var_dir: Path
    db_url: str
    redis: PrivateRedis
    sandbox_db: Path
    event_queue: str
    supervisor: subprocess.Popen[bytes]
    log: Path
    rest_token: str
    seen_pids: set[int] = field(default_factory=set)

    @property
    def admin(self) -> HaproxyAdmin:
        """The balancer's runtime API."""
        return HaproxyAdmin(self.var_dir / "haproxy.sock")

    def instance_url(self, name: str) -> str:
        """One instance's own URL (not through the balancer)."""
        return f"http://127.0.0.1:{self.ports[name]}"

    def pid(self, name: str) -> int | None:
        """The running process of ``name`` (``rasa-1``, ``actions-2``, ``haproxy``), by its PID file."""
        try:
            pid = int((self.var_dir / f"{name}.pid").read_text(encoding="ascii"))
        except (FileNotFoundError, ValueError):
            return None
        self.seen_pids.add(pid)
        return pid

    def state(self, backend: str, server: str) -> str:
        """The balancer's view of a server (``UP``, ``DOWN``, ``MAINT`` ...)."""
        return self.admin.servers().get((backend, server), "")

    def kill(self, name: str) -> int:
        """``kill -9`` of the process; its PID."""
        pid = self.pid(name)
        if pid is None:
            raise RuntimeError(f"{name} has no PID file")
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_rejoined(self, name: str, old_pid: int, timeout: float = 300) -> int:
        """Until the supervisor restarted ``name`` and the balancer counts it UP; the new PID."""
        backend = "be_actions" if name.startswith("actions") else "be_rasa_write"
        health = self.instance_url(name) + ("/health" if name.startswith("actions") else "/webhooks/rest/")

        def back() -> int | None:
            pid = self.pid(name)
            if pid in (None, old_pid) or httpx.get(health, timeout=5).status_code != 200:
                return None  # not restarted, or still loading
            return pid if self.state(backend, name).startswith("UP") else None

        return int(wait_for(back, timeout, f"{name} to restart and rejoin the balancer", every=1))

    def wait_all_up(self, timeout: float = 120) -> None:
        """Until every server is UP in the balancer."""
        wait_for(
            lambda: all(s.startswith("UP") for s in self.admin.servers().values()),
            timeout,
            "every server to be UP in the balancer",
        )

    def stop(self) -> list[int]:
        """Ctrl-C (SIGINT) to the launcher, as an operator would; the PIDs still alive after it
        (killed then)."""
        pids = {p for p in (self.pid(n) for n in [*self.ports, "haproxy"]) if p} | self.seen_pids
        if self.supervisor.poll() is None:
            self.supervisor.send_signal(signal.SIGINT)
            try:
                self.supervisor.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.supervisor.kill()
                self.supervisor.wait()
        alive = []
        for pid in pids:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                continue
            alive.append(pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return alive


def missing_services() -> list[str]:
    """What a private cluster needs and this machine does not have."""
    missing = [tool for tool in ("haproxy", "redis-server") if shutil.which(tool) is None]
    if not reachable("127.0.0.1", 5432):
        missing.append("PostgreSQL on 127.0.0.1:5432")
    if not reachable("127.0.0.1", 5672):
        missing.append("RabbitMQ on 127.0.0.1:5672")
    return missing


def cluster_env(workdir: Path, first_port: int, db_url: str, redis_url: str, queue: str) -> dict[str, str]:
    """The launcher's environment: private ports, stores and names; fixed test secrets."""
    env = {
        **os.environ,
        "CLUSTER_ENV_FILE": os.devnull,
        "CLUSTER_VAR_DIR": str(workdir / "var"),
        "CLUSTER_INSTANCES": "2",
        "CLUSTER_BIND": "127.0.0.1",
        "CLUSTER_PORT": str(first_port),
        "CLUSTER_ACTIONS_PORT": str(first_port + 1),
        "CLUSTER_STATS_PORT": str(first_port + 2),
        "CLUSTER_RASA_BASE_PORT": str(first_port + 3),
        "CLUSTER_ACTIONS_BASE_PORT": str(first_port + 5),
        "CLUSTER_DB_URL": db_url,
        "CLUSTER_REDIS_URL": redis_url,
        "CLUSTER_EVENT_BROKER_URL": RABBITMQ,
        "CLUSTER_EVENT_QUEUE": queue,
        "CLUSTER_START_TIMEOUT": str(START_TIMEOUT),
        "WALLET_BACKEND": "sandbox",
        "WALLET_SANDBOX_DB": str(workdir / "wallet.db"),
        "IDENTITY_SECRET": "cluster-test-identity-secret",
        "REST_CHANNEL_TOKEN": f"cluster-test-{uuid.uuid4().hex}",
        "WIDGET_SESSION_SECRET": "cluster-test-widget-session-secret-0123456789",
        "WIDGET_DEMO_IDENTITY": "0",
        "HANDOFF_AGENT_HOURS": "00:00-24:00",
        "HANDOFF_MAX_WAIT_SECONDS": "600",
        "HANDOFF_COOKIE_SECURE": "false",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    for name in ("WALLET_SANDBOX_FIXED_CODE", "HANDOFF_DB_URL", "CHANNEL_STATE_URL", "SOCKETIO_REDIS_URL"):
        env.pop(name, None)
    return env


def start_private_cluster(workdir: Path, extra_env: dict[str, str] | None = None) -> PrivateCluster:
    """Start a private Redis and the launcher, and wait for its banner (everything UP).

    Raises:
        RuntimeError: the launcher exited or did not start in time (the private parts are
            cleaned up first).
    """
    queue = f"wallet_cluster_test_{uuid.uuid4().hex[:10]}"
    db_url = f"{PG_SERVER}/{queue}"
    redis = PrivateRedis(workdir)
    redis.start()
    first = free_ports(7)
    env = {**cluster_env(workdir, first, db_url, redis.url, queue), **(extra_env or {})}
    log = workdir / "supervisor.log"
    supervisor = subprocess.Popen(
        [str(ROOT / "scripts" / "run_cluster.sh")],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    ports = {"rasa-1": first + 3, "rasa-2": first + 4, "actions-1": first + 5, "actions-2": first + 6}
    cluster = PrivateCluster(
        f"http://127.0.0.1:{first}", ports, workdir / "var", db_url, redis, workdir / "wallet.db", queue,
        supervisor, log, env["REST_CHANNEL_TOKEN"],
    )  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT + 30
    try:
        while "cluster is running" not in log.read_text(errors="replace"):
            if supervisor.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the cluster did not start: {log.read_text(errors='replace')[-3000:]}")
            time.sleep(1)
    except BaseException:
        cleanup(cluster)
        raise
    return cluster


def cleanup(cluster: PrivateCluster) -> list[int]:
    """Stop the cluster (Ctrl-C) and remove everything private; the PIDs left alive by the stop."""
    alive = cluster.stop()
    cluster.redis.stop()
    with contextlib.suppress(Exception):
        drop_database(cluster.db_url)
    _delete_queue(cluster.event_queue)
    return alive


def _delete_queue(name: str) -> None:
    import aio_pika

    async def delete() -> None:
        connection = await aio_pika.connect(RABBITMQ, timeout=10)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(name)
            await channel.exchange_delete(name)

    with contextlib.suppress(Exception):
        asyncio.run(delete())
