"""The table of measures: stock, project, their ratio, and issue 13's target for each, met or not.
Built from the raw figures of ``reports/bench.json`` (pure: no I/O)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Goal:
    """A target: ``on`` (the ratio project/stock, or the project's own figure) ``op`` ``bound``."""

    op: Literal["<=", ">="]
    bound: float
    on: Literal["ratio", "project"] = "ratio"

    def text(self) -> str:
        """As the issue writes it."""
        return f"{self.op} {self.bound:g}×" if self.on == "ratio" else f"project {self.op} {self.bound:g}"

    def met(self, value: float | None) -> bool | None:
        """Whether ``value`` meets it; None when there is no value."""
        if value is None or math.isnan(value):
            return None
        return value <= self.bound if self.op == "<=" else value >= self.bound


@dataclass(frozen=True)
class Row:
    """One measure of both bots."""

    label: str
    unit: str
    stock: float | None
    project: float | None
    goal: Goal | None = None

    @property
    def ratio(self) -> float | None:
        """project / stock; None without both or when stock is 0."""
        return ratio(self.project, self.stock)

    @property
    def met(self) -> bool | None:
        """The target's verdict; None without a target or a figure."""
        if self.goal is None:
            return None
        return self.goal.met(self.ratio if self.goal.on == "ratio" else self.project)


def ratio(project: float | None, stock: float | None) -> float | None:
    """project / stock, or None when either is missing or NaN or stock is 0."""
    if project is None or stock is None or math.isnan(project) or math.isnan(stock) or stock == 0:
        return None
    return project / stock


def _get(figures: Mapping[str, Any] | None, *path: str) -> float | None:
    node: Any = figures
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return None if node is None else float(node)


# Issue 13's targets, by measure.
GOALS: dict[str, Goal] = {
    "1 client, p50": Goal("<=", 1.0),
    "20 conversations, p99": Goal("<=", 1.0),
    "20 conversations, throughput": Goal(">=", 1.0),
    "2 instances, 20 conversations, throughput": Goal(">=", 1.6),
    "start to ready": Goal("<=", 0.6),
    "resident memory after load, Rasa server": Goal("<=", 1.0),
    "long conversation, turn 100 / turn 10": Goal("<=", 1.2, "project"),
}
PHASE_MEASURES = (("p50", "ms", "p50_ms"), ("p95", "ms", "p95_ms"), ("p99", "ms", "p99_ms"))
BOT_MEASURES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("start to ready", "s", ("start_to_ready_s",)),
    ("resident memory after load, Rasa server", "MB", ("rss_rasa_mb",)),
    ("resident memory after load, action server", "MB", ("rss_actions_mb",)),
    ("resident memory after load, both servers", "MB", ("rss_total_mb",)),
    ("long conversation, turn 10 (median 8-12)", "ms", ("long", "turn10_ms")),
    ("long conversation, turn 100 (median 98-102)", "ms", ("long", "turn100_ms")),
    ("long conversation, turn 100 / turn 10", "×", ("long", "growth")),
    ("long conversation, errors", "", ("long", "errors")),
)


def rows(figures: Mapping[str, Any]) -> list[Row]:
    """Every measure of one run, in the order of the report."""
    stock, project = figures.get("stock"), figures.get("project")
    table: list[Row] = []

    def add(label: str, unit: str, stock_value: float | None, project_value: float | None) -> None:
        table.append(Row(label, unit, stock_value, project_value, GOALS.get(label)))

    phase_measures = (*PHASE_MEASURES, ("throughput", "msg/s", "throughput_msg_s"), ("errors", "", "errors"))
    for users in ("1", "20", "50"):
        name = "1 client" if users == "1" else f"{users} conversations"
        for measure, unit, key in phase_measures:
            add(
                f"{name}, {measure}",
                unit,
                _get(stock, "phases", users, key),
                _get(project, "phases", users, key),
            )
    cluster = figures.get("cluster") or {}
    if "phase" in cluster:
        name = "2 instances, 20 conversations"
        for measure, unit, key in phase_measures:
            add(f"{name}, {measure}", unit, _get(stock, "phases", "20", key), _get(cluster, "phase", key))
    for label, unit, path in BOT_MEASURES:
        add(label, unit, _get(stock, *path), _get(project, *path))
    return table


def format_value(value: float | None, unit: str) -> str:
    """A figure for the table: '—' when missing."""
    if value is None or math.isnan(value):
        return "—"
    if unit in ("ms", "MB", ""):
        return f"{value:.0f}"
    return f"{value:.2f}" if unit == "×" else f"{value:.1f}"


def verdict(row: Row) -> str:
    """'met', 'NOT met', 'no figure' or '' (no target)."""
    if row.goal is None:
        return ""
    met = row.met
    return "no figure" if met is None else ("met" if met else "NOT met")


def cells(row: Row) -> list[str]:
    """The row as the table's columns: measure, stock, project, ratio, target, verdict."""
    label = f"{row.label} ({row.unit})" if row.unit and row.unit != "×" else row.label
    shown_ratio = "—" if row.ratio is None else f"{row.ratio:.2f}×"
    return [
        label,
        format_value(row.stock, row.unit),
        format_value(row.project, row.unit),
        shown_ratio,
        row.goal.text() if row.goal else "",
        verdict(row),
    ]


HEADER = ["measure", "stock", "project", "ratio", "target", "verdict"]


def text_table(table: list[Row]) -> str:
    """The table for the terminal, columns aligned."""
    grid = [HEADER, *(cells(r) for r in table)]
    widths = [max(len(line[i]) for line in grid) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in grid
    )


def markdown_table(table: list[Row]) -> str:
    """The table for reports/bench.md."""
    lines = ["| " + " | ".join(HEADER) + " |", "|---|" + "---:|" * 3 + "---|---|"]
    lines += ["| " + " | ".join(cells(r)) + " |" for r in table]
    return "\n".join(lines)
