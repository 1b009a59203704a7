"""The insights' routes: who may call them (supervisor, agent, nobody), bad input from the
shared corpus, the report of the seeded conversations over HTTP, and the review queue."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.insights.review_export import check
from tests.bad_inputs import bad_messages, bad_payloads
from tests.insights.server import Running, running_insights

RANGE = {"from": "2026-11-20", "to": "2026-11-21"}
GETS = [
    ("/api/report", RANGE),
    ("/api/report.csv", {**RANGE, "table": "daily"}),
    ("/api/review", {"status": "open"}),
    ("/api/intents", {}),
    ("/api/review/export.yml", {}),
]


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _tokens(server: Running) -> dict[str, str | None]:
    return {
        "supervisor": await server.session("lead", "supervisor"),
        "agent": await server.session("xiaowang", "agent"),
        "nobody": None,
    }


def test_every_route_is_for_supervisors_only(tmp_path: Path, seeded_db: Path) -> None:
    async def check_all() -> None:
        async with running_insights(tmp_path, seeded_db) as server:
            tokens = await _tokens(server)
            expected = {"supervisor": 200, "agent": 403, "nobody": 401}
            for who, token in tokens.items():
                async with server.client(token) as http:
                    for path, params in GETS:
                        reply = await http.get(path, params=params)
                        assert reply.status_code == expected[who], (who, path, reply.text)
                        if who != "supervisor":
                            assert reply.json()["error"] in ("forbidden", "unauthorized")
                    labelled = await http.post("/api/review/1/label", json={"label": "ignore"})
                    assert labelled.status_code == {**expected, "supervisor": 200}[who], (who, labelled.text)
            async with server.client(tokens["supervisor"]) as http:  # a POST without the header
                refused = await http.post(
                    "/api/review/1/label", json={"label": "ignore"}, headers={"X-Console-Request": "0"}
                )
                assert refused.status_code == 403 and refused.json()["error"] == "csrf"

    _run(check_all())


def test_pages_are_static_and_data_free(tmp_path: Path, seeded_db: Path) -> None:
    async def pages() -> None:
        async with running_insights(tmp_path, seeded_db) as server, server.client(None) as http:
            for page in ("reports", "review"):
                reply = await http.get(f"/{page}")
                assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/html")
                assert "138" not in reply.text
            assert (await http.get("/static/../../../credentials.yml")).status_code == 404
            assert (await http.get("/static/app.py")).status_code == 404

    _run(pages())


BAD_DATES = [
    "2026-13-01",
    "2026-02-30",
    "20261120",
    "1999-12-31",
    "2101-01-01",
    "2026-11-20T00:00",
    " 2026-11-20",
    "２０２６-１１-２０",
]


def test_bad_dates_ranges_tables_and_channels(tmp_path: Path, seeded_db: Path) -> None:
    corpus = [v for v in bad_messages().values() if isinstance(v, str)]

    async def bad() -> None:
        async with running_insights(tmp_path, seeded_db) as server:
            token = await server.session("lead", "supervisor")
            async with server.client(token) as http:
                for value in [*BAD_DATES, *corpus]:
                    for key in ("from", "to"):
                        if value == "":
                            continue  # empty means the default range
                        params = {**RANGE, key: value}
                        for path in ("/api/report", "/api/report.csv"):
                            reply = await http.get(path, params=params)
                            if reply.status_code == 413:  # Sanic refuses the request line itself
                                assert value[:20] not in reply.text
                                continue
                            assert reply.status_code == 400, (path, key, value, reply.text)
                            body = reply.json()
                            assert body["error"] in ("invalid_period", "invalid_parameter")
                            assert value.strip() == "" or value not in body["message"]
                backwards = await http.get("/api/report", params={"from": "2026-11-21", "to": "2026-11-20"})
                assert backwards.status_code == 400
                huge = await http.get("/api/report", params={"from": "2000-01-01", "to": "2100-12-31"})
                assert huge.status_code == 400 and huge.json()["error"] == "invalid_period"
                over = await http.get("/api/report", params={"from": "2026-01-01", "to": "2026-04-03"})
                assert over.status_code == 400  # 93 days, one more than allowed
                longest = await http.get("/api/report", params={"from": "2026-01-01", "to": "2026-04-02"})
                assert longest.is_success
                twice = await http.get("/api/report?from=2026-11-20&from=2026-11-19&to=2026-11-21")
                assert twice.status_code == 400
                for table in ("nope", "../daily", *corpus[:10]):
                    if table:
                        reply = await http.get("/api/report.csv", params={**RANGE, "table": table})
                        assert reply.status_code == 400, table
                for channel in ("socketio", "WIDGET", "<b>", *corpus[:10]):
                    if channel.strip() and channel != "all":
                        reply = await http.get("/api/report", params={**RANGE, "channel": channel})
                        assert reply.status_code == 400, channel
                for status in ("closed", "<script>", *corpus[:5]):
                    if status:
                        assert (await http.get("/api/review", params={"status": status})).status_code == 400

    _run(bad())


def test_bad_labels_and_bodies(tmp_path: Path, seeded_db: Path) -> None:
    async def bad() -> None:
        async with running_insights(tmp_path, seeded_db) as server:
            token = await server.session("lead", "supervisor")
            async with server.client(token) as http:
                items = (await http.get("/api/review")).json()["items"]
                item = items[0]["id"]
                labels: list[Any] = ["not_an_intent", "nlu_fallback", "session_start", "Ignore", "", None, 3]
                for label in [*labels, ["greet"]]:
                    reply = await http.post(f"/api/review/{item}/label", json={"label": label})
                    assert reply.status_code == 400 and reply.json()["error"] == "unknown_intent", label
                for text in bad_messages().values():
                    reply = await http.post(f"/api/review/{item}/label", json={"label": text})
                    assert reply.status_code in (400, 413), repr(text)[:40]
                for case in bad_payloads().values():
                    raw = case.get("raw")
                    if raw is not None:
                        content = raw if isinstance(raw, bytes) else str(raw).encode()
                        reply = await http.post(f"/api/review/{item}/label", content=content)
                    else:
                        reply = await http.post(f"/api/review/{item}/label", json=case["body"])
                    assert reply.status_code in (400, 413), case
                    assert "你好" not in reply.text
                unknown = await http.post("/api/review/999999/label", json={"label": "greet"})
                assert unknown.status_code == 404
                assert (await http.post("/api/review/abc/label", json={"label": "greet"})).status_code == 404
                assert (await http.post(f"/api/review/{item}/label", content=b"x" * 40000)).status_code == 413
                still = (await http.get("/api/review", params={"status": "labelled"})).json()["items"]
                assert still == []  # nothing bad was stored

    _run(bad())


def test_report_over_http_is_the_seeded_one(tmp_path: Path, seeded_db: Path) -> None:
    async def report() -> None:
        async with running_insights(tmp_path, seeded_db) as server:
            token = await server.session("lead", "supervisor")
            async with server.client(token) as http:
                body = (await http.get("/api/report", params=RANGE)).json()
                assert body["totals"]["conversations"] == 11
                assert body["totals"]["true_contained"] == 3
                assert body["totals"]["wait"] == {"count": 4, "p50": 60.0, "p90": 300.0}
                assert body["csat"]["distribution"] == {"1": 0, "2": 1, "3": 1, "4": 0, "5": 1}
                assert "138" not in str(body)
                daily = await http.get("/api/report.csv", params=RANGE)
                assert daily.headers["content-type"].startswith("text/csv")
                assert "attachment" in daily.headers["content-disposition"]
                rows = list(csv.reader(io.StringIO(daily.text.lstrip("\ufeff"))))
                assert rows[0][:3] == ["day", "channel", "conversations"]
                assert rows[-1][:3] == ["total", "all", "11"]
                for table in ("funnel", "reasons", "csat_agents", "messages_left"):
                    exported = await http.get("/api/report.csv", params={**RANGE, "table": table})
                    assert exported.status_code == 200
                    for text in ("138", "wechat:", "widget:", "U1001", "H2026", "账户被锁"):
                        assert text not in exported.text, (table, text)
                quiet = {"from": "2026-10-01", "to": "2026-10-02"}
                empty = (await http.get("/api/report", params=quiet)).json()
                assert empty["totals"]["conversations"] == 0 and empty["totals"]["containment_rate"] is None

    _run(report())


def test_review_queue_label_and_export(tmp_path: Path, seeded_db: Path) -> None:
    async def review() -> None:
        async with running_insights(tmp_path, seeded_db) as server:
            token = await server.session("lead", "supervisor")
            async with server.client(token) as http:
                first = (await http.get("/api/review")).json()
                assert first["added"] == 10
                items = first["items"]
                again = (await http.get("/api/review")).json()
                assert again["added"] == 0 and len(again["items"]) == 10  # a scan adds each message once
                by_text = {i["text"]: i for i in items}
                assert {i["source"] for i in items} == {"fallback", "low_confidence", "misread", "handoff"}
                assert "我的账户被锁了 138****8000" in by_text  # masked in the store, masked here
                intents = (await http.get("/api/intents")).json()["intents"]
                assert "transaction_failed" in intents and "nlu_fallback" not in intents
                labels = {
                    "嗯嗯那个东西怎么弄": "transaction_failed",
                    "我的账户被锁了 138****8000": "account_security",
                    "手机号吧": "inform",
                    "就是那个啊": "ignore",
                }
                for text, label in labels.items():
                    reply = await http.post(f"/api/review/{by_text[text]['id']}/label", json={"label": label})
                    assert reply.status_code == 200 and reply.json()["item"]["label"] == label
                open_now = (await http.get("/api/review")).json()["items"]
                assert len(open_now) == 6
                exported = await http.get("/api/review/export.yml")
                text = exported.text
                check(text)
                data = yaml.safe_load(text)
                assert data["version"] == "3.1"
                examples = {b["intent"]: b["examples"] for b in data["nlu"]}
                assert examples == {
                    "account_security": "- 我的账户被锁了 138****8000\n",
                    "inform": "- 手机号吧\n",
                    "transaction_failed": "- 嗯嗯那个东西怎么弄\n",
                }
                assert "13800138000" not in text and "就是那个啊" not in text

    _run(review())


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_role_is_checked_on_every_call(tmp_path: Path, seeded_db: Path, role: str) -> None:
    """A supervisor demoted (or a session of an agent) is refused at once: no cached role."""

    async def call() -> None:
        async with running_insights(tmp_path, seeded_db) as server:
            token = await server.session("someone", role)
            async with server.client(token) as http:
                reply = await http.get("/api/report", params=RANGE)
                assert reply.status_code == (200 if role == "supervisor" else 403)

    _run(call())
