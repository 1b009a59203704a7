"""The cluster's settings (``make run-cluster``), read once from the environment and an env
file, validated at start.

The environment wins over the env file (``CLUSTER_ENV_FILE``, default ``deploy/cluster.env``;
the documented template is ``deploy/cluster.env.example``), which wins over the defaults. The
defaults run the whole cluster on this machine: PostgreSQL, Redis and the balancer on
127.0.0.1, the balancer where ``make run`` listens (5005).

The servers' own settings (tracker store, lock store, handoff store, channel state, the
socket.io manager, the event broker) are derived from three URLs, ``CLUSTER_DB_URL``,
``CLUSTER_REDIS_URL`` and ``CLUSTER_EVENT_BROKER_URL``; each derived variable that is already
set in the environment (``HANDOFF_DB_URL``, ``CHANNEL_STATE_URL``, ...) is kept as it is.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ENV_FILE = "deploy/cluster.env"
_HOST_PORT = re.compile(r"[A-Za-z0-9._-]{1,253}:[0-9]{1,5}")
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
_ENV_LINE = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)")


class ClusterSettingsError(ValueError):
    """A cluster setting has a bad value."""


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (``#`` comments, optional ``export`` and quotes); no expansion.

    Raises:
        ClusterSettingsError: a line that is neither blank, a comment nor an assignment.
    """
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ENV_LINE.fullmatch(line)
        if match is None:
            raise ClusterSettingsError(f"{path}:{number}: not a KEY=VALUE line")
        value = match[2].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[match[1]] = value
    return values


def merged_environment(environ: Mapping[str, str], root: Path = ROOT) -> dict[str, str]:
    """The environment over the env file (``CLUSTER_ENV_FILE``; a missing default file is fine)."""
    name = environ.get("CLUSTER_ENV_FILE", "").strip()
    path = Path(name or DEFAULT_ENV_FILE)
    path = path if path.is_absolute() else root / path
    if not path.is_file():
        if name and name != os.devnull:
            raise ClusterSettingsError(f"CLUSTER_ENV_FILE: no such file: {name}")
        return dict(environ)
    return {**read_env_file(path), **environ}


@dataclass(frozen=True)
class RedisTarget:
    """One Redis server, as Rasa's lock store wants it (host, port, password, TLS)."""

    host: str
    port: int
    password: str
    tls: bool

    def url(self, db: int) -> str:
        """``redis://[:password@]host:port/db``."""
        auth = f":{self.password}@" if self.password else ""
        return f"{'rediss' if self.tls else 'redis'}://{auth}{self.host}:{self.port}/{db}"


@dataclass(frozen=True)
class DatabaseTarget:
    """The PostgreSQL database of the tracker store and the handoff store."""

    url: str
    host: str
    port: int
    name: str
    user: str
    password: str


@dataclass(frozen=True)
class ClusterSettings:
    """Everything the launcher is configured with (see deploy/cluster.env.example)."""

    instances: int = 2
    public_bind: str = "0.0.0.0"
    public_port: int = 5005
    instance_bind: str = "127.0.0.1"
    rasa_base_port: int = 5010
    actions_base_port: int = 5060
    actions_port: int = 5055
    stats_port: int = 8404
    balancer: bool = True
    extra_rasa: tuple[str, ...] = ()
    extra_actions: tuple[str, ...] = ()
    var_dir: Path = ROOT / "var" / "cluster"
    model: Path = ROOT / "models" / "wallet.tar.gz"
    endpoints_template: Path = ROOT / "endpoints.cluster.yml"
    credentials: Path = ROOT / "credentials.yml"
    database: DatabaseTarget = field(
        default_factory=lambda: _database("postgresql://postgres@127.0.0.1:5432/wallet_cluster")
    )
    redis: RedisTarget = field(default_factory=lambda: _redis("redis://127.0.0.1:6379"))
    event_broker_url: str = ""
    event_queue: str = "wallet_events"
    start_timeout: int = 300
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, root: Path = ROOT) -> ClusterSettings:
        """Read the settings; raises ClusterSettingsError on a bad value."""
        env = merged_environment(os.environ if environ is None else environ, root)
        instances = _integer(env, "CLUSTER_INSTANCES", 2, 0, 16)
        extra_rasa = _servers(env, "CLUSTER_EXTRA_RASA_SERVERS")
        if instances == 0 and not extra_rasa:
            raise ClusterSettingsError("CLUSTER_INSTANCES is 0 and CLUSTER_EXTRA_RASA_SERVERS is empty")
        settings = cls(
            instances=instances,
            public_bind=_address(env, "CLUSTER_BIND", "0.0.0.0"),
            public_port=_integer(env, "CLUSTER_PORT", 5005, 1, 65535),
            instance_bind=_address(env, "CLUSTER_INSTANCE_BIND", "127.0.0.1"),
            rasa_base_port=_integer(env, "CLUSTER_RASA_BASE_PORT", 5010, 1, 65535 - instances),
            actions_base_port=_integer(env, "CLUSTER_ACTIONS_BASE_PORT", 5060, 1, 65535 - instances),
            actions_port=_integer(env, "CLUSTER_ACTIONS_PORT", 5055, 1, 65535),
            stats_port=_integer(env, "CLUSTER_STATS_PORT", 8404, 1, 65535),
            balancer=_boolean(env, "CLUSTER_BALANCER", True),
            extra_rasa=extra_rasa,
            extra_actions=_servers(env, "CLUSTER_EXTRA_ACTION_SERVERS"),
            var_dir=_path(env, "CLUSTER_VAR_DIR", "var/cluster", root),
            model=_path(env, "CLUSTER_MODEL", "models/wallet.tar.gz", root),
            endpoints_template=_path(env, "CLUSTER_ENDPOINTS", "endpoints.cluster.yml", root),
            credentials=_path(env, "CLUSTER_CREDENTIALS", "credentials.yml", root),
            database=_database(
                env.get("CLUSTER_DB_URL", "").strip() or "postgresql://postgres@127.0.0.1:5432/wallet_cluster"
            ),
            redis=_redis(env.get("CLUSTER_REDIS_URL", "").strip() or "redis://127.0.0.1:6379"),
            event_broker_url=env.get("CLUSTER_EVENT_BROKER_URL", "").strip(),
            event_queue=_name(env, "CLUSTER_EVENT_QUEUE", "wallet_events"),
            start_timeout=_integer(env, "CLUSTER_START_TIMEOUT", 300, 10, 3600),
            environ=env,
        )
        settings._check_ports()
        if settings.event_broker_url:
            _amqp(settings.event_broker_url)
        return settings

    def _check_ports(self) -> None:
        ports = [*self.rasa_ports, *self.action_ports]
        if self.balancer:
            ports += [self.public_port, self.actions_port, self.stats_port]
        if len(set(ports)) != len(ports):
            raise ClusterSettingsError("the cluster's ports overlap (CLUSTER_*_PORT settings)")

    @property
    def rasa_ports(self) -> list[int]:
        """The local Rasa servers' ports, one per instance."""
        return [self.rasa_base_port + i for i in range(self.instances)]

    @property
    def action_ports(self) -> list[int]:
        """The local action servers' ports, one per instance."""
        return [self.actions_base_port + i for i in range(self.instances)]

    @property
    def endpoints(self) -> Path:
        """The endpoints file the Rasa servers read (rendered from the template)."""
        return self.var_dir / "endpoints.yml"

    @property
    def haproxy_config(self) -> Path:
        """The balancer's configuration (rendered)."""
        return self.var_dir / "haproxy.cfg"

    @property
    def haproxy_socket(self) -> Path:
        """The balancer's runtime API (``show stat``, ``set server``)."""
        return self.var_dir / "haproxy.sock"

    def server_env(self) -> dict[str, str]:
        """The variables both kinds of servers get on top of the environment.

        A derived variable already set in the environment or the env file is kept.
        """
        db, redis = self.database, self.redis
        derived = {
            "TRACKER_DB_HOST": db.host,
            "TRACKER_DB_PORT": str(db.port),
            "TRACKER_DB_NAME": db.name,
            "TRACKER_DB_USER": db.user,
            "TRACKER_DB_PASSWORD": db.password,
            "HANDOFF_DB_URL": db.url,
            "LOCK_STORE_HOST": redis.host,
            "LOCK_STORE_PORT": str(redis.port),
            "LOCK_STORE_PASSWORD": redis.password,
            "LOCK_STORE_DB": "1",
            "CHANNEL_STATE_URL": redis.url(2),
            "SOCKETIO_REDIS_URL": redis.url(3),
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
            "HANDOFF_RETRY_DIR": str(self.var_dir / "handoff_retry"),
            "POSTGRESQL_POOL_SIZE": "5",
            "POSTGRESQL_MAX_OVERFLOW": "10",
        }
        if self.event_broker_url:
            broker = _amqp(self.event_broker_url)
            derived |= {
                "EVENT_BROKER_HOST": broker[0],
                "EVENT_BROKER_PORT": str(broker[1]),
                "EVENT_BROKER_USER": broker[2],
                "EVENT_BROKER_PASSWORD": broker[3],
                "EVENT_BROKER_QUEUE": self.event_queue,
            }
        return {key: self.environ.get(key, "").strip() or value for key, value in derived.items()}


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not low <= int(raw) <= high:
        raise ClusterSettingsError(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in _TRUE + _FALSE:
        raise ClusterSettingsError(f"{name} must be on or off")
    return raw in _TRUE


def _address(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip() or default
    if not re.fullmatch(r"[0-9.]{7,15}|[A-Za-z0-9.-]{1,253}|\[[0-9a-fA-F:]+\]", raw):
        raise ClusterSettingsError(f"{name} must be an address to listen on (0.0.0.0, 127.0.0.1, ...)")
    return raw


def _servers(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    listed = tuple(s.strip() for s in env.get(name, "").split(",") if s.strip())
    for server in listed:
        if not _HOST_PORT.fullmatch(server):
            raise ClusterSettingsError(f"{name} must be a comma-separated list of host:port")
    return listed


def _path(env: Mapping[str, str], name: str, default: str, root: Path) -> Path:
    raw = env.get(name, "").strip() or default
    if "\x00" in raw:
        raise ClusterSettingsError(f"{name} must be a path")
    path = Path(raw)
    return path if path.is_absolute() else root / path


def _name(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip() or default
    if not _NAME.fullmatch(raw):
        raise ClusterSettingsError(f"{name} must be lower-case letters, digits and _")
    return raw


def _database(url: str) -> DatabaseTarget:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgresql", "postgresql+psycopg2") or not parts.hostname:
        raise ClusterSettingsError("CLUSTER_DB_URL must be a postgresql://user@host:port/database URL")
    if not _NAME.fullmatch(name):
        raise ClusterSettingsError("CLUSTER_DB_URL: the database name must be lower-case letters, digits, _")
    try:
        port = parts.port or 5432
    except ValueError as error:
        raise ClusterSettingsError("CLUSTER_DB_URL has a bad port") from error
    return DatabaseTarget(
        url=url,
        host=parts.hostname,
        port=port,
        name=name,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
    )


def _redis(url: str) -> RedisTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname or parts.path.strip("/"):
        raise ClusterSettingsError("CLUSTER_REDIS_URL must be redis://[:password@]host:port (no database)")
    try:
        port = parts.port or 6379
    except ValueError as error:
        raise ClusterSettingsError("CLUSTER_REDIS_URL has a bad port") from error
    return RedisTarget(parts.hostname, port, unquote(parts.password or ""), parts.scheme == "rediss")


def _amqp(url: str) -> tuple[str, int, str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("amqp", "amqps") or not parts.hostname:
        raise ClusterSettingsError("CLUSTER_EVENT_BROKER_URL must be amqp://user:password@host:port/")
    try:
        port = parts.port or 5672
    except ValueError as error:
        raise ClusterSettingsError("CLUSTER_EVENT_BROKER_URL has a bad port") from error
    return parts.hostname, port, unquote(parts.username or "guest"), unquote(parts.password or "guest")
