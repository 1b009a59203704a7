"""Run the cluster (``make run-cluster``): HAProxy, ``CLUSTER_INSTANCES`` action servers and
Rasa servers on the shared services, each restarted when it dies; Ctrl-C (or SIGTERM) stops
them all, the Rasa servers first.

Started by scripts/run_cluster.sh (which installs HAProxy when missing); the settings are
those of scripts/cluster_settings.py. Writes under ``CLUSTER_VAR_DIR`` (``var/cluster``):
``endpoints.yml`` and ``haproxy.cfg`` (rendered), ``<name>.pid`` for every running process
(and ``supervisor.pid``), ``logs/<name>.log``, the development secrets it made.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import signal
import sys
import time
from pathlib import Path

import httpx

from scripts.cluster_db import ensure_database
from scripts.cluster_haproxy import HaproxyAdmin, render
from scripts.cluster_processes import ProcessSpec, Supervised
from scripts.cluster_settings import ROOT, ClusterSettings, ClusterSettingsError

logger = logging.getLogger("cluster")
BROKER_MARKER = "# --- optional: the event broker"
BIN = Path(sys.executable).parent


def render_endpoints(template: str, with_broker: bool) -> str:
    """The endpoints file from its template: the event broker's section kept or cut off."""
    if with_broker or BROKER_MARKER not in template:
        return template
    return template[: template.index(BROKER_MARKER)].rstrip() + "\n"


def _secret(env: dict[str, str], name: str, path: Path, make: str = "hex") -> str:
    """The variable's value, else a development value kept in ``path`` (made once, 0600)."""
    if env.get(name, "").strip():
        return env[name].strip()
    if not path.is_file() or not path.read_text(encoding="ascii").strip():
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(32) if make == "hex" else secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(value + "\n")
    return path.read_text(encoding="ascii").strip()


def server_environment(settings: ClusterSettings) -> dict[str, str]:
    """The environment of every server: the operator's, the derived settings, the secrets."""
    env = {**settings.environ, **settings.server_env()}
    secrets_dir = settings.var_dir / "secrets"
    env["IDENTITY_SECRET"] = _secret(env, "IDENTITY_SECRET", secrets_dir / "identity_secret")
    env["REST_CHANNEL_TOKEN"] = _secret(env, "REST_CHANNEL_TOKEN", secrets_dir / "rest_token", "url")
    env["WIDGET_SESSION_SECRET"] = _secret(
        env, "WIDGET_SESSION_SECRET", secrets_dir / "widget_session_secret", "url"
    )
    env.setdefault("WIDGET_DEMO_IDENTITY", "1")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def process_specs(settings: ClusterSettings, env: dict[str, str]) -> list[ProcessSpec]:
    """HAProxy (when this machine balances), then the action servers, then the Rasa servers."""
    var, logs = settings.var_dir, settings.var_dir / "logs"
    specs: list[ProcessSpec] = []
    if settings.balancer:
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        specs.append(
            ProcessSpec(
                "haproxy",
                [haproxy, "-db", "-f", str(settings.haproxy_config)],
                env,
                ROOT,
                logs / "haproxy.log",
                var / "haproxy.pid",
                port=settings.public_port,
                stop_timeout=10,
            )
        )
    for i, port in enumerate(settings.action_ports, start=1):
        specs.append(
            ProcessSpec(
                f"actions-{i}",
                [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(port)],
                {**env, "WALLET_INSTANCE": f"actions-{i}"},
                ROOT,
                logs / f"actions-{i}.log",
                var / f"actions-{i}.pid",
                f"http://127.0.0.1:{port}/health",
                port,
            )
        )
    for i, port in enumerate(settings.rasa_ports, start=1):
        command = [
            str(BIN / "python"),
            "-m",
            "bot.server",
            "run",
            "--model",
            str(settings.model),
            "--endpoints",
            str(settings.endpoints),
            "--credentials",
            str(settings.credentials),
            "--port",
            str(port),
            "--interface",
            settings.instance_bind,
        ]
        specs.append(
            ProcessSpec(
                f"rasa-{i}",
                command,
                {**env, "WALLET_INSTANCE": f"rasa-{i}"},
                ROOT,
                logs / f"rasa-{i}.log",
                var / f"rasa-{i}.pid",
                f"http://127.0.0.1:{port}/webhooks/rest/",
                port,
                stop_timeout=30,
            )
        )
    return specs


def prepare(settings: ClusterSettings) -> None:
    """Check what must exist, create the database, render the configuration files.

    Raises:
        ClusterSettingsError: something the cluster needs is missing or wrong.
    """
    if not settings.model.is_file():
        raise ClusterSettingsError(f"no trained model at {settings.model}: run `make train`")
    if settings.balancer and shutil.which("haproxy") is None:
        raise ClusterSettingsError("HAProxy is not installed: run deploy/install_haproxy.sh")
    try:
        if ensure_database(settings.database.url):
            logger.info("created the database %s", settings.database.name)
    except Exception as error:  # the driver's errors carry the URL's details: say only what failed
        raise ClusterSettingsError(
            f"PostgreSQL at {settings.database.host}:{settings.database.port} is not reachable "
            f"or refused to create the database ({type(error).__name__})"
        ) from error
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    (settings.var_dir / "logs").mkdir(exist_ok=True)
    template = settings.endpoints_template.read_text(encoding="utf-8")
    settings.endpoints.write_text(
        render_endpoints(template, bool(settings.event_broker_url)), encoding="utf-8"
    )
    if settings.balancer:
        settings.haproxy_config.write_text(render(settings), encoding="utf-8")


async def _healthy(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=3) as client:
            return (await client.get(url)).status_code == 200
    except httpx.HTTPError:
        return False


async def wait_until_ready(settings: ClusterSettings, running: list[Supervised]) -> bool:
    """Every local server answers its health URL and the balancer counts it UP; False on timeout."""
    deadline = time.monotonic() + settings.start_timeout
    admin = HaproxyAdmin(settings.haproxy_socket)
    pending = {s.spec.name: s.spec.health_url for s in running if s.spec.health_url}
    while time.monotonic() < deadline:
        for name, url in list(pending.items()):
            if url and await _healthy(url):
                logger.info("%s is up", name)
                del pending[name]
        if not pending:
            if not settings.balancer:
                return True
            with contextlib.suppress(OSError):
                states = admin.servers()
                if all(
                    state.startswith("UP")
                    for (backend, _), state in states.items()
                    if backend != "be_socketio"
                ):
                    return True
        await asyncio.sleep(1)
    logger.error("not up in time: %s", ", ".join(pending) or "the balancer's health checks")
    return False


def banner(settings: ClusterSettings, running: list[Supervised], env: dict[str, str]) -> str:
    """What the operator needs: the public URLs, every instance's port and PID file."""
    public = f"http://localhost:{settings.public_port}"
    db = settings.database
    lines = ["", "  联合钱包 assistant cluster is running.", ""]
    if settings.balancer:
        lines += [
            f"  Balancer:       {public}  (HAProxy; stats http://127.0.0.1:{settings.stats_port}/stats,"
            f" Prometheus /metrics)",
            f"  Chat widget:    {public}/widget/demo.html",
            f"  Agent console:  {public}/console/",
            f"  REST webhook:   {public}/webhooks/rest/webhook"
            f"  (bearer token: REST_CHANNEL_TOKEN, else {settings.var_dir}/secrets/rest_token)",
            f"  Action servers: http://127.0.0.1:{settings.actions_port}/webhook (balanced)",
        ]
    lines.append("  Instances:")
    for supervised in running:
        spec = supervised.spec
        port = f"port {spec.port}" if spec.port else ""
        lines.append(
            f"    {spec.name:<10} {port:<11} pid {supervised.pid}  ({spec.pid_file}, log {spec.log})"
        )
    lines += [
        f"  Stores:         PostgreSQL {db.host}:{db.port}/{db.name},"
        f" Redis {settings.redis.host}:{settings.redis.port}"
        + (f", events to RabbitMQ queue {settings.event_queue}" if settings.event_broker_url else ""),
        "  Demo sign-in:   "
        + (
            "on (WIDGET_DEMO_IDENTITY): never in production"
            if env.get("WIDGET_DEMO_IDENTITY") == "1"
            else "off"
        ),
        "  Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)


async def run(settings: ClusterSettings) -> int:
    """Start everything, print the banner, supervise until SIGINT/SIGTERM; the exit code."""
    prepare(settings)
    env = server_environment(settings)
    (settings.var_dir / "supervisor.pid").write_text(f"{os.getpid()}\n", encoding="ascii")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    running = [Supervised(spec) for spec in process_specs(settings, env)]
    for supervised in running:
        supervised.start()
    code = 0
    try:
        ready = asyncio.create_task(wait_until_ready(settings, running))
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({ready, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if ready.done() and ready.result():
            print(banner(settings, running, env), flush=True)
            await stop.wait()
        elif ready.done():
            logger.error(
                "the cluster did not start within %d s; see %s",
                settings.start_timeout,
                settings.var_dir / "logs",
            )
            code = 1
        ready.cancel()
        stopped.cancel()
    finally:
        logger.info("stopping the cluster")
        for group in ("rasa-", "actions-", "haproxy"):
            await asyncio.gather(*(s.stop() for s in running if s.spec.name.startswith(group)))
        with contextlib.suppress(FileNotFoundError):
            (settings.var_dir / "supervisor.pid").unlink()
        print("stopped.", flush=True)
    return code


def main() -> int:
    """Entry point: ``python -m scripts.cluster_supervisor``."""
    logging.basicConfig(level=logging.INFO, format="cluster: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        settings = ClusterSettings.from_env()
        return asyncio.run(run(settings))
    except ClusterSettingsError as error:
        print(f"cluster: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
