"""The benchmark harness's pure parts: percentiles, summaries, targets, the report writer, the
reply checker, the process tree; no server is started."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.bench_conversations import PROJECT, STOCK
from scripts.bench_load import Endpoint, check_reply
from scripts.bench_report import latency_series, markdown, write_reports
from scripts.bench_servers import descendants, parse_stat, project_rasa_command
from scripts.bench_stats import Turn, percentile, summarize, window_median
from scripts.bench_stock import seeded_config
from scripts.bench_targets import Goal, Row, markdown_table, ratio, rows, text_table

# --- percentiles and summaries ------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 50, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        ([4.0, 1.0, 3.0, 2.0], 75, 3.25),  # unsorted input; numpy's linear method
        ([float(v) for v in range(1, 101)], 99, 99.01),
    ],
)
def test_percentile_known_answers(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_nan_and_q_is_checked() -> None:
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_counts_errors_apart_from_latency() -> None:
    turns = [Turn(0, 0.1, 200), Turn(0, 0.3, 200), Turn(0, 9.0, 500, "HTTP 500", "你好"), Turn(0, 0.2, 200)]
    summary = summarize(turns, seconds=2.0, concurrency=20)
    assert (summary.messages, summary.errors) == (4, 1)
    assert summary.p50 == pytest.approx(0.2)  # the failed 9 s turn is not a latency
    assert summary.throughput == pytest.approx(1.5)  # 3 good answers in 2 s
    assert summary.problems == {"HTTP 500": 1}
    assert summary.failed_messages == {"你好": 1}
    figures = summary.as_dict()
    assert figures["p50_ms"] == 200.0 and figures["throughput_msg_s"] == 1.5


def test_summary_of_only_failures_has_no_latency() -> None:
    summary = summarize([Turn(0, 1.0, 0, "ConnectError")], seconds=1.0, concurrency=1)
    assert math.isnan(summary.p50) and summary.throughput == 0
    assert summary.as_dict()["p99_ms"] is None


def test_window_median_is_around_the_turn_counted_from_one() -> None:
    latencies = [float(turn) for turn in range(1, 103)]  # turn n took n ms
    assert window_median(latencies, 10) == 10.0  # turns 8-12
    assert window_median(latencies, 100) == 100.0  # turns 98-102
    assert window_median(latencies[:99], 100) == 98.5  # only turns 98 and 99 exist
    assert math.isnan(window_median([], 10))


# --- the reply checker ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (200, [{"recipient_id": "x", "text": "您好"}], ""),
        (200, [{"recipient_id": "x", "image": "https://example/a.jpg"}], ""),
        (200, [{"recipient_id": "x", "buttons": [{"title": "1"}]}], ""),
        (200, [], "empty reply"),
        (200, [{"recipient_id": "x", "text": ""}], "empty reply"),
        (200, {"error": "x"}, "not a list of messages"),
        (200, None, "not a list of messages"),
        (500, [{"text": "hi"}], "HTTP 500"),
        (429, {"error": "rate_limited"}, "HTTP 429"),
    ],
)
def test_check_reply(status: int, body: Any, problem: str) -> None:
    assert check_reply(status, body) == problem


def test_a_busy_answer_is_an_error() -> None:
    body = [{"text": "好的"}, {"text": "抱歉，系统繁忙，暂时无法完成这一步。"}]
    assert check_reply(200, body, PROJECT.failures) == "reply says 系统繁忙"
    assert check_reply(200, body[:1], PROJECT.failures) == ""


def test_load_goes_to_this_machine_only() -> None:
    Endpoint("http://127.0.0.1:5005")
    with pytest.raises(ValueError):
        Endpoint("http://example.com:5005")


def test_conversations_have_four_turns() -> None:
    for script in (STOCK, PROJECT):
        assert script.conversations and all(len(c) == 4 for c in script.conversations)
        assert len(script.long_cycle) >= 3


# --- the targets --------------------------------------------------------------------------


def test_ratio_and_goals() -> None:
    assert ratio(60.0, 30.0) == 2.0
    assert ratio(None, 30.0) is None and ratio(1.0, 0.0) is None and ratio(math.nan, 1.0) is None
    assert Goal("<=", 1.0).met(1.0) is True and Goal("<=", 1.0).met(1.01) is False
    assert Goal(">=", 1.6).met(1.7) is True and Goal(">=", 1.6).met(None) is None
    row = Row("x", "ms", 30.0, 24.0, Goal("<=", 1.0))
    assert row.ratio == pytest.approx(0.8) and row.met is True
    growth = Row("growth", "×", 1.0, 1.5, Goal("<=", 1.2, "project"))
    assert growth.met is False  # on the project's own figure, not the ratio


def _phase(p50: float, p99: float, throughput: float, errors: int = 0) -> dict[str, Any]:
    return {
        "p50_ms": p50,
        "p95_ms": p99 * 0.8,
        "p99_ms": p99,
        "throughput_msg_s": throughput,
        "errors": errors,
    }


def _bot(scale: float) -> dict[str, Any]:
    return {
        "phases": {
            "1": _phase(30 * scale, 60 * scale, 30 / scale),
            "20": _phase(500 * scale, 1200 * scale, 35 / scale),
            "50": _phase(1300 * scale, 3000 * scale, 34 / scale, errors=2),
        },
        "start_to_ready_s": 29.0 * scale,
        "rss_rasa_mb": 1100.0 * scale,
        "rss_total_mb": 1100.0 * scale,
        "long": {"turn10_ms": 28.0, "turn100_ms": 28.0 * scale, "growth": scale, "errors": 0},
    }


FIGURES: dict[str, Any] = {
    "stock": _bot(1.0),
    "project": {**_bot(2.0), "rss_actions_mb": 126.0},
    "cluster": {"skipped": "missing haproxy"},
    "machine": {"date": "2026-12-01T15:00:00+08:00", "cores": 2, "load_at_start": "1.0 / 0.5 / 0.2"},
    "settings": {"mode": "quick", "phases": "1 × 6 s"},
    "commands": {"benchmark": ".venv/bin/python -m scripts.bench --quick"},
}


def test_rows_compare_and_judge_every_target() -> None:
    by_label = {row.label: row for row in rows(FIGURES)}
    p50 = by_label["1 client, p50"]
    assert (p50.stock, p50.project, p50.ratio, p50.met) == (30.0, 60.0, 2.0, False)
    assert by_label["20 conversations, throughput"].ratio == pytest.approx(0.5)
    assert by_label["resident memory after load, action server"].project == 126.0
    assert by_label["long conversation, turn 100 / turn 10"].met is False
    judged = [row for row in by_label.values() if row.goal is not None]
    assert len(judged) == 6  # the targets; the 2-instance one only with a cluster
    assert not any(label.startswith("2 instances") for label in by_label)


def test_rows_with_a_cluster_compare_two_instances_to_stock_on_one() -> None:
    figures = {**FIGURES, "cluster": {"instances": 2, "phase": _phase(400, 900, 63.0)}}
    row = {r.label: r for r in rows(figures)}["2 instances, 20 conversations, throughput"]
    assert row.stock == 35.0 and row.ratio == pytest.approx(1.8) and row.met is True


def test_rows_of_one_bot_only_have_no_verdict() -> None:
    table = rows({"stock": _bot(1.0)})
    assert all(row.project is None and row.met is None for row in table)
    assert "no figure" in text_table(table)


def test_tables_show_ratio_target_and_verdict() -> None:
    table = rows(FIGURES)
    text = text_table(table)
    assert text.splitlines()[0].split() == ["measure", "stock", "project", "ratio", "target", "verdict"]
    assert "NOT met" in text and "2.00×" in text
    md = markdown_table(table).splitlines()
    assert md[0].startswith("| measure |") and len(md) == len(table) + 2
    assert all(line.count("|") == 7 for line in md)


# --- the report writer ----------------------------------------------------------------------


def test_reports_are_written_with_table_machine_commands_and_chart(tmp_path: Path) -> None:
    written = write_reports(FIGURES, tmp_path / "out")
    names = sorted(p.name for p in written)
    assert names[:2] == ["bench.json", "bench.md"]
    md = (tmp_path / "out" / "bench.md").read_text(encoding="utf-8")
    assert "| 1 client, p50 (ms) | 30 | 60 | 2.00× | <= 1× | NOT met |" in md
    assert "cores: 2" in md and "1.0 / 0.5 / 0.2" in md and "python -m scripts.bench --quick" in md
    assert "not measured (missing haproxy)" in md
    raw = json.loads((tmp_path / "out" / "bench.json").read_text(encoding="utf-8"))
    assert raw["project"]["phases"]["20"]["p99_ms"] == 2400.0
    if "bench_latency.png" in names:
        assert "![latency against concurrency](bench_latency.png)" in md
        assert (tmp_path / "out" / "bench_latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_json_has_no_nan(tmp_path: Path) -> None:
    figures = {"stock": {"phases": {"1": {"p50_ms": math.nan}}}}
    write_reports(figures, tmp_path)
    assert "NaN" not in (tmp_path / "bench.json").read_text(encoding="utf-8")


def test_chart_series_skip_missing_phases() -> None:
    assert latency_series(FIGURES, "stock", "p99_ms") == ([1, 20, 50], [60.0, 1200.0, 3000.0])
    assert latency_series({"project": {"phases": {"20": {"p50_ms": None}}}}, "project", "p50_ms") == ([], [])
    assert "![latency" not in markdown(FIGURES, chart=False)


# --- processes and the stock build ------------------------------------------------------------


def test_parse_stat_with_spaces_and_parentheses_in_the_command() -> None:
    assert parse_stat("4242 (rasa (run) x) S 4200 4242 4242 0 -1") == (4242, 4200)


def test_descendants_follow_the_tree() -> None:
    parents = {10: 1, 11: 10, 12: 11, 13: 10, 20: 1}
    assert descendants(10, parents) == {10, 11, 12, 13}
    assert descendants(99, parents) == {99}


def test_project_command_is_rasa_run_or_bot_server(tmp_path: Path) -> None:
    command = project_rasa_command(Path("m.tar.gz"), tmp_path / "e.yml", tmp_path / "c.yml", 5999)
    assert command[-4:] == ["--interface", "127.0.0.1", "--port", "5999"]
    assert command[1:3] in (["run", "--model"], ["-m", "bot.server"])


def test_seeded_config_seeds_every_trained_component() -> None:
    default = """
pipeline:
  - name: WhitespaceTokenizer
  - name: DIETClassifier
    epochs: 100
policies:
  - name: RulePolicy
  - name: TEDPolicy
    epochs: 100
"""
    config = yaml.safe_load(seeded_config(default, seed=7))
    seeds = {c["name"]: c.get("random_seed") for c in config["pipeline"] + config["policies"]}
    assert seeds == {"WhitespaceTokenizer": None, "DIETClassifier": 7, "RulePolicy": None, "TEDPolicy": 7}
    assert config["pipeline"][1]["epochs"] == 100


def _fake_proc(root: Path, processes: dict[int, tuple[str, int, int]]) -> Path:
    """A /proc with (command line, user ticks, system ticks) per pid."""
    for pid, (command, user, system) in processes.items():
        entry = root / str(pid)
        entry.mkdir(parents=True, exist_ok=True)
        (entry / "cmdline").write_bytes(command.replace(" ", "\0").encode() + b"\0")
        fields = ["S", *["0"] * 10, str(user), str(system), *["0"] * 20]
        (entry / "stat").write_text(f"{pid} (x (y)) {' '.join(fields)}\n")
    (root / "self").mkdir(exist_ok=True)  # not a pid: skipped
    return root


def test_cpu_use_is_grouped_per_kind_of_process(tmp_path: Path) -> None:
    import os

    from scripts import bench_cpu

    tick = os.sysconf("SC_CLK_TCK")
    rasa = ".venv/bin/python -m bot.server run --model models/wallet.tar.gz"
    before = bench_cpu.snapshot(
        _fake_proc(tmp_path / "a", {10: (rasa, tick, 0), 11: (rasa, 0, 0), 12: ("postgres: 15/main", 0, 0)})
    )
    after = bench_cpu.snapshot(
        _fake_proc(
            tmp_path / "b",
            {
                10: (rasa, 5 * tick, tick),  # 5 s more
                11: (rasa, 4 * tick, 0),  # 4 s more
                12: ("postgres: 15/main", tick, 0),
                13: ("/usr/sbin/haproxy -db -f x.cfg", tick, 0),  # started meanwhile: counts whole
                14: ("sleep 5", 0, 0),
            },
        )
    )
    used = bench_cpu.difference(before, after)
    assert used == {"Rasa servers": 9.0, "PostgreSQL": 1.0, "HAProxy": 1.0}
    use = bench_cpu.CpuUse(seconds=10.0, cores=2, by_group=used)
    figures = use.as_dict(messages=200)
    assert figures["busy_percent_of_machine"] == 55.0
    assert list(figures["groups"]) == ["Rasa servers", "HAProxy", "PostgreSQL"]
    assert figures["groups"]["Rasa servers"] == {"cores_used": 0.9, "cpu_ms_per_message": 45.0}
    assert figures["cpu_ms_per_message"] == 55.0
    assert use.as_dict(messages=0)["cpu_ms_per_message"] is None
    text = "\n".join(bench_cpu.lines("project", figures))
    assert "55 % busy" in text and "Rasa servers: 0.90 cores, 45.0 ms per message" in text


def test_a_pid_reused_by_another_command_counts_whole() -> None:
    from scripts import bench_cpu

    used = bench_cpu.difference({7: ("redis-server", 50.0)}, {7: ("haproxy -db", 2.0)})
    assert used == {"HAProxy": 2.0}


def test_the_cpu_of_a_block_is_measured_on_this_machine() -> None:
    from scripts import bench_cpu

    with bench_cpu.measured() as use:
        sum(i * i for i in range(300_000))
    assert use.seconds > 0 and sum(use.by_group.values()) > 0
    assert "load generator (this benchmark)" in use.by_group or bench_cpu.OTHER in use.by_group


def test_the_report_says_where_the_cpu_went() -> None:
    cpu = {
        "seconds": 60.0,
        "cores": 2,
        "busy_percent_of_machine": 92.0,
        "cpu_ms_per_message": 84.0,
        "groups": {"Rasa servers": {"cores_used": 1.36, "cpu_ms_per_message": 62.0}},
    }
    figures = {"project": {"phases": {"20": {"cpu": cpu}}}, "cluster": {"phase": {"cpu": cpu}}}
    text = markdown(figures, chart=False)
    assert "## Where the CPU went" in text
    assert "project, 2 instances, 20 conversations: the machine 92 % busy" in text
    assert "stock, 20 conversations" not in text
    assert "## Where the CPU went" not in markdown({"project": {"phases": {"20": {}}}}, chart=False)
