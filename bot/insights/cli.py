"""Operator commands of the insights.

python -m bot.insights.cli export [--out var/review/nlu-review.yml]
    the labelled review items as Rasa NLU YAML, masked (never into data/: merge by hand)
python -m bot.insights.cli scan [--endpoints endpoints.yml]
    add the messages for review since the last scan (the console's queue does it too)
python -m bot.insights.cli report --from 2026-11-20 --to 2026-11-21 [--channel wechat] [--csv daily]
    the report as JSON (or one table as CSV) on stdout

The review queue lives in the handoff database (HANDOFF_DB_URL); the events are read from the
tracker store of ``--endpoints``. Exit status: 0 done, 1 the database failed, 2 bad usage or settings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.handoff.db import build_engine
from bot.handoff.errors import HandoffError
from bot.handoff.settings import HandoffSettings, SettingsError
from bot.insights import review_export
from bot.insights.conversations import conversations
from bot.insights.csv_export import TABLES, to_csv
from bot.insights.domain_facts import flows_of
from bot.insights.errors import UnsafeExportPath
from bot.insights.events import read_any, read_sql, sql_store
from bot.insights.period import parse_period
from bot.insights.report import build_report, read_period
from bot.insights.review_sources import all_candidates
from bot.insights.review_store import ReviewStore
from bot.insights.settings import InsightsSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.insights.cli", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="the labelled review items as Rasa NLU YAML")
    export.add_argument("--out", type=Path, help="default var/review/nlu-review-<time>.yml")
    for name, text in (("scan", "add new messages for review"), ("report", "the report of a period")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--endpoints", default="endpoints.yml", help="Rasa's endpoints file")
        command.add_argument("--domain", default="domain.yml", help="Rasa's domain file")
    report = commands.choices["report"]
    report.add_argument("--from", dest="first", help="first day, YYYY-MM-DD (China time)")
    report.add_argument("--to", dest="last", help="last day, YYYY-MM-DD")
    report.add_argument("--channel", choices=("widget", "wechat", "telegram", "rest", "other"))
    report.add_argument("--csv", choices=TABLES, help="print this table as CSV instead of JSON")
    return parser


def _review_store() -> ReviewStore:
    settings = HandoffSettings.from_env()
    store = ReviewStore(build_engine(settings.db_url, settings.db_timeout_seconds))
    store.create_schema()
    return store


def _tracker_store(endpoints: str, domain_path: str) -> Any:
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import read_endpoints_from_path
    from rasa.shared.core.domain import Domain

    domain = Domain.load(domain_path)
    config = read_endpoints_from_path(endpoints).tracker_store
    return TrackerStore.create(config, domain), domain


def _events(store: Any, since: float, until: float) -> Any:
    sql = sql_store(store)
    return read_sql(sql, since, until) if sql is not None else asyncio.run(read_any(store, since, until))


def _export(out: Path | None) -> int:
    items = _review_store().labelled()
    path = review_export.write(items, out or review_export.default_path())
    print(f"{len(items)} labelled messages written to {path} (merge into data/nlu/ by hand)")
    return 0


def _scan(endpoints: str, domain_path: str) -> int:
    settings, review = InsightsSettings.from_env(), _review_store()
    store, _ = _tracker_store(endpoints, domain_path)
    until = time.time()
    last = review.scanned_until()
    since = (last if last is not None else until - settings.review_backfill_days * 86400) - (
        settings.review_overlap_seconds
    )
    recent = [c for c in conversations(_events(store, since, until)) if c.ended_at >= since]
    added = review.add(all_candidates(recent, settings.low_confidence), until)
    print(f"{added} new messages for review")
    return 0


def _report(args: argparse.Namespace) -> int:
    settings = InsightsSettings.from_env()
    period = parse_period(args.first, args.last, settings.max_range_days)
    store, domain = _tracker_store(args.endpoints, args.domain)
    events = _events(store, period.start, period.end + settings.recontact_hours * 3600)
    seen = read_period(events, period, settings, args.channel)
    figures = build_report(seen, period, flows_of(domain), settings, time.time(), args.channel)
    text = to_csv(figures, args.csv) if args.csv else json.dumps(figures, ensure_ascii=False, indent=2) + "\n"
    sys.stdout.write(text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "export":
            return _export(args.out)
        if args.command == "scan":
            return _scan(args.endpoints, args.domain)
        return _report(args)
    except (SettingsError, UnsafeExportPath, HandoffError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (SQLAlchemyError, OSError):
        print("error: the database or the file system failed", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
