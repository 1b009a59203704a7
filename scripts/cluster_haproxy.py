"""The cluster's load balancer: HAProxy's configuration, and its runtime API.

Routing (one public port, where ``make run`` listens):

- ``/socket.io/`` (the widget) → ``be_socketio``: sticky by the ``WALLET_NODE`` cookie the
  balancer inserts (long-polling needs every request of a socket on one instance; the
  websocket upgrade is a plain HTTP/1.1 upgrade, kept open by ``timeout tunnel``). A client
  whose instance died is sent to another (``option redispatch``), which answers its old socket
  id with 400, and the socket.io client reconnects there.
- GET and HEAD (widget files, history reads, the console's pages, its SSE stream, health) →
  ``be_rasa_read``: retried on another instance when the connection fails or the server dies
  before answering (``retry-on conn-failure empty-response junk-response``): reads are safe
  to replay. Responses are never buffered, so the console's server-sent events flow at once.
- Everything else (the REST, WeChat and Telegram webhooks, the widget's history POST, the
  console's POSTs) → ``be_rasa_write``: retried (on another instance) only when the connection
  could not be made, that is when the request never reached an instance (``retries`` with
  ``option redispatch``; no layer-7 retries). A POST whose instance dies while handling it is
  answered 502 and never replayed: it may already have been handled, and handling a user's
  message twice would answer it twice. Its response closes the client's connection
  (``Connection: close``): on a kept-alive connection HAProxy would answer a dying server by
  closing the connection without a response, which tells an HTTP client (a browser) that it
  may send the POST again.

A ``WALLET_NODE=<instance>`` cookie on a request pins it to that instance when it is up (the
widget's socket sets it; operators use it to reach one instance through the balancer); the
``X-Wallet-Node`` response header names the instance that answered.

Health: every instance is checked (``GET /webhooks/rest/``, actions ``GET /health``) every 3 s
and taken out after 3 failures or at once on a refused connection (``observe layer4``); it
comes back after 2 good checks.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from scripts.cluster_settings import ClusterSettings

NODE_COOKIE = "WALLET_NODE"
NODE_HEADER = "X-Wallet-Node"


@dataclass(frozen=True)
class Server:
    """One server behind the balancer."""

    name: str
    address: str


def rasa_servers(settings: ClusterSettings) -> list[Server]:
    """The local Rasa servers (``rasa-1`` ...) and those of other machines (``remote-rasa-1`` ...)."""
    local = [Server(f"rasa-{i + 1}", f"127.0.0.1:{port}") for i, port in enumerate(settings.rasa_ports)]
    remote = [Server(f"remote-rasa-{i + 1}", address) for i, address in enumerate(settings.extra_rasa)]
    return local + remote


def action_servers(settings: ClusterSettings) -> list[Server]:
    """The local action servers (``actions-1`` ...) and those of other machines."""
    local = [Server(f"actions-{i + 1}", f"127.0.0.1:{port}") for i, port in enumerate(settings.action_ports)]
    remote = [Server(f"remote-actions-{i + 1}", a) for i, a in enumerate(settings.extra_actions)]
    return local + remote


_GLOBAL = """\
# Rendered by scripts/cluster_haproxy.py from the cluster's settings: edit those, not this.
global
    log stdout format raw local0 info
    stats socket {socket} mode 600 level admin
    maxconn 4096

defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 2s
    timeout client 90s
    timeout server 90s
    timeout tunnel 1h
    timeout http-request 10s
    timeout http-keep-alive 10s
    timeout queue 30s
    timeout check 10s
    retries 3
    option redispatch 1
    default-server inter 3s fastinter 1s downinter 2s fall 3 rise 2

frontend public
    bind {public_bind}:{public_port}
    option forwardfor
    acl socketio path_beg /socket.io/
    acl read method GET HEAD
    use_backend be_socketio if socketio
    use_backend be_rasa_read if read
    default_backend be_rasa_write
"""

_RASA_BACKEND = """
backend {name}
    balance {balance}
    cookie {cookie} {cookie_mode}
    http-response set-header {header} %s
{options}{servers}"""

_ACTIONS = """
frontend actions
    bind 127.0.0.1:{actions_port}
    default_backend be_actions

backend be_actions
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
{servers}
frontend stats
    bind 127.0.0.1:{stats_port}
    http-request use-service prometheus-exporter if {{ path /metrics }}
    stats enable
    stats uri /stats
    stats refresh 5s
"""


def render(settings: ClusterSettings) -> str:
    """The whole configuration file."""
    rasa = rasa_servers(settings)
    text = _GLOBAL.format(
        socket=settings.haproxy_socket, public_bind=settings.public_bind, public_port=settings.public_port
    )
    checked = "".join(
        f"    server {s.name} {s.address} check observe layer4 error-limit 1 on-error mark-down"
        f" cookie {s.name}\n"
        for s in rasa
    )
    tracked = "".join(
        f"    server {s.name} {s.address} track be_rasa_write/{s.name} cookie {s.name}\n" for s in rasa
    )
    write = (
        "    http-response set-header Connection close\n"
        "    option httpchk GET /webhooks/rest/\n"
        "    http-check expect status 200\n"
    )
    read = "    retry-on conn-failure empty-response junk-response\n"
    backends = [
        ("be_rasa_write", "roundrobin", "indirect nocache", write, checked),
        ("be_rasa_read", "roundrobin", "indirect nocache", read, tracked),
        ("be_socketio", "leastconn", "insert indirect nocache httponly", "", tracked),
    ]
    for name, balance, cookie_mode, options, servers in backends:
        text += _RASA_BACKEND.format(
            name=name,
            balance=balance,
            cookie=NODE_COOKIE,
            cookie_mode=cookie_mode,
            header=NODE_HEADER,
            options=options,
            servers=servers,
        )
    actions = "".join(
        f"    server {s.name} {s.address} check observe layer4 error-limit 1 on-error mark-down\n"
        for s in action_servers(settings)
    )
    return text + _ACTIONS.format(
        actions_port=settings.actions_port, stats_port=settings.stats_port, servers=actions
    )


class HaproxyAdmin:
    """HAProxy's runtime API over its stats socket."""

    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        """Talk to the socket at ``path``."""
        self.path = path
        self.timeout = timeout

    def command(self, line: str) -> str:
        """Send one command and return the whole answer.

        Raises:
            OSError: the socket is not there or does not answer.
        """
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(self.timeout)
            conn.connect(str(self.path))
            conn.sendall(line.encode("ascii") + b"\n")
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode("utf-8", "replace")

    def servers(self) -> dict[tuple[str, str], str]:
        """Each server's status (``UP``, ``DOWN``, ``MAINT``, ``UP 1/3`` ...) by (backend, server)."""
        lines = self.command("show stat").splitlines()
        if not lines or not lines[0].startswith("# "):
            raise OSError("unexpected answer to show stat")
        header = lines[0][2:].split(",")
        states: dict[tuple[str, str], str] = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(","), strict=False))
            if row.get("svname") not in (None, "FRONTEND", "BACKEND"):
                states[(row["pxname"], row["svname"])] = row.get("status", "")
        return states

    def set_state(self, backend: str, server: str, state: str) -> None:
        """``ready``, ``drain`` or ``maint`` for one server (taking it out of rotation by hand)."""
        if state not in ("ready", "drain", "maint"):
            raise ValueError("state must be ready, drain or maint")
        answer = self.command(f"set server {backend}/{server} state {state}").strip()
        if answer:
            raise OSError(answer)
