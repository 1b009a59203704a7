"""Where the machine's CPU goes during a load phase: every process's CPU time from /proc.

A throughput figure alone does not say whether a bot is held back by its own process (one
Python process can use about one core) or by the machine (every core busy, shared with the
stores, the balancer, the action servers and the load generator). Sampled at the start and the
end of a phase, the CPU seconds of every process on the machine are grouped by what they are,
and each group's share of the cores and its CPU milliseconds per answered message show which.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROC = Path("/proc")

# (group, words of the command line that mark it), first match wins
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("load generator (this benchmark)", ("scripts.bench",)),
    ("Rasa servers", ("bot.server run", "rasa run --model", "bin/rasa run --")),
    ("action servers", ("rasa run actions", "rasa_sdk")),
    ("PostgreSQL", ("postgres",)),
    ("Redis", ("redis-server",)),
    ("HAProxy", ("haproxy",)),
    ("RabbitMQ", ("beam.smp", "rabbitmq")),
)
OTHER = "everything else on the machine"


def _group(command: str) -> str:
    for name, marks in GROUPS:
        if any(mark in command for mark in marks):
            return name
    return OTHER


def snapshot(proc: Path = PROC) -> dict[int, tuple[str, float]]:
    """pid → (command line, CPU seconds used so far, user + system) of every process."""
    tick = os.sysconf("SC_CLK_TCK")
    taken: dict[int, tuple[str, float]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile, or a kernel thread without a command line
        taken[int(entry.name)] = (command, (int(stat[11]) + int(stat[12])) / tick)
    return taken


@dataclass
class CpuUse:
    """The CPU each group used during a phase."""

    seconds: float = 0.0
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)
    by_group: dict[str, float] = field(default_factory=dict)  # CPU seconds

    def as_dict(self, messages: int) -> dict[str, Any]:
        """Shares of the machine and CPU ms per answered message, per group and in all."""
        wall = max(self.seconds, 1e-9)
        total = sum(self.by_group.values())
        return {
            "seconds": round(self.seconds, 1),
            "cores": self.cores,
            "busy_percent_of_machine": round(100 * total / (wall * self.cores), 1),
            "groups": {
                name: {
                    "cores_used": round(used / wall, 2),
                    "cpu_ms_per_message": round(1000 * used / messages, 1) if messages else None,
                }
                for name, used in sorted(self.by_group.items(), key=lambda item: (-item[1], item[0]))
            },
            "cpu_ms_per_message": round(1000 * total / messages, 1) if messages else None,
        }


Snapshot = Mapping[int, tuple[str, float]]


def difference(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds per group between two snapshots (a process started meanwhile counts whole)."""
    used: dict[str, float] = {}
    for pid, (command, cpu) in after.items():
        earlier = before.get(pid)
        spent = cpu - earlier[1] if earlier is not None and earlier[0] == command else cpu
        if spent > 0:
            group = _group(command)
            used[group] = used.get(group, 0.0) + spent
    return used


@contextmanager
def measured() -> Iterator[CpuUse]:
    """The CPU used by every process while the block runs."""
    use = CpuUse()
    before, started = snapshot(), time.monotonic()
    try:
        yield use
    finally:
        use.by_group = difference(before, snapshot())
        use.seconds = time.monotonic() - started


def lines(name: str, cpu: Mapping[str, Any]) -> list[str]:
    """Markdown lines for one phase's CPU use."""
    rows = [
        f"- {name}: the machine {cpu['busy_percent_of_machine']:.0f} % busy ({cpu['cores']} cores, "
        f"{cpu['seconds']:.0f} s), {cpu['cpu_ms_per_message']} ms of CPU per answered message in all:"
    ]
    for group, use in cpu["groups"].items():
        rows.append(f"  - {group}: {use['cores_used']:.2f} cores, {use['cpu_ms_per_message']} ms per message")
    return rows
