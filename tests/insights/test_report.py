"""The report of the seeded conversations (tests/insights/seed.py): every figure known in advance."""

from __future__ import annotations

from typing import Any

import pytest

from bot.insights.domain_facts import flows_of
from bot.insights.events import Events
from bot.insights.period import Period
from bot.insights.report import build_report, read_period
from bot.insights.settings import InsightsSettings
from tests.insights.seed import DAY2, at, domain

NONE = {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}
NOW = at("2026-12-01", "12:00:00")  # well after every SLA ran out


@pytest.fixture(scope="module")
def report(seeded_events: Events) -> dict[str, Any]:
    from bot.insights.period import parse_day

    period = Period(parse_day("2026-11-20"), parse_day(DAY2))
    settings = InsightsSettings()
    seen = read_period(seeded_events, period, settings)
    return build_report(seen, period, flows_of(domain()), settings, NOW)


def test_conversations_and_containment(report: dict[str, Any]) -> None:
    totals = report["totals"]
    assert totals["conversations"] == 11
    assert totals["contained"] == 5  # A, B, B2, C, H
    assert totals["containment_rate"] == round(5 / 11, 4)
    # B's user is back that evening, C's user (U1001) on Telegram: A, B2 and H stay contained
    assert totals["true_contained"] == 3
    assert totals["true_containment_rate"] == round(3 / 11, 4)
    assert totals["handoffs"] == 6
    assert totals["handoff_rate"] == round(6 / 11, 4)
    assert totals["handoff_requests"] == 6


def test_per_day_and_channel(report: dict[str, Any]) -> None:
    rows = {(r["day"], r["channel"]): r for r in report["daily"]}
    assert sorted(rows) == [
        ("2026-11-20", "telegram"),
        ("2026-11-20", "wechat"),
        ("2026-11-20", "widget"),
        ("2026-11-21", "rest"),
        ("2026-11-21", "telegram"),
        ("2026-11-21", "wechat"),
        ("2026-11-21", "widget"),
    ]
    assert {k: r["conversations"] for k, r in rows.items()} == {
        ("2026-11-20", "telegram"): 1,
        ("2026-11-20", "wechat"): 2,
        ("2026-11-20", "widget"): 2,
        ("2026-11-21", "rest"): 1,
        ("2026-11-21", "telegram"): 1,
        ("2026-11-21", "wechat"): 1,
        ("2026-11-21", "widget"): 3,
    }
    day1_wechat = rows[("2026-11-20", "wechat")]
    assert (day1_wechat["contained"], day1_wechat["true_contained"]) == (2, 1)
    day2_widget = rows[("2026-11-21", "widget")]
    assert (day2_widget["handoffs"], day2_widget["messages_left"]) == (3, 1)
    assert day2_widget["wait"] == {"count": 2, "p50": 30.0, "p90": 300.0}


def test_reasons_topics_outcomes(report: dict[str, Any]) -> None:
    assert report["reasons"] == {
        "user_request": 4,
        "not_understood": 1,
        "flow_unresolved": 1,
        "security_urgent": 0,
    }
    assert report["outcomes"] == {"expired": 1, "handed_back": 1, "message_left": 1, "resolved": 3}
    assert report["topics"] == {"complaint": 1, "other": 5}  # the topic raised before the request


def test_waits(report: dict[str, Any]) -> None:
    totals = report["totals"]
    assert totals["wait"] == {"count": 4, "p50": 60.0, "p90": 300.0}
    assert totals["first_response"] == {"count": 4, "p50": 90.0, "p90": 360.0}
    assert totals["resolution"] == {"count": 3, "p50": 600.0, "p90": 1000.0}


def test_csat(report: dict[str, Any]) -> None:
    csat = report["csat"]
    assert csat["count"] == 3
    assert csat["average"] == 3.33
    assert csat["distribution"] == {"1": 0, "2": 1, "3": 1, "4": 0, "5": 1}
    assert csat["agents"] == [
        {"agent": "小王", "count": 2, "average": 4.0, "distribution": {**NONE, "3": 1, "5": 1}},
        {"agent": "老李", "count": 1, "average": 2.0, "distribution": {**NONE, "2": 1}},
    ]


def test_funnels(report: dict[str, Any]) -> None:
    funnels = {f["flow"]: f for f in report["funnels"]}
    assert funnels["password_reset_form"]["started"] == 1
    assert funnels["password_reset_form"]["completed"] == 1
    transaction = funnels["transaction_form"]
    assert [s["reached"] for s in transaction["steps"]] == [1, 1, 0]
    assert transaction["completed"] == 0
    assert transaction["left"] == {"start": 0, "identity_contact": 0, "identity_code": 1, "transaction_id": 0}
    update = funnels["update_form"]
    assert [s["reached"] for s in update["steps"]] == [1, 0, 0, 0, 0]
    assert update["left"]["account_field"] == 1
    complaint = funnels["complaint_form"]
    assert [s["reached"] for s in complaint["steps"]] == [1, 1, 1, 1]
    assert (complaint["completed"], complaint["completion_rate"]) == (1, 1.0)
    assert funnels["security_form"]["started"] == 0


def test_messages_left(report: dict[str, Any]) -> None:
    left = report["messages_left"]
    assert left["count"] == 2
    assert left["answered_within_sla"] == 1  # F: answered on its channel 2 h later
    assert left["overdue"] == 1  # G: never answered
    assert (left["answered_late"], left["open_within_sla"]) == (0, 0)
    assert left["answer_time"] == {"count": 1, "p50": 7200.0, "p90": 7200.0}


def test_channel_filter(seeded_events: Events, period: Period) -> None:
    settings = InsightsSettings()
    seen = read_period(seeded_events, period, settings, channel="telegram")
    report = build_report(seen, period, flows_of(domain()), settings, NOW, "telegram")
    assert report["totals"]["conversations"] == 2
    assert report["csat"]["count"] == 2


def test_stored_events_are_masked(seeded_events: Events) -> None:
    texts = [e.get("text") for events in seeded_events.values() for e in events if e.get("event") == "user"]
    assert "13800138000" not in " ".join(str(t) for t in texts)
    assert any("138****8000" in str(t) for t in texts)
