"""The report as CSV: aggregate figures only (no user text, ids or contacts), with cells that a
spreadsheet would run as a formula made inert."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from bot.insights.errors import InvalidParameter

TABLES = ("daily", "funnel", "reasons", "csat_agents", "messages_left")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_DAILY = (
    "conversations",
    "contained",
    "containment_rate",
    "true_contained",
    "true_containment_rate",
    "handoffs",
    "handoff_rate",
    "handoff_requests",
    "messages_left",
    "csat_count",
    "csat_average",
)
_SPREADS = ("wait", "first_response", "resolution")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _write(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return "\ufeff" + out.getvalue()  # a BOM, so spreadsheet programs read the Chinese as UTF-8


def _daily_values(row: dict[str, Any]) -> list[Any]:
    values = [row[k] for k in _DAILY]
    for name in _SPREADS:
        values += [row[name]["p50"], row[name]["p90"]]
    return values


def to_csv(report: dict[str, Any], table: str) -> str:
    """One table of the report as CSV text (InvalidParameter for an unknown table)."""
    if table == "daily":
        header = ["day", "channel", *_DAILY, *(f"{n}_{p}_seconds" for n in _SPREADS for p in ("p50", "p90"))]
        rows = [[r["day"], r["channel"], *_daily_values(r)] for r in report["daily"]]
        rows.append(["total", report["channel"] or "all", *_daily_values(report["totals"])])
        return _write(header, rows)
    if table == "funnel":
        rows = []
        for funnel in report["funnels"]:
            rows.append([funnel["flow"], "started", funnel["started"], funnel["left"].get("start", 0)])
            rows += [
                [funnel["flow"], s["step"], s["reached"], funnel["left"].get(s["step"], 0)]
                for s in funnel["steps"]
            ]
            rows.append([funnel["flow"], "completed", funnel["completed"], ""])
        return _write(["flow", "step", "reached", "left_here"], rows)
    if table == "reasons":
        return _write(["reason", "handoff_requests"], sorted(report["reasons"].items()))
    if table == "csat_agents":
        rows = [
            [
                "all",
                report["csat"]["count"],
                report["csat"]["average"],
                *report["csat"]["distribution"].values(),
            ]
        ]
        rows += [
            [a["agent"], a["count"], a["average"], *a["distribution"].values()]
            for a in report["csat"]["agents"]
        ]
        return _write(["agent", "ratings", "average", "1", "2", "3", "4", "5"], rows)
    if table == "messages_left":
        left = report["messages_left"]
        keys = ("count", "answered_within_sla", "answered_late", "open_within_sla", "overdue", "sla_hours")
        return _write(list(keys), [[left[k] for k in keys]])
    raise InvalidParameter("未知的报表。")
