"""Natural-language times in English and Chinese: ``tomorrow at 3pm``, ``明天下午3点``.

English dates go to ``dateparser`` after this module has taken out what it
reads less well: recurrence (``every monday``), the time of day (``at 3`` is
15:00, ``evening`` 19:00) and ranges (``this week``). Chinese is read by the
small rules here (dateparser knows few Chinese forms): days (今天, 明天, 后天,
下周五, 3月15日, 15号), parts of the day (上午, 下午, 晚上), hours in digits or
Chinese numerals (三点半, 15:30), offsets (两小时后, 3天后) and recurrence
(每天, 每周一, 每月5号, 工作日).

Times are naive local datetimes. When a part is missing a default is assumed
(no time: 9:00) and listed in :attr:`ParsedTime.assumed`, so the reply can say
what was understood and the user can correct it.

>>> import datetime as dt
>>> now = dt.datetime(2025, 3, 10, 9, 0)   # a Monday
>>> parse_time("明天下午3点", now).start
datetime.datetime(2025, 3, 11, 15, 0)
>>> parse_time("every friday at 5pm", now).rrule
'FREQ=WEEKLY;BYDAY=FR'
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

__all__ = ["ParsedTime", "parse_time", "parse_range", "describe", "chinese_number", "next_occurrences"]

WEEKDAYS_EN = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
RRULE_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
_ZH_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5,
               "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_NUM = r"[0-9零〇一二两三四五六七八九十]+"
DEFAULT_HOUR = 9


@dataclass
class ParsedTime:
    """What a time phrase was understood as.

    Attributes:
        start: the (first) moment, a naive local datetime.
        rrule: an iCalendar recurrence rule (``"FREQ=WEEKLY;BYDAY=MO"``) or None.
        text: the phrase that was read.
        assumed: the defaults filled in, in words (``"no time given: 09:00"``).
        has_time: whether the phrase gave a time of day.
        has_date: whether it gave a day (a date, a weekday, an offset or a recurrence).
    """

    start: dt.datetime
    rrule: str | None = None
    text: str = ""
    assumed: list[str] = field(default_factory=list)
    has_time: bool = True
    has_date: bool = True

    def describe(self, lang: str = "en") -> str:
        return describe(self.start, self.rrule, lang)


def chinese_number(s: str) -> int | None:
    """``"15"``, ``"十五"``, ``"二十三"``, ``"两"`` -> an int (None if not a number up to 99).

    >>> chinese_number("二十三"), chinese_number("十"), chinese_number("7")
    (23, 10, 7)
    """
    if not s:
        return None
    if s.isdigit():
        return int(s)
    if "十" in s:
        tens, _, ones = s.partition("十")
        t = _ZH_DIGITS.get(tens, None) if tens else 1
        o = _ZH_DIGITS.get(ones, None) if ones else 0
        return None if t is None or o is None else t * 10 + o
    if len(s) == 1:
        return _ZH_DIGITS.get(s)
    digits = [_ZH_DIGITS.get(c) for c in s]
    return None if None in digits else int("".join(map(str, digits)))


# === Recurrence ===

_EN_RECUR = [
    (re.compile(r"\b(every\s*day|daily|each day|every (?:morning|evening|night))\b"), "FREQ=DAILY"),
    (re.compile(r"\b(every weekday|on weekdays|weekdays|every working day)\b"), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    (re.compile(r"\b(?:every|each)\s+(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b"), "WEEKDAY"),
    (re.compile(r"\b(?:on\s+)?(mondays|tuesdays|wednesdays|thursdays|fridays|saturdays|sundays)\b"), "WEEKDAY"),
    (re.compile(r"\b(every week|weekly|each week)\b"), "FREQ=WEEKLY"),
    (re.compile(r"\b(every month|monthly|each month)\b"), "FREQ=MONTHLY"),
    (re.compile(r"\b(every year|yearly|annually|each year)\b"), "FREQ=YEARLY"),
]
_ZH_RECUR = [
    (re.compile(r"(每个?工作日|工作日)"), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    (re.compile(r"每个?(?:周|星期|礼拜)([一二三四五六日天1-7])"), "WEEKDAY"),
    (re.compile(r"(每天|每日|天天)"), "FREQ=DAILY"),
    (re.compile(r"每个?(?:周|星期|礼拜)"), "FREQ=WEEKLY"),
    (re.compile(r"每个?月(" + _ZH_NUM + r")[号日]"), "MONTHDAY"),
    (re.compile(r"(每个?月)"), "FREQ=MONTHLY"),
    (re.compile(r"(每年)"), "FREQ=YEARLY"),
]


def _recurrence(text: str, zh: bool) -> tuple[str | None, str, int | None, int | None]:
    """``(rrule, text without it, weekday, month day)``."""
    for pattern, rule in (_ZH_RECUR if zh else _EN_RECUR):
        m = pattern.search(text)
        if not m:
            continue
        rest = (text[:m.start()] + " " + text[m.end():]).strip()
        if rule == "WEEKDAY":
            day = _ZH_WEEKDAY[m.group(1)] if zh else WEEKDAYS_EN.index(m.group(1).rstrip("s") if m.group(1).endswith("days") else m.group(1))
            return f"FREQ=WEEKLY;BYDAY={RRULE_DAYS[day]}", rest, day, None
        if rule == "MONTHDAY":
            n = chinese_number(m.group(1))
            return f"FREQ=MONTHLY;BYMONTHDAY={n}", rest, None, n
        return rule, rest, None, None
    return None, text, None, None


# === English ===

_EN_CLOCK = re.compile(
    r"\b(?:at\s+|@\s*|by\s+|around\s+)?(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)(?![a-z])"
    r"|\b(?:at\s+|@\s*|by\s+|around\s+)(\d{1,2})(?::(\d{2}))?(?!\s*(?:days?|hours?|minutes?|weeks?|months?|years?|st|nd|rd|th|/|-|\d))\b"
    r"|\b(\d{1,2}):(\d{2})\b"
)
_EN_PARTS = [
    (re.compile(r"\bnoon|midday\b"), 12, 0), (re.compile(r"\bmidnight\b"), 0, 0),
    (re.compile(r"\btonight\b"), 20, 0), (re.compile(r"\b(?:this\s+)?morning\b"), 9, 0),
    (re.compile(r"\b(?:this\s+)?afternoon\b"), 15, 0), (re.compile(r"\b(?:this\s+)?evening\b"), 19, 0),
    (re.compile(r"\bat night\b|\bnight\b"), 21, 0),
]
_EN_RELATIVE = re.compile(r"\bin\s+(?:a|an|\d+|one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|half an?)"
                          r"\s*(?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?)\b|\bfrom now\b")


def _english(text: str, now: dt.datetime) -> ParsedTime | None:
    import dateparser

    phrase = text.lower().strip()
    rrule, phrase, weekday, _ = _recurrence(phrase, zh=False)
    settings = {"RELATIVE_BASE": now, "PREFER_DATES_FROM": "future", "RETURN_AS_TIMEZONE_AWARE": False}
    assumed: list[str] = []
    if _EN_RELATIVE.search(phrase):
        when = dateparser.parse(phrase, settings=settings, languages=["en"])
        if when is not None:
            return ParsedTime(when.replace(second=0, microsecond=0), rrule, text, assumed, True)
    hour = minute = None
    m = _EN_CLOCK.search(phrase)
    if m:
        if m.group(1):
            hour, minute, ampm = int(m.group(1)), int(m.group(2) or 0), m.group(3).replace(".", "")
            hour = hour % 12 + (12 if ampm.startswith("p") else 0)
        elif m.group(4):
            hour, minute = int(m.group(4)), int(m.group(5) or 0)
            if 1 <= hour <= 7 and not m.group(5):  # "at 3": people mean the afternoon
                hour += 12
                assumed.append(f"'{m.group(0).strip()}' read as {hour}:00")
        else:
            hour, minute = int(m.group(6)), int(m.group(7))
        phrase = (phrase[:m.start()] + " " + phrase[m.end():]).strip()
    for pattern, h, mi in _EN_PARTS:
        p = pattern.search(phrase)
        if p:
            if hour is None:
                hour, minute = h, mi
            elif h >= 15 and hour < 12:  # "7 in the evening"
                hour += 12
            phrase = (phrase[:p.start()] + " " + phrase[p.end():]).strip()
            break
    if hour is not None and not (0 <= hour <= 23 and 0 <= (minute or 0) <= 59):
        return None
    phrase = re.sub(r"\b(at|on|in the|the|of|for|starting|from)\s*$", "", phrase).strip()
    phrase = re.sub(r"^(at|on|for|by|starting|from)\b", "", phrase).strip()
    day: dt.date | None = None
    if phrase:
        parsed = dateparser.parse(phrase, settings=settings, languages=["en"])
        if parsed is None:
            return None
        day = parsed.date()
    return _combine(day, hour, minute, now, rrule, weekday, None, text, assumed)


# === Chinese ===

_ZH_DAY_WORDS = {"今天": 0, "今日": 0, "今晚": 0, "今早": 0, "明天": 1, "明日": 1, "明早": 1, "明晚": 1,
                 "后天": 2, "大后天": 3, "昨天": -1}
_ZH_DAY = re.compile(r"大后天|后天|明天|明日|明早|明晚|今天|今日|今晚|今早|昨天")
_ZH_WEEK = re.compile(r"(下下|下个?|这个?|本|上个?)?(?:周|星期|礼拜)([一二三四五六日天末1-7])")
_ZH_DATE = re.compile(r"(?:(" + _ZH_NUM + r")月)?(" + _ZH_NUM + r")[日号]")
_ZH_OFFSET = re.compile(r"(" + _ZH_NUM + r"|半)\s*个?\s*(分钟|小时|钟头|天|星期|周)\s*(?:以?后|之后)")
_ZH_PERIOD = re.compile(r"凌晨|早上|早晨|清晨|上午|中午|午后|下午|傍晚|晚上|夜里|夜间|今晚|明晚|今早|明早")
_ZH_CLOCK = re.compile(r"(" + _ZH_NUM + r")\s*[点點时:：]\s*(?:(半)|(一刻)|(三刻)|(" + _ZH_NUM + r")\s*分?)?")


def _chinese(text: str, now: dt.datetime) -> ParsedTime | None:
    phrase = text.strip()
    rrule, phrase, weekday, monthday = _recurrence(phrase, zh=True)
    assumed: list[str] = []
    m = _ZH_OFFSET.search(phrase)
    if m:
        n = 0.5 if m.group(1) == "半" else chinese_number(m.group(1))
        if n is None:
            return None
        unit = {"分钟": dt.timedelta(minutes=1), "小时": dt.timedelta(hours=1), "钟头": dt.timedelta(hours=1),
                "天": dt.timedelta(days=1), "星期": dt.timedelta(weeks=1), "周": dt.timedelta(weeks=1)}[m.group(2)]
        when = now + n * unit
        if m.group(2) in ("天", "星期", "周"):
            rest = _chinese(phrase[:m.start()] + phrase[m.end():], when) if _ZH_CLOCK.search(phrase) else None
            if rest is not None:
                return ParsedTime(dt.datetime.combine(when.date(), rest.start.time()), rrule, text, assumed, True)
        return ParsedTime(when.replace(second=0, microsecond=0), rrule, text, assumed, True)
    day: dt.date | None = None
    d = _ZH_DAY.search(phrase)
    if d:
        day = now.date() + dt.timedelta(days=_ZH_DAY_WORDS[d.group()])
    w = _ZH_WEEK.search(phrase)
    if w and day is None:
        target = _ZH_WEEKDAY[w.group(2)]
        monday = now.date() - dt.timedelta(days=now.weekday())
        prefix = w.group(1) or ""
        if prefix.startswith("下下"):
            day = monday + dt.timedelta(days=14 + target)
        elif prefix.startswith("下"):
            day = monday + dt.timedelta(days=7 + target)
        elif prefix.startswith("上"):
            day = monday + dt.timedelta(days=-7 + target)
        elif prefix:
            day = monday + dt.timedelta(days=target)
        else:  # 周五: the next one (today counts)
            day = now.date() + dt.timedelta(days=(target - now.weekday()) % 7)
    dm = _ZH_DATE.search(phrase)
    if dm and day is None:
        month = chinese_number(dm.group(1)) if dm.group(1) else now.month
        mday = chinese_number(dm.group(2))
        try:
            day = dt.date(now.year, month, mday)
        except (TypeError, ValueError):
            return None
        if day < now.date():  # a date already past: next month or next year
            try:
                day = dt.date(now.year + 1, month, mday) if dm.group(1) else _add_month(day)
            except ValueError:
                return None
    hour = minute = None
    c = _ZH_CLOCK.search(phrase)
    if c and not (dm and c.start() < dm.end() and c.group(0).endswith(("日", "号"))):
        hour = chinese_number(c.group(1))
        minute = 30 if c.group(2) else 15 if c.group(3) else 45 if c.group(4) else (chinese_number(c.group(5)) if c.group(5) else 0)
        if hour is None or minute is None:
            return None
    p = _ZH_PERIOD.search(phrase)
    if p:
        period = p.group()
        if hour is None:
            hour = {"凌晨": 6, "早上": 8, "早晨": 8, "清晨": 7, "今早": 8, "明早": 8, "上午": 9, "中午": 12,
                    "午后": 14, "下午": 15, "傍晚": 18, "晚上": 19, "夜里": 22, "夜间": 22, "今晚": 20, "明晚": 20}[period]
            minute = 0
        elif period in ("下午", "傍晚", "晚上", "夜里", "夜间", "今晚", "明晚", "午后") and hour < 12:
            hour += 12
        elif period == "中午" and hour < 11:
            hour += 12
        elif period == "凌晨" and hour == 12:
            hour = 0
    if day is None and hour is None and rrule is None:
        return None
    if hour is not None and not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return _combine(day, hour, minute, now, rrule, weekday, monthday, text, assumed)


def _add_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, day.day)


# === Both ===

def _combine(day: dt.date | None, hour: int | None, minute: int | None, now: dt.datetime, rrule: str | None,
             weekday: int | None, monthday: int | None, text: str, assumed: list[str]) -> ParsedTime:
    has_time = hour is not None
    if hour is None:
        hour, minute = DEFAULT_HOUR, 0
        assumed.append(f"no time given: {DEFAULT_HOUR:02d}:00")
    explicit_day = day is not None
    if day is None:
        day = now.date()
    if weekday is not None and not explicit_day:
        day = now.date() + dt.timedelta(days=(weekday - now.weekday()) % 7)
    if monthday is not None and not explicit_day:
        try:
            day = now.date().replace(day=monthday)
        except ValueError:
            day = now.date()
        if day < now.date():
            day = _add_month(day)
    start = dt.datetime.combine(day, dt.time(hour, minute or 0))
    if not explicit_day and start < now:  # "at 5pm" said at 6pm: tomorrow (or the next occurrence)
        step = dt.timedelta(days=7 if weekday is not None else 1)
        if monthday is not None:
            start = dt.datetime.combine(_add_month(day), start.time())
        else:
            start += step
    has_date = explicit_day or weekday is not None or monthday is not None or rrule is not None
    return ParsedTime(start, rrule, text, assumed, has_time, has_date)


def parse_time(text: str, now: dt.datetime | None = None, lang: str | None = None) -> ParsedTime | None:
    """Read a time phrase (English or Chinese); None when it holds no time."""
    from ..nlu.tokenize import has_cjk

    if not isinstance(text, str) or not text.strip():
        return None
    now = (now or dt.datetime.now()).replace(second=0, microsecond=0)
    zh = lang == "zh" or (lang is None and has_cjk(text))
    return _chinese(text, now) if zh else _english(text, now)


# === Ranges (what to list) ===

_EN_RANGES = {
    "today": (0, 1), "tonight": (0, 1), "tomorrow": (1, 1), "this week": ("week", 0), "next week": ("week", 1),
    "this weekend": ("weekend", 0), "weekend": ("weekend", 0), "this month": ("month", 0), "next month": ("month", 1),
}
_ZH_RANGES = {
    "今天": (0, 1), "今日": (0, 1), "今晚": (0, 1), "明天": (1, 1), "后天": (2, 1), "本周": ("week", 0),
    "这周": ("week", 0), "这个星期": ("week", 0), "本星期": ("week", 0), "下周": ("week", 1), "下个星期": ("week", 1),
    "下星期": ("week", 1), "周末": ("weekend", 0), "这个月": ("month", 0), "本月": ("month", 0), "下个月": ("month", 1),
}


def parse_range(text: str | None, now: dt.datetime | None = None, lang: str | None = None,
                default_days: int = 7) -> tuple[dt.datetime, dt.datetime, str]:
    """``(start, end, label)`` of a period to list: today, this week, 下周, a day ...

    Without a period: from the start of today for ``default_days`` days.
    """
    from ..nlu.tokenize import has_cjk

    now = now or dt.datetime.now()
    today = dt.datetime.combine(now.date(), dt.time())
    phrase = (text or "").strip().lower()
    table = _ZH_RANGES if has_cjk(phrase) else _EN_RANGES
    for key in sorted(table, key=len, reverse=True):
        if key and key in phrase:
            kind, n = table[key]
            if isinstance(kind, int):
                start = today + dt.timedelta(days=kind)
                return start, start + dt.timedelta(days=n), key
            if kind == "week":
                start = today - dt.timedelta(days=now.weekday()) + dt.timedelta(weeks=n)
                return start, start + dt.timedelta(days=7), key
            if kind == "weekend":
                start = today + dt.timedelta(days=(5 - now.weekday()) % 7)
                return start, start + dt.timedelta(days=2), key
            first = today.replace(day=1)
            if n:
                first = first.replace(year=first.year + (first.month == 12), month=first.month % 12 + 1)
            nxt = first.replace(year=first.year + (first.month == 12), month=first.month % 12 + 1)
            return first, nxt, key
    parsed = parse_time(phrase, now, lang) if phrase else None
    if parsed is not None:
        start = dt.datetime.combine(parsed.start.date(), dt.time())
        return start, start + dt.timedelta(days=1), parsed.start.strftime("%a %d %b")
    return today, today + dt.timedelta(days=default_days), f"the next {default_days} days"


# === Recurrence expansion and display ===

def next_occurrences(start: dt.datetime, rrule: str | None, after: dt.datetime, before: dt.datetime,
                     limit: int = 500) -> list[dt.datetime]:
    """The occurrences of an event in ``[after, before)``."""
    if not rrule:
        return [start] if after <= start < before else []
    from dateutil.rrule import rrulestr

    rule = rrulestr(f"RRULE:{rrule}", dtstart=start)
    out = []
    for when in rule.xafter(after - dt.timedelta(microseconds=1), count=limit, inc=True):
        if when >= before:
            break
        if when >= after:
            out.append(when)
    return out


def describe(when: dt.datetime, rrule: str | None = None, lang: str = "en") -> str:
    """``"Tue 11 Mar 2025 15:00"`` / ``"2025年3月11日(周二) 15:00"``, with the recurrence in words."""
    if lang == "zh":
        text = f"{when.year}年{when.month}月{when.day}日(周{'一二三四五六日'[when.weekday()]}) {when:%H:%M}"
    else:
        text = when.strftime("%a %d %b %Y %H:%M")
    if rrule:
        text += ", " + _describe_rrule(rrule, lang)
    return text


def _describe_rrule(rrule: str, lang: str) -> str:
    parts = dict(p.split("=", 1) for p in rrule.split(";") if "=" in p)
    freq, days = parts.get("FREQ"), parts.get("BYDAY")
    if lang == "zh":
        if days == "MO,TU,WE,TH,FR":
            return "每个工作日"
        if days:
            return "每" + "、".join("周" + "一二三四五六日"[RRULE_DAYS.index(d)] for d in days.split(","))
        return {"DAILY": "每天", "WEEKLY": "每周", "MONTHLY": "每月", "YEARLY": "每年"}.get(freq, rrule)
    if days == "MO,TU,WE,TH,FR":
        return "every weekday"
    if days:
        return "every " + ", ".join(WEEKDAYS_EN[RRULE_DAYS.index(d)].capitalize() for d in days.split(","))
    return {"DAILY": "every day", "WEEKLY": "every week", "MONTHLY": "every month", "YEARLY": "every year"}.get(freq, rrule)
