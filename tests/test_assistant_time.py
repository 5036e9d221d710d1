"""Natural-language times in English and Chinese, ranges and recurrence."""

from __future__ import annotations

import datetime as dt

import pytest

from jupyter_llm.assistant.timeparse import chinese_number, describe, next_occurrences, parse_range, parse_time

NOW = dt.datetime(2025, 3, 10, 18, 0)  # Monday evening


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute)


@pytest.mark.parametrize("text, expected", [
    ("tomorrow at 3pm", at(11, 15)),
    ("3pm tomorrow", at(11, 15)),
    ("at 5pm", at(11, 17)),  # already past today: tomorrow
    ("at 3", at(11, 15)),  # a bare small hour is the afternoon
    ("friday 10am", at(14, 10)),
    ("on friday at 10:30am", at(14, 10, 30)),
    ("in 2 hours", at(10, 20)),
    ("in 30 minutes", at(10, 18, 30)),
    ("tonight", at(10, 20)),
    ("tomorrow morning", at(11, 9)),
    ("tomorrow evening", at(11, 19)),
    ("march 15 at noon", at(15, 12)),
    ("the day after tomorrow at 10", at(12, 10)),
    ("15:30", at(11, 15, 30)),
])
def test_english_times(text, expected):
    assert parse_time(text, NOW).start == expected


@pytest.mark.parametrize("text, expected", [
    ("明天下午3点", at(11, 15)),
    ("明天下午三点", at(11, 15)),
    ("今天晚上8点", at(10, 20)),
    ("下午3点", at(11, 15)),  # past today: tomorrow
    ("后天", at(12, 9)),
    ("下周五", at(21, 9)),
    ("周五上午10点", at(14, 10)),
    ("下周三下午两点半", at(19, 14, 30)),
    ("大后天上午十点一刻", at(13, 10, 15)),
    ("明晚七点", at(11, 19)),
    ("两小时后", at(10, 20)),
    ("3月15日", at(15, 9)),
    ("15号", at(15, 9)),
    ("中午12点", at(11, 12)),
])
def test_chinese_times(text, expected):
    assert parse_time(text, NOW).start == expected


@pytest.mark.parametrize("text, rrule, first", [
    ("every monday at 9am", "FREQ=WEEKLY;BYDAY=MO", at(17, 9)),
    ("every day at 8", "FREQ=DAILY", at(11, 8)),
    ("on weekdays at 7:30am", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", at(11, 7, 30)),
    ("每周一上午9点", "FREQ=WEEKLY;BYDAY=MO", at(17, 9)),
    ("每天早上8点", "FREQ=DAILY", at(11, 8)),
    ("工作日早上七点半", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", at(11, 7, 30)),
    ("每月5号", "FREQ=MONTHLY;BYMONTHDAY=5", at(5, 9, month=4)),
])
def test_recurrence(text, rrule, first):
    p = parse_time(text, NOW)
    assert (p.rrule, p.start) == (rrule, first)


def test_assumptions_are_reported():
    p = parse_time("next friday", NOW)
    assert p.start == at(14, 9) and p.assumed == ["no time given: 09:00"] and not p.has_time and p.has_date
    q = parse_time("3pm", NOW)
    assert q.has_time and not q.has_date
    assert parse_time("at 3", NOW).assumed == ["'at 3' read as 15:00"]


def test_unreadable_times_are_none():
    assert parse_time("", NOW) is None
    assert parse_time("whenever you like", NOW) is None
    assert parse_time("没有时间", NOW) is None


def test_ranges():
    assert parse_range("today", NOW)[:2] == (at(10, 0), at(11, 0))
    assert parse_range("this week", NOW)[:2] == (at(10, 0), at(17, 0))
    assert parse_range("下周", NOW)[:2] == (at(17, 0), at(24, 0))
    assert parse_range("明天", NOW)[:2] == (at(11, 0), at(12, 0))
    assert parse_range("friday", NOW)[:2] == (at(14, 0), at(15, 0))
    assert parse_range(None, NOW)[:2] == (at(10, 0), at(17, 0))


def test_occurrences_and_description():
    start = at(10, 9)
    weekly = next_occurrences(start, "FREQ=WEEKLY;BYDAY=MO", at(10, 0), at(31, 0))
    assert weekly == [at(10, 9), at(17, 9), at(24, 9)]
    assert next_occurrences(start, None, at(11, 0), at(12, 0)) == []
    assert describe(at(11, 15), "FREQ=WEEKLY;BYDAY=MO") == "Tue 11 Mar 2025 15:00, every Monday"
    assert describe(at(11, 15), "FREQ=DAILY", "zh") == "2025年3月11日(周二) 15:00, 每天"


def test_chinese_numbers():
    assert [chinese_number(s) for s in ("7", "十", "十五", "二十三", "两", "零")] == [7, 10, 15, 23, 2, 0]
    assert chinese_number("百") is None
