from datetime import datetime

import pytest

from bot.nlu.timeparse import CHINA_TZ, parse_time

# Wednesday 2026-11-25 10:30 in China
NOW = datetime(2026, 11, 25, 10, 30, tzinfo=CHINA_TZ)


def _fmt(text: str) -> tuple[str, str, str]:
    result = parse_time(text, NOW)
    assert result is not None, text
    return result.start.strftime("%m-%d %H:%M"), result.end.strftime("%m-%d %H:%M"), result.grain


@pytest.mark.parametrize(
    ("text", "start", "end", "grain"),
    [
        ("昨天晚上", "11-24 18:00", "11-25 00:00", "part_of_day"),
        ("昨晚9点", "11-24 21:00", "11-24 22:00", "hour"),
        ("昨天晚上九点半", "11-24 21:30", "11-24 21:31", "minute"),
        ("今天下午三点", "11-25 15:00", "11-25 16:00", "hour"),
        ("前天下午", "11-23 12:00", "11-23 18:00", "part_of_day"),
        ("前天", "11-23 00:00", "11-24 00:00", "day"),
        ("大前天", "11-22 00:00", "11-23 00:00", "day"),
        ("3天前", "11-22 00:00", "11-23 00:00", "day"),
        ("五天前", "11-20 00:00", "11-21 00:00", "day"),
        ("11月20号", "11-20 00:00", "11-21 00:00", "day"),
        ("十一月二十号", "11-20 00:00", "11-21 00:00", "day"),
        ("2026-11-20", "11-20 00:00", "11-21 00:00", "day"),
        ("上周五", "11-20 00:00", "11-21 00:00", "day"),
        ("周五", "11-20 00:00", "11-21 00:00", "day"),  # a past Friday, not the coming one
        ("上个月", "10-01 00:00", "11-01 00:00", "month"),
        ("这周", "11-23 00:00", "11-25 10:30", "week"),
        ("21:03", "11-24 21:03", "11-24 21:04", "minute"),  # later than now → yesterday
        ("昨天21:03", "11-24 21:03", "11-24 21:04", "minute"),
        ("刚才", "11-25 09:30", "11-25 10:30", "recent"),
        ("两个小时前", "11-25 08:00", "11-25 09:00", "hour"),
        ("晚上", "11-24 18:00", "11-25 00:00", "part_of_day"),
    ],
)
def test_time_expressions(text: str, start: str, end: str, grain: str) -> None:
    assert _fmt(text) == (start, end, grain)


def test_month_day_later_than_today_means_last_year() -> None:
    result = parse_time("12月30号", NOW)
    assert result is not None
    assert result.start.year == 2025


@pytest.mark.parametrize("text", ["", "苹果", "你好", "转账失败"])
def test_not_a_time(text: str) -> None:
    assert parse_time(text, NOW) is None


def test_entity_value_is_iso_with_china_offset() -> None:
    result = parse_time("昨天", NOW)
    assert result is not None
    assert result.as_entity_value() == {
        "from": "2026-11-24T00:00:00+08:00",
        "to": "2026-11-25T00:00:00+08:00",
        "grain": "day",
    }
