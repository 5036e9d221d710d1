"""Expanding repeating events: RRULE, UNTIL, EXDATE and RDATE the way calendar apps write them.

An event's ``start`` is a naive local datetime. A zoned event also keeps its
``tzid`` (an IANA name such as ``"America/New_York"``): it repeats at the same
clock time in that zone, across daylight-saving changes, and each occurrence is
converted to local time. A floating event (no ``tzid``) repeats in local time.

``UNTIL`` is accepted as calendar apps export it: in UTC (``...T130000Z``) with
a zoned or a floating start, as a local date-time, or as a date (the whole day
counts). A rule that cannot be read raises :class:`RecurrenceError` with one
sentence naming the rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from ..errors import DataError

__all__ = ["RecurrenceError", "check_rrule", "expand", "zone"]

#: Most occurrences one expansion returns (a guard against rules that never end).
LIMIT = 500
EXAMPLE = "'FREQ=WEEKLY;BYDAY=MO' or 'FREQ=DAILY;UNTIL=20260331T130000Z'"


class RecurrenceError(DataError):
    """A repeat rule (RRULE) that cannot be read."""


def zone(tzid: str | None) -> dt.tzinfo | None:
    """The tzinfo of an IANA zone name (None: floating, or a name this system does not know)."""
    if not tzid:
        return None
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(tzid)
    except (ValueError, OSError, KeyError):
        return None


def _until(value: str, dtstart: dt.datetime) -> dt.datetime:
    """UNTIL as a bound comparable with ``dtstart`` (aware iff ``dtstart`` is)."""
    value = value.strip().upper()
    zoned = dtstart.tzinfo is not None
    if len(value) == 8:  # a date: the whole day counts
        day = dt.datetime.strptime(value, "%Y%m%d")
        bound = dt.datetime.combine(day.date(), dt.time(23, 59, 59))
        return bound.replace(tzinfo=dtstart.tzinfo) if zoned else bound
    utc = value.endswith("Z")
    bound = dt.datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
    if utc:
        bound = bound.replace(tzinfo=dt.timezone.utc)
        return bound if zoned else bound.astimezone().replace(tzinfo=None)  # floating: that instant, local
    return bound.replace(tzinfo=dtstart.tzinfo) if zoned else bound


def _rule(rrule: str, dtstart: dt.datetime):
    """The dateutil rule of ``rrule`` starting at ``dtstart``; RecurrenceError if it cannot be read."""
    from dateutil.rrule import rrulestr

    text = rrule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts = [p for p in text.split(";") if p.strip()]
    until = [p.split("=", 1)[1] for p in parts if p.upper().startswith("UNTIL=")]
    rest = ";".join(p for p in parts if not p.upper().startswith("UNTIL="))
    try:
        if "FREQ=" not in rest.upper():
            raise ValueError("it has no FREQ")
        rule = rrulestr(f"RRULE:{rest}", dtstart=dtstart)
        if until:
            rule = rule.replace(until=_until(until[0], dtstart))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as e:
        raise RecurrenceError(f"The repeat rule '{rrule}' cannot be read ({e}). Expected an iCalendar RRULE such as "
                              f"{EXAMPLE}.") from None
    return rule


def check_rrule(rrule: str | None, start: dt.datetime, tzid: str | None = None) -> None:
    """Raise :class:`RecurrenceError` unless ``rrule`` (None: not repeating) can be expanded from ``start``."""
    if rrule:
        expand(start, rrule, start, start + dt.timedelta(days=1), tzid=tzid)


def expand(start: dt.datetime, rrule: str | None, after: dt.datetime, before: dt.datetime, *,
           tzid: str | None = None, exdates: Iterable[dt.datetime] = (), rdates: Iterable[dt.datetime] = (),
           limit: int = LIMIT) -> list[dt.datetime]:
    """The occurrences in ``[after, before)`` as naive local datetimes, in time order.

    Args:
        start: the first occurrence, naive local time.
        rrule: the repeat rule (``"FREQ=WEEKLY;BYDAY=MO"``) or None.
        after, before: the window, naive local times.
        tzid: the zone the event repeats in (None: floating, repeats in local time).
        exdates: occurrences removed (naive local), as ``EXDATE``.
        rdates: occurrences added (naive local), as ``RDATE``.
    """
    tz = zone(tzid)
    found: set[dt.datetime] = set()
    if rrule:
        dtstart = start.astimezone(tz) if tz else start
        rule = _rule(rrule, dtstart)
        low = after - dt.timedelta(microseconds=1)
        try:
            for when in rule.xafter(low.astimezone(tz) if tz else low, count=limit, inc=True):
                local = when.astimezone().replace(tzinfo=None) if tz else when
                if local >= before:
                    break
                if local >= after:
                    found.add(local)
        except (ValueError, TypeError, OverflowError) as e:
            raise RecurrenceError(f"The repeat rule '{rrule}' cannot be expanded ({e}). Expected an iCalendar RRULE "
                                  f"such as {EXAMPLE}.") from None
    elif after <= start < before:
        found.add(start)
    found.update(r for r in rdates if after <= r < before)
    found.difference_update(exdates)
    return sorted(found)
