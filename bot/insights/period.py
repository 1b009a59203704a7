"""The date range of a report: China calendar days, from the first to the last, inclusive."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.handoff.models import CHINA_TZ
from bot.insights.errors import InvalidPeriod

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


@dataclass(frozen=True)
class Period:
    """Days ``first`` to ``last`` (China time), both included."""

    first: date
    last: date

    @property
    def start(self) -> float:
        """The first day's midnight, China time, in unix seconds."""
        return datetime.combine(self.first, time(0), CHINA_TZ).timestamp()

    @property
    def end(self) -> float:
        """The midnight after the last day, China time, in unix seconds (excluded)."""
        return datetime.combine(self.last + timedelta(days=1), time(0), CHINA_TZ).timestamp()

    @property
    def days(self) -> list[date]:
        """Every day of the period, in order."""
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def china_day(timestamp: float) -> date:
    """The China calendar day of a unix time."""
    return datetime.fromtimestamp(timestamp, CHINA_TZ).date()


def parse_day(raw: object) -> date:
    """A ``YYYY-MM-DD`` day between 2000 and 2100 (InvalidPeriod otherwise)."""
    if not isinstance(raw, str) or not _DATE.fullmatch(raw):
        raise InvalidPeriod("日期格式应为 YYYY-MM-DD。")
    try:
        day = date.fromisoformat(raw)
    except ValueError as error:
        raise InvalidPeriod("日期不存在。") from error
    if not EARLIEST <= day <= LATEST:
        raise InvalidPeriod("日期超出范围。")
    return day


def parse_period(first: object, last: object, max_days: int, today: date | None = None) -> Period:
    """The period of two query values; absent ones default to the last 7 days up to ``today``.

    Raises:
        InvalidPeriod: a malformed day, the last before the first, or more than ``max_days``.
    """
    today = today or datetime.now(CHINA_TZ).date()
    last_day = parse_day(last) if last not in (None, "") else today
    first_day = parse_day(first) if first not in (None, "") else last_day - timedelta(days=6)
    if last_day < first_day:
        raise InvalidPeriod("结束日期不能早于开始日期。")
    if (last_day - first_day).days + 1 > max_days:
        raise InvalidPeriod(f"日期范围最长 {max_days} 天。")
    return Period(first_day, last_day)
