"""The benchmark's outputs: ``bench.md`` (the table, the machine, the commands, the chart),
``bench.json`` (the raw figures) and ``bench_latency.png`` (p50/p99 against concurrency, when
matplotlib is installed)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scripts import bench_cpu
from scripts.bench_targets import markdown_table, rows

CHART = "bench_latency.png"
CONCURRENCY = ("1", "20", "50")


def latency_series(figures: Mapping[str, Any], bot: str, key: str) -> tuple[list[int], list[float]]:
    """(concurrency, latency in ms) of one bot's phases that have a positive figure."""
    phases = (figures.get(bot) or {}).get("phases") or {}
    points = []
    for users in CONCURRENCY:
        value = (phases.get(users) or {}).get(key)
        if value is not None and float(value) > 0:  # NaN and 0 cannot be drawn on a log scale
            points.append((int(users), float(value)))
    return [p[0] for p in points], [p[1] for p in points]


def write_chart(figures: Mapping[str, Any], path: Path) -> bool:
    """p50 and p99 against concurrency for both bots; False when matplotlib is missing or
    there is nothing to draw."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    drawn = False
    figure, axes = plt.subplots(figsize=(7, 4.2))
    for bot, colour in (("stock", "tab:gray"), ("project", "tab:blue")):
        for key, style in (("p50_ms", "-o"), ("p99_ms", "--s")):
            xs, ys = latency_series(figures, bot, key)
            if xs:
                axes.plot(xs, ys, style, color=colour, label=f"{bot} {key.split('_')[0]}")
                drawn = True
    if drawn:
        axes.set_xlabel("concurrent conversations")
        axes.set_ylabel("latency per message (ms, log scale)")
        axes.set_xticks([int(c) for c in CONCURRENCY])
        axes.set_yscale("log")
        axes.set_title("Latency against concurrency (REST channel, 4-turn conversations)")
        axes.grid(alpha=0.3)
        axes.legend()
        figure.tight_layout()
        figure.savefig(path, dpi=110)
    plt.close(figure)
    return drawn


def _errors_note(figures: Mapping[str, Any]) -> list[str]:
    notes = []
    for bot in ("stock", "project"):
        for users, phase in ((figures.get(bot) or {}).get("phases") or {}).items():
            if phase.get("problems"):
                kinds = ", ".join(f"{k}: {n}" for k, n in phase["problems"].items())
                notes.append(f"- {bot}, {users} concurrent: {kinds}")
    return notes


def _cpu_section(figures: Mapping[str, Any]) -> list[str]:
    def at_20(bot: str) -> Any:
        return ((figures.get(bot) or {}).get("phases") or {}).get("20")

    phases = [
        ("stock, 20 conversations", at_20("stock")),
        ("project, 1 instance, 20 conversations", at_20("project")),
        ("project, 2 instances, 20 conversations", (figures.get("cluster") or {}).get("phase")),
    ]
    found = [(name, phase["cpu"]) for name, phase in phases if phase and phase.get("cpu")]
    if not found:
        return []
    lines = [
        "## Where the CPU went",
        "",
        "CPU time of every process on the machine during the phase (`scripts/bench_cpu.py`, from",
        "/proc), grouped; a group using about 1.0 core is one Python process at its limit, a machine",
        "near 100 % busy cannot give more throughput to a second instance.",
        "",
    ]
    for name, cpu in found:
        lines += bench_cpu.lines(name, cpu)
    return [*lines, ""]


def markdown(figures: Mapping[str, Any], chart: bool) -> str:
    """reports/bench.md."""
    machine = figures.get("machine") or {}
    settings = figures.get("settings") or {}
    cluster = figures.get("cluster") or {}
    lines = [
        "# Performance: the project against stock Rasa",
        "",
        "Measured by `scripts/bench.py` (`make bench`) on this machine, one bot after the other in",
        "one run, with the same closed-loop harness over the REST channel (`/webhooks/rest/webhook`",
        "on 127.0.0.1): each user runs 4-turn conversations back to back, a new sender each, every",
        "turn waiting for the previous answer. Stock is the moodbot of `rasa init --no-prompt`",
        "(same Rasa, trained with a fixed seed, in-memory tracker store, no action server); the",
        "project runs its action server and its Rasa server with `endpoints.yml` and",
        "`credentials.yml` (private SQLite stores, the sandbox backend; the REST rate limit raised",
        "so the long conversation is not refused). Ratio = project / stock. Latencies are of the",
        "good answers; an error is a turn not answered 200 with a non-empty reply (or answered",
        '"系统繁忙"). Start to ready: from the Rasa server\'s process start until it answers a first',
        "message. Resident memory: VmRSS from /proc of the process and its children, after the load.",
        "",
        markdown_table(rows(figures)),
        "",
    ]
    if cluster.get("skipped"):
        lines += [f"2 instances: not measured ({cluster['skipped']}).", ""]
    lines += _cpu_section(figures)
    if chart:
        lines += [f"![latency against concurrency]({CHART})", ""]
    errors = _errors_note(figures)
    if errors:
        lines += ["Errors by kind:", "", *errors, ""]
    lines += [
        "## Machine and run",
        "",
        f"- date: {machine.get('date', '?')}",
        f"- cores: {machine.get('cores', '?')}; load average at start: {machine.get('load_at_start', '?')}"
        f"; at the end: {machine.get('load_at_end', '?')}",
        f"- Rasa {machine.get('rasa', '?')}, Python {machine.get('python', '?')}",
        f"- mode: {settings.get('mode', '?')}; phases: {settings.get('phases', '?')}",
        "- commands:",
    ]
    for name, command in (figures.get("commands") or {}).items():
        lines.append(f"  - {name}: `{command}`")
    lines.append("")
    return "\n".join(lines)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def write_reports(figures: Mapping[str, Any], out: Path) -> list[Path]:
    """bench.md, bench.json and (with matplotlib) bench_latency.png in ``out``; the paths."""
    out.mkdir(parents=True, exist_ok=True)
    chart = write_chart(figures, out / CHART)
    written = [out / "bench.md", out / "bench.json"]
    written[0].write_text(markdown(figures, chart), encoding="utf-8")
    written[1].write_text(json.dumps(_clean(figures), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return [*written, out / CHART] if chart else written
