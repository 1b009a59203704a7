"""Chinese time expressions to date-time ranges (昨天晚上 → yesterday 18:00–24:00).

Everything is computed against a reference time in China Standard Time (UTC+8,
no daylight saving), so results are reproducible in tests.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from bot.nlu.numerals import CHINESE_NUMERAL_CHARS, chinese_to_int

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

_NUM = rf"(?:\d+|[{CHINESE_NUMERAL_CHARS}]+)"
_RELATIVE_DAYS = {
    "大前天": -3,
    "前天": -2,
    "前日": -2,
    "昨天": -1,
    "昨日": -1,
    "昨儿": -1,
    "昨晚": -1,
    "昨夜": -1,
    "今天": 0,
    "今日": 0,
    "今儿": 0,
    "今早": 0,
    "今晚": 0,
    "明天": 1,
}
_DAY_WORD = re.compile("|".join(sorted(_RELATIVE_DAYS, key=len, reverse=True)))
_PARTS_OF_DAY: list[tuple[str, int, int]] = [
    ("凌晨", 0, 6),
    ("半夜", 0, 5),
    ("清晨", 5, 9),
    ("早上", 5, 10),
    ("早晨", 5, 10),
    ("今早", 5, 10),
    ("上午", 6, 12),
    ("中午", 11, 14),
    ("下午", 12, 18),
    ("傍晚", 17, 20),
    ("晚上", 18, 24),
    ("夜里", 20, 24),
    ("深夜", 22, 24),
    ("昨晚", 18, 24),
    ("昨夜", 20, 24),
    ("今晚", 18, 24),
    ("晚", 18, 24),
]
_PART_WORD = re.compile("|".join(name for name, _, _ in _PARTS_OF_DAY))
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_WEEK_PREFIX = r"(?P<week>上上|上|这|本|这个|上个)?(?:周|星期|礼拜)"
_WEEKDAY = re.compile(_WEEK_PREFIX + r"(?P<day>[一二三四五六日天末1-7])")
_WEEK_ONLY = re.compile(r"(?P<week>上上|上|这|本|这个|上个)(?:周|星期|礼拜)")
_MONTH_ONLY = re.compile(r"(?P<which>上上个|上个|这个|本)月")
_DAYS_AGO = re.compile(rf"(?P<n>{_NUM})\s*天(?:之)?前")
_HOURS_AGO = re.compile(rf"(?P<n>{_NUM}|半)\s*(?:个)?(?:小时|钟头)(?:之)?前")
_JUST_NOW = re.compile(r"刚才|刚刚|方才|刚")
_RECENT = re.compile(r"最近|这几天|这两天|近期")
_FULL_DATE = re.compile(r"(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})[日号]?")
_MONTH_DAY = re.compile(rf"(?P<m>{_NUM})\s*月\s*(?P<d>{_NUM})\s*[日号]")
_SLASH_DATE = re.compile(r"(?<![\d:])(?P<m>\d{1,2})/(?P<d>\d{1,2})(?![\d/])")
_CLOCK = re.compile(r"(?P<h>\d{1,2})\s*[:：]\s*(?P<mi>\d{2})")
_CLOCK_CN = re.compile(
    rf"(?P<h>{_NUM})\s*(?:点|點|时)(?:钟)?\s*(?:(?P<half>半)|(?P<q>一刻|三刻)|(?P<mi>{_NUM})\s*分?)?"
)


@dataclass(frozen=True)
class TimeRange:
    """A half-open range [start, end) with the grain the user spoke at."""

    start: datetime
    end: datetime
    grain: str

    def as_entity_value(self) -> dict[str, str]:
        """The canonical entity value, shaped like Duckling's intervals."""
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "grain": self.grain,
        }


def _number(text: str) -> int:
    return int(text) if text.isdigit() else chinese_to_int(text)


def _day_range(day: date, grain: str = "day") -> TimeRange:
    start = datetime.combine(day, time(0), CHINA_TZ)
    return TimeRange(start, start + timedelta(days=1), grain)


def _find_day(text: str, now: datetime) -> tuple[date | None, TimeRange | None]:
    """Return a single day the text names, or a wider range (week, month)."""
    today = now.date()
    match = _FULL_DATE.search(text)
    if match:
        return date(int(match["y"]), int(match["m"]), int(match["d"])), None
    match = _MONTH_DAY.search(text) or _SLASH_DATE.search(text)
    if match:
        month, day = _number(match["m"]), _number(match["d"])
        candidate = date(today.year, month, day)
        if candidate > today:  # "12月30号" said in January means last year
            candidate = date(today.year - 1, month, day)
        return candidate, None
    match = _DAY_WORD.search(text)
    if match:
        return today + timedelta(days=_RELATIVE_DAYS[match.group(0)]), None
    match = _DAYS_AGO.search(text)
    if match:
        return today - timedelta(days=_number(match["n"])), None
    match = _WEEKDAY.search(text)
    if match:
        weeks_back = {"上": 1, "上个": 1, "上上": 2}.get(match["week"] or "", 0)
        day_text = match["day"]
        weekday = int(day_text) - 1 if day_text.isdigit() else _WEEKDAYS[day_text]
        monday = today - timedelta(days=today.weekday() + 7 * weeks_back)
        candidate = monday + timedelta(days=weekday)
        if candidate > today and weeks_back == 0:
            candidate -= timedelta(days=7)  # users report the past: 周五 on a Wednesday
        if day_text == "末":
            start = datetime.combine(candidate, time(0), CHINA_TZ)
            return None, TimeRange(start, start + timedelta(days=2), "weekend")
        return candidate, None
    match = _WEEK_ONLY.search(text)
    if match:
        weeks_back = {"上": 1, "上个": 1, "上上": 2}.get(match["week"], 0)
        monday = today - timedelta(days=today.weekday() + 7 * weeks_back)
        start = datetime.combine(monday, time(0), CHINA_TZ)
        end = min(start + timedelta(days=7), now) if weeks_back == 0 else start + timedelta(days=7)
        return None, TimeRange(start, end, "week")
    match = _MONTH_ONLY.search(text)
    if match:
        back = {"上个": 1, "上上个": 2}.get(match["which"], 0)
        year, month = today.year, today.month - back
        while month < 1:
            year, month = year - 1, month + 12
        start = datetime(year, month, 1, tzinfo=CHINA_TZ)
        next_month = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=CHINA_TZ)
        return None, TimeRange(start, min(next_month, now) if back == 0 else next_month, "month")
    return None, None


def _find_clock(text: str) -> tuple[int, int, str] | None:
    match = _CLOCK.search(text)
    if match:
        return int(match["h"]), int(match["mi"]), "minute"
    match = _CLOCK_CN.search(text)
    if match:
        hour = _number(match["h"])
        if match["half"]:
            return hour, 30, "minute"
        if match["q"]:
            return hour, 15 if match["q"] == "一刻" else 45, "minute"
        if match["mi"]:
            return hour, _number(match["mi"]), "minute"
        return hour, 0, "hour"
    return None


def _find_part_of_day(text: str) -> tuple[str, int, int] | None:
    match = _PART_WORD.search(text)
    if not match:
        return None
    return next(part for part in _PARTS_OF_DAY if part[0] == match.group(0))


def parse_time(text: str, now: datetime | None = None) -> TimeRange | None:
    """Parse a Chinese time expression relative to ``now``.

    Args:
        text: The expression, e.g. 昨天晚上, 前天下午三点, 11月20号, 3天前, 21:03.
        now: The reference time; defaults to the current time in China.

    Returns:
        The range the expression denotes, or None when it names no time.
    """
    now = (now or datetime.now(CHINA_TZ)).astimezone(CHINA_TZ)
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None
    if _JUST_NOW.search(text) and not _CLOCK.search(text):
        return TimeRange(now - timedelta(hours=1), now, "recent")
    match = _HOURS_AGO.search(text)
    if match:
        hours = 0.5 if match["n"] == "半" else _number(match["n"])
        point = now - timedelta(hours=hours)
        return TimeRange(point - timedelta(minutes=30), point + timedelta(minutes=30), "hour")
    if _RECENT.search(text):
        return TimeRange(now - timedelta(days=7), now, "recent")

    day, wide = _find_day(text, now)
    if wide is not None:
        return wide
    part = _find_part_of_day(text)
    clock = _find_clock(text)
    if day is None and part is None and clock is None:
        return None
    explicit_day = day is not None
    day = day or now.date()

    if clock is not None:
        hour, minute, grain = clock
        if part is not None and part[1] >= 12 and hour < 12:
            hour += 12  # 晚上9点 = 21:00
        if not 0 <= hour <= 24 or not 0 <= minute < 60:
            return None
        start = datetime.combine(day, time(0), CHINA_TZ) + timedelta(hours=hour, minutes=minute)
        if not explicit_day and start > now:
            start -= timedelta(days=1)  # "21:03" said in the morning means last night
        return TimeRange(
            start, start + (timedelta(minutes=1) if grain == "minute" else timedelta(hours=1)), grain
        )
    if part is not None:
        _, first, last = part
        start = datetime.combine(day, time(0), CHINA_TZ) + timedelta(hours=first)
        if not explicit_day and start > now:
            start -= timedelta(days=1)
        return TimeRange(start, start + timedelta(hours=last - first), "part_of_day")
    return _day_range(day)
