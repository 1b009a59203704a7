"""Measure the project against stock Rasa, side by side in one run (issue 13, ``make bench``).

    .venv/bin/python -m scripts.bench [--quick] [--only stock|project] [--cluster] [--out DIR]

Builds the stock moodbot once (``.bench-work/stock``, scripts/bench_stock.py), then starts and
measures each bot in turn with the same closed-loop harness over the REST channel on 127.0.0.1
(scripts/bench_load.py): start to ready, 1 client and 20 and 50 concurrent 4-turn conversations,
one long conversation (turns 10 and 100), resident memory after the load; with ``--cluster``,
the private cluster of scripts/bench_cluster.py (2 instances) at 20 conversations. Prints the
table of ratios and targets and writes bench.md, bench.json and bench_latency.png to
``--out`` (reports/). Every phase has a time and message cap, the run an overall timeout; every
process started is stopped at the end, on error and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import shlex
import shutil
import signal
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from scripts.bench_conversations import PROJECT, STOCK, Script
from scripts.bench_cpu import measured
from scripts.bench_load import REQUEST_TIMEOUT, Endpoint, closed_loop, long_conversation, wait_ready
from scripts.bench_report import write_reports
from scripts.bench_servers import Process, Processes, rss_bytes, start_project, start_stock
from scripts.bench_stats import window_median
from scripts.bench_stock import WORK, ensure_stock_model
from scripts.bench_targets import rows, text_table
from scripts.cluster_settings import ROOT

MODEL = ROOT / "models" / "wallet.tar.gz"
RUN_DIR = WORK / "run"
T = TypeVar("T")


@dataclass(frozen=True)
class Plan:
    """How much load: seconds and message cap of each concurrency, the long conversation."""

    mode: str
    seconds: dict[int, float]
    caps: dict[int, int]
    long_turns: int
    long_seconds: float
    start_timeout: float
    overall_timeout: float

    def describe(self) -> str:
        """For the report."""
        phases = ", ".join(f"{c} × {s:g} s (≤ {self.caps[c]} msgs)" for c, s in self.seconds.items())
        return f"{phases}; long conversation {self.long_turns} turns (≤ {self.long_seconds:g} s)"


QUICK = Plan("quick", {1: 6, 20: 8, 50: 8}, {1: 300, 20: 2000, 50: 3000}, 102, 45, 300, 1200)
FULL = Plan("full", {1: 30, 20: 60, 50: 60}, {1: 1000, 20: 6000, 50: 9000}, 102, 240, 300, 3600)


class BenchTimeout(Exception):
    """The run's overall timeout passed."""


def log(line: str) -> None:
    """Progress on stderr."""
    print(f"bench: {line}", file=sys.stderr, flush=True)


def _run(coroutine: Coroutine[Any, Any, T], seconds: float) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coroutine, seconds)

    return asyncio.run(bounded())


def _mb(process: Process) -> float:
    return round(rss_bytes(process.popen.pid) / 2**20, 1)


def _shown(command: list[str]) -> str:
    return shlex.join(command).replace(f"{ROOT}/", "")


def measure(endpoint: Endpoint, script: Script, plan: Plan, rasa: Process) -> dict[str, Any]:
    """Start to ready, the three phases and the long conversation of one started bot."""
    figures: dict[str, Any] = {}
    figures["start_to_ready_s"] = round(
        wait_ready(endpoint, script, rasa.started, rasa.alive, plan.start_timeout), 2
    )
    log(f"{rasa.name}: ready after {figures['start_to_ready_s']} s")
    figures["rss_rasa_mb_ready"] = _mb(rasa)
    _run(closed_loop(endpoint, script, 1, 20, len(script.conversations[0])), 60 + REQUEST_TIMEOUT)  # warm-up
    figures["phases"] = {}
    for users, seconds in plan.seconds.items():
        with measured() as cpu:
            summary, _ = _run(
                closed_loop(endpoint, script, users, seconds, plan.caps[users]), seconds + 2 * REQUEST_TIMEOUT
            )
        if not rasa.alive():
            raise RuntimeError(f"{rasa.name} exited under load:\n{rasa.tail()}")
        figures["phases"][str(users)] = {**summary.as_dict(), "cpu": cpu.as_dict(summary.messages)}
        log(
            f"{rasa.name}: {users} concurrent: {summary.messages} msgs, p50 {summary.p50 * 1000:.0f} ms, "
            f"p99 {summary.p99 * 1000:.0f} ms, {summary.throughput:.1f} msg/s, {summary.errors} errors"
        )
    turns = _run(
        long_conversation(endpoint, script, plan.long_turns, plan.long_seconds),
        plan.long_seconds + 2 * REQUEST_TIMEOUT,
    )
    latencies = [t.seconds * 1000 for t in turns]
    turn10, turn100 = window_median(latencies, 10), window_median(latencies, 100)
    figures["long"] = {
        "turns": len(turns),
        "errors": sum(1 for t in turns if not t.ok),
        "turn10_ms": round(turn10, 1),
        "turn100_ms": round(turn100, 1),
        "growth": round(turn100 / turn10, 3) if turn10 > 0 else None,
        "latencies_ms": [round(v, 1) for v in latencies],
    }
    log(f"{rasa.name}: long conversation: turn 10 {turn10:.0f} ms, turn 100 {turn100:.0f} ms")
    figures["rss_rasa_mb"] = _mb(rasa)
    figures["command"] = _shown(rasa.command)
    return figures


def run_stock(processes: Processes, plan: Plan, workdir: Path) -> dict[str, Any]:
    """The moodbot: built or cached, started, measured, stopped."""
    model = ensure_stock_model(lambda line: None)  # built (or found) by main
    rasa, url = start_stock(processes, model, workdir)
    try:
        figures = measure(Endpoint(url), STOCK, plan, rasa)
    finally:
        processes.stop(rasa)
    figures["rss_total_mb"] = figures["rss_rasa_mb"]
    return figures


def run_project(processes: Processes, plan: Plan, workdir: Path, model: Path) -> dict[str, Any]:
    """The project's two servers: started, measured, stopped."""
    rasa, actions, url, config, actions_ready = start_project(processes, model, workdir, plan.start_timeout)
    try:
        endpoint = Endpoint(url, {"Authorization": f"Bearer {config.token}"})
        figures = measure(endpoint, PROJECT, plan, rasa)
        if not actions.alive():
            raise RuntimeError(f"the action server exited:\n{actions.tail()}")
        figures["rss_actions_mb"] = _mb(actions)
        figures["rss_total_mb"] = round(figures["rss_rasa_mb"] + figures["rss_actions_mb"], 1)
        figures["actions_start_to_ready_s"] = round(actions_ready, 2)
        figures["actions_command"] = _shown(actions.command)
    finally:
        processes.stop(rasa)
        processes.stop(actions)
    return figures


def run_cluster(plan: Plan, workdir: Path) -> dict[str, Any]:
    """2 instances of the cluster of scripts/bench_cluster.py at 20 conversations, or why not."""
    from scripts.bench_cluster import cleanup, missing_services, start_private_cluster

    missing = missing_services()
    if missing:
        return {"skipped": "missing " + ", ".join(missing)}
    log("cluster: starting (scripts/run_cluster.sh, 2 instances)")
    try:
        # as deploy/cluster.env.example deploys it: no event broker (stock publishes no events)
        cluster = start_private_cluster(workdir, {"CLUSTER_EVENT_BROKER_URL": ""})
    except (RuntimeError, AssertionError, OSError) as error:
        log(f"cluster: did not start: {error}")
        return {"skipped": f"the cluster did not start ({type(error).__name__}; log in {workdir})"}
    try:
        endpoint = Endpoint(cluster.url, {"Authorization": f"Bearer {cluster.rest_token}"})
        _run(closed_loop(endpoint, PROJECT, 2, 20, 8), 60 + REQUEST_TIMEOUT)  # warm-up
        with measured() as cpu:
            summary, _ = _run(closed_loop(endpoint, PROJECT, 20, plan.seconds[20], plan.caps[20]), 600)
        log(f"cluster: 20 concurrent: {summary.throughput:.1f} msg/s, {summary.errors} errors")
        phase = {**summary.as_dict(), "cpu": cpu.as_dict(summary.messages)}
        return {"instances": 2, "phase": phase, "command": "scripts/run_cluster.sh (no event broker)"}
    finally:
        cleanup(cluster)


def machine_facts() -> dict[str, Any]:
    """Cores, load, date, versions."""
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "load_at_start": " / ".join(Path("/proc/loadavg").read_text(encoding="ascii").split()[:3]),
        "rasa": metadata.version("rasa"),
        "python": platform.python_version(),
        "host": platform.node(),
    }


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise BenchTimeout("the overall timeout passed")


def _on_term(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; write the reports."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: a few seconds per phase")
    parser.add_argument("--only", choices=("stock", "project"), help="measure one bot only")
    parser.add_argument(
        "--cluster", action="store_true", help="also 2 instances (PostgreSQL, Redis, HAProxy)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="where the reports go")
    parser.add_argument("--model", type=Path, default=MODEL, help="the project's trained model")
    parser.add_argument("--timeout", type=float, help="overall seconds (default: 1200 quick, 3600 full)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    bots = [args.only] if args.only else ["stock", "project"]
    if "project" in bots and not args.model.exists():
        log(f"no model at {args.model}: train it first (make train)")
        return 2
    figures: dict[str, Any] = {
        "machine": machine_facts(),
        "settings": {"mode": plan.mode, "phases": plan.describe()},
        "commands": {"benchmark": _shown([".venv/bin/python", "-m", "scripts.bench", *sys.argv[1:]])},
    }
    if RUN_DIR.exists():
        shutil.rmtree(RUN_DIR)
    processes = Processes()
    signal.signal(signal.SIGALRM, _on_alarm)
    previous_term = signal.signal(signal.SIGTERM, _on_term)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    if "stock" in bots:
        ensure_stock_model(log)  # before the clock starts: the first build trains a model
    signal.alarm(int(args.timeout or plan.overall_timeout + (900 if args.cluster else 0)))
    began = time.monotonic()
    try:
        for bot in bots:
            workdir = RUN_DIR / bot
            workdir.mkdir(parents=True)
            if bot == "stock":
                figures["stock"] = run_stock(processes, plan, workdir)
                figures["commands"]["stock Rasa server"] = figures["stock"]["command"]
            else:
                figures["project"] = run_project(processes, plan, workdir, args.model)
                figures["commands"]["project action server"] = figures["project"]["actions_command"]
                figures["commands"]["project Rasa server"] = figures["project"]["command"]
        if args.cluster and "project" in bots:
            (RUN_DIR / "cluster").mkdir(parents=True)
            figures["cluster"] = run_cluster(plan, RUN_DIR / "cluster")
    except (BenchTimeout, KeyboardInterrupt, RuntimeError) as error:
        log(f"stopped: {type(error).__name__}: {error}")
        return 1
    finally:
        signal.alarm(0)
        processes.stop_all()
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)
    figures["machine"]["load_at_end"] = " / ".join(
        Path("/proc/loadavg").read_text(encoding="ascii").split()[:3]
    )
    figures["machine"]["seconds"] = round(time.monotonic() - began, 1)
    print(text_table(rows(figures)))
    for path in write_reports(figures, args.out):
        print(f"wrote {os.path.relpath(path, Path.cwd())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
