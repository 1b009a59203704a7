"""Measure the cluster: throughput and latency with 1 and 2 Rasa instances at 20 and 50
concurrent conversations, and what users get through each fault; writes reports/cluster.md.

    .venv/bin/python -m scripts.bench_cluster [--out reports/cluster.md] [--rounds 2]

It starts a private cluster (scripts/cluster_harness.py: scripts/run_cluster.sh on a private
database, Redis and queue, free ports; never the machine's own Redis) and stops it at the end.
"1 instance" is the same cluster with rasa-2 put in maintenance in the balancer, so both
measurements share everything else. A conversation is the five-turn complaint of the cluster
tests (each turn a form step with custom actions); a turn is one REST request through the
balancer. Faults run under a steady background load of small talk (8 users): each fault's
errors are counted from the fault until every instance answers again.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from scripts.cluster_db import terminate_connections
from scripts.cluster_harness import PrivateCluster, cleanup, missing_services, start_private_cluster, wait_for
from scripts.cluster_settings import ROOT

COMPLAINT = ["我要投诉你们", "服务态度", "客服态度很差，还挂了我的电话", "昨天下午", "没有"]
SMALL_TALK = ["你好", "谢谢", "怎么联系客服"]


@dataclass
class Sample:
    """One request: when it started, how long it took, its status (0: no HTTP answer)."""

    started: float
    seconds: float
    status: int
    answered: bool


@dataclass
class Client:
    """REST turns through the balancer."""

    url: str
    token: str
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def turn(self, http: httpx.Client, sender: str, text: str) -> Sample:
        """One turn; recorded."""
        started = time.monotonic()
        try:
            reply = http.post(
                "/webhooks/rest/webhook",
                json={"sender": sender, "message": text},
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=90,
            )
            status, answered = reply.status_code, reply.status_code == 200 and bool(reply.json())
        except httpx.HTTPError:
            status, answered = 0, False
        sample = Sample(started, time.monotonic() - started, status, answered)
        with self.lock:
            self.samples.append(sample)
        return sample


@dataclass(frozen=True)
class Result:
    """One load measurement."""

    instances: int
    conversations: int
    turns: int
    seconds: float
    p50: float
    p99: float
    errors: int

    @property
    def throughput(self) -> float:
        """Turns answered per second."""
        return (self.turns - self.errors) / self.seconds


def measure(cluster: PrivateCluster, instances: int, conversations: int) -> Result:
    """``conversations`` complaints at once through the balancer; latency of every turn."""
    client = Client(cluster.url, cluster.rest_token)
    limits = httpx.Limits(max_connections=conversations)

    def conversation(http: httpx.Client, index: int) -> None:
        time.sleep(index * 0.04)  # users arrive over a second or two, as in the cluster tests
        sender = f"bench-{uuid.uuid4().hex[:16]}"
        for text in COMPLAINT:
            client.turn(http, sender, text)

    started = time.monotonic()
    with httpx.Client(base_url=cluster.url, limits=limits) as http, ThreadPoolExecutor(conversations) as pool:
        list(pool.map(lambda i: conversation(http, i), range(conversations)))
    seconds = time.monotonic() - started
    latencies = sorted(s.seconds for s in client.samples)
    errors = sum(1 for s in client.samples if s.status != 200 or not s.answered)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Result(
        instances, conversations, len(latencies), seconds, statistics.median(latencies), p99, errors
    )


@dataclass
class Background:
    """Steady small talk by ``users`` threads while a fault happens."""

    client: Client
    users: int = 8
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def _user(self) -> None:
        with httpx.Client(base_url=self.client.url) as http:
            sender, count = f"bg-{uuid.uuid4().hex[:16]}", 0
            while not self.stop.is_set():
                sample = self.client.turn(http, sender, SMALL_TALK[count % len(SMALL_TALK)])
                count += 1
                # A new conversation after a failure (never re-sent) and every 9 turns (the
                # per-sender rate limit is shared by the instances).
                if sample.status != 200 or count % 9 == 0:
                    sender = f"bg-{uuid.uuid4().hex[:16]}"
                if sample.status != 200:
                    time.sleep(0.2)

    def __enter__(self) -> Background:
        self.threads = [threading.Thread(target=self._user, daemon=True) for _ in range(self.users)]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)


def _answers_everywhere(cluster: PrivateCluster) -> None:
    with httpx.Client(base_url=cluster.url, timeout=60) as http:
        for node in ("rasa-1", "rasa-2"):
            sender = f"probe-{uuid.uuid4().hex[:12]}"

            def ok(node: str = node, sender: str = sender) -> bool:
                reply = http.post(
                    "/webhooks/rest/webhook",
                    json={"sender": sender, "message": "谢谢"},
                    headers={"Authorization": f"Bearer {cluster.rest_token}"},
                    cookies={"WALLET_NODE": node},
                )
                return reply.status_code == 200 and reply.headers.get("x-wallet-node") == node

            wait_for(ok, 300, f"{node} to answer", every=1)


def fault(cluster: PrivateCluster, name: str, act: Callable[[], None]) -> tuple[str, Counter[str], float]:
    """Run ``act`` under background load; the statuses from the fault until all answer again."""
    client = Client(cluster.url, cluster.rest_token)
    with Background(client):
        wait_for(lambda: len(client.samples) > 20, 60, "background load")
        began = time.monotonic()
        act()
        _answers_everywhere(cluster)
        recovered = time.monotonic() - began
        time.sleep(3)
    statuses = Counter(_outcome(s) for s in client.samples if s.started >= began)
    return name, statuses, recovered


def _outcome(sample: Sample) -> str:
    if sample.status == 200:
        return "200" if sample.answered else "200 silent"
    return str(sample.status)


def faults(cluster: PrivateCluster) -> list[tuple[str, Counter[str], float]]:
    """The faults of the cluster tests, one after the other."""

    def kill_rasa() -> None:
        old = cluster.kill("rasa-1")
        cluster.wait_rejoined("rasa-1", old)

    def restart_redis() -> None:
        cluster.redis.stop()
        time.sleep(5)
        cluster.redis.start()

    def cut_postgres() -> None:
        until = time.monotonic() + 8
        while time.monotonic() < until:
            terminate_connections(cluster.db_url)
            time.sleep(0.5)

    def kill_actions() -> None:
        old = cluster.kill("actions-1")
        cluster.wait_rejoined("actions-1", old, timeout=120)

    def actions_out() -> None:
        for server in ("actions-1", "actions-2"):
            cluster.admin.set_state("be_actions", server, "maint")
        time.sleep(5)
        for server in ("actions-1", "actions-2"):
            cluster.admin.set_state("be_actions", server, "ready")

    return [
        fault(cluster, "kill -9 of rasa-1 (until restarted and UP)", kill_rasa),
        fault(cluster, "Redis stopped 5 s, started again", restart_redis),
        fault(cluster, "PostgreSQL connections cut every 0.5 s for 8 s", cut_postgres),
        fault(cluster, "kill -9 of actions-1 (until restarted and UP)", kill_actions),
        fault(cluster, "every action server out of the balancer for 5 s", actions_out),
    ]


def machine_noise(ours: int) -> str:
    """The load average and the other Rasa processes running (the machine is shared)."""
    load = Path("/proc/loadavg").read_text(encoding="ascii").split()[:3]
    others = 0
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = status.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "rasa" in command and ("run" in command or "train" in command) and "cluster_test" not in command:
            others += 1
    averages = " / ".join(load)
    return f"load average {averages} (1/5/15 min); Rasa processes: {others} ({ours} of them the cluster's)"


def report(results: list[Result], fault_rows: list[tuple[str, Counter[str], float]], noise: list[str]) -> str:
    """reports/cluster.md."""
    lines = [
        "# The cluster: throughput, latency and faults",
        "",
        "Measured by `scripts/bench_cluster.py` on this project's machine (2 cores, 24 GB, shared",
        "with other work: see the noise below), through HAProxy to the Rasa servers on PostgreSQL",
        "and Redis. A conversation is the five-turn complaint (every turn a form step with custom",
        "actions); figures are per turn (one REST request). 1 instance = rasa-2 in maintenance.",
        "",
        "| instances | conversations | turns | seconds | turns/s | p50 (s) | p99 (s) | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.instances} | {r.conversations} | {r.turns} | {r.seconds:.1f} | {r.throughput:.1f} "
            f"| {r.p50:.2f} | {r.p99:.2f} | {r.errors} |"
        )
    lines += [
        "",
        "## Faults (8 users of background small talk)",
        "",
        "Requests from the fault until every instance answers again. Status 0: no HTTP answer;",
        '"200 silent": answered 200 with no message at all. 500 is the channel\'s clean',
        "`internal_error` JSON, 502 a request in flight on a killed instance (never replayed).",
        "",
        "| fault | requests | answered | other outcomes | until recovered (s) |",
        "|---|---|---|---|---|",
    ]
    for name, statuses, recovered in fault_rows:
        others = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()) if s != "200") or "none"
        lines.append(
            f"| {name} | {sum(statuses.values())} | {statuses['200']} | {others} | {recovered:.0f} |"
        )
    lines += ["", "## Noise", "", *[f"- {n}" for n in noise], ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run everything; write the report."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "cluster.md")
    parser.add_argument("--conversations", default="20,50")
    parser.add_argument("--no-faults", action="store_true")
    args = parser.parse_args(argv)
    missing = missing_services()
    if missing:
        print(f"bench: missing {', '.join(missing)}", file=sys.stderr)
        return 2
    noise = [f"before: {machine_noise(0)}"]
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as workdir:
        cluster = start_private_cluster(Path(workdir))
        try:
            results: list[Result] = []
            for instances in (2, 1):
                cluster.admin.set_state("be_rasa_write", "rasa-2", "ready" if instances == 2 else "maint")
                for conversations in (int(c) for c in args.conversations.split(",")):
                    results.append(measure(cluster, instances, conversations))
                    print(results[-1], flush=True)
            cluster.admin.set_state("be_rasa_write", "rasa-2", "ready")
            noise.append(f"after the load: {machine_noise(4)}")
            fault_rows = [] if args.no_faults else faults(cluster)
            for row in fault_rows:
                print(row, flush=True)
            noise.append(f"after the faults: {machine_noise(4)}")
        finally:
            cleanup(cluster)
    args.out.write_text(report(results, fault_rows, noise), encoding="utf-8")
    print(f"wrote {os.path.relpath(args.out, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
