"""The same report and review queue on PostgreSQL (the cluster's tracker and handoff store):
the seeded conversations written through the masking tracker store into a fresh schema.
Skipped when the server at HANDOFF_TEST_PG_URL is unreachable, except with CI=true."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.handoff.db import build_engine
from bot.insights.conversations import conversations
from bot.insights.domain_facts import flows_of
from bot.insights.events import read_sql
from bot.insights.period import Period, parse_day
from bot.insights.report import build_report, read_period
from bot.insights.review_sources import all_candidates
from bot.insights.review_store import ReviewStore
from bot.insights.settings import InsightsSettings
from bot.tracker_store import MaskingSQLTrackerStore
from tests.insights.seed import DAY1, DAY2, at, domain, seed

PG_URL = os.environ.get("HANDOFF_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def schema() -> Iterator[str]:
    engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
    name = f"insights_test_{uuid.uuid4().hex[:12]}"
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
    except OperationalError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("PostgreSQL is not reachable")
    try:
        yield name
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        engine.dispose()


def test_report_and_review_on_postgres(schema: str) -> None:
    url = make_url(PG_URL)
    store = MaskingSQLTrackerStore(
        domain=domain(),
        dialect="postgresql",
        host=url.host,
        port=url.port,
        db=url.database,
        username=url.username,
        password=url.password,
        query={"options": f"-csearch_path={schema}"},
    )
    asyncio.run(seed(store))
    events = read_sql(store, at(DAY1, "00:00:00"), at(DAY2, "23:59:59") + 86400)
    period, settings = Period(parse_day(DAY1), parse_day(DAY2)), InsightsSettings()
    figures = build_report(read_period(events, period, settings), period, flows_of(domain()), settings, 0.0)
    assert (figures["totals"]["conversations"], figures["totals"]["true_contained"]) == (11, 3)
    assert figures["totals"]["first_response"] == {"count": 4, "p50": 90.0, "p90": 360.0}
    review = ReviewStore(build_engine(str(url.update_query_dict({"options": f"-csearch_path={schema}"}))))
    review.create_schema()
    found = all_candidates(conversations(events), settings.low_confidence)
    assert review.add(found, 1.0) == 10 and review.add(found, 2.0) == 0
    item = review.items("open")[0]
    assert review.label(item.id, "greet", 1).label == "greet"
    store.engine.dispose()
    review.engine.dispose()
