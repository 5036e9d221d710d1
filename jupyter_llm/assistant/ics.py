"""iCalendar (.ics) export and import, so calendar apps can read the assistant's events.

Export writes each event as a ``VEVENT``: floating local times, or the event's
own zone (``DTSTART;TZID=...`` with a ``VTIMEZONE`` block) when it came with
one; repeating events carry their ``RRULE``, ``EXDATE`` and ``RDATE``;
reminders carry ``X-JUPYTER-LLM-KIND:reminder`` and a display alarm at their
start. An event whose repeat rule cannot be read is left out and named.

Import reads the shapes Google Calendar, Outlook and Apple Calendar export:
zoned times (IANA names, Outlook's Windows names such as ``Eastern Standard
Time``, UTC), floating times (in ``X-WR-TIMEZONE`` when the calendar names
one), all-day dates, ``DURATION``, ``UNTIL`` in UTC, ``EXDATE``, ``RDATE`` and
``RECURRENCE-ID`` overrides (kept as their own event, the occurrence they
replace removed from the series). An event that cannot be read (a repeat rule
such as ``FREQ=SOMETIMES``) is refused with one sentence naming it; the rest
are imported.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import DataError
from .recurrence import RecurrenceError, check_rrule, zone
from .state import Event

__all__ = ["to_ics", "write_ics", "read_ics"]

KIND_PROPERTY = "X-JUPYTER-LLM-KIND"
#: Joins a series' UID and the RECURRENCE-ID of one changed occurrence into the UID of the override's event.
OVERRIDE_MARK = "#RECURRENCE-ID="
# Properties whose unreadable value makes an event unreadable.
_CHECKED = {"DTSTART", "DTEND", "DURATION", "RRULE", "EXDATE", "RDATE", "RECURRENCE-ID"}


def _out(when: dt.datetime, ev: Event) -> dt.date | dt.datetime:
    """A stored naive local time as it is written for ``ev``: a date, a floating time or a time in its zone."""
    if ev.all_day:
        return when.date()
    tz = zone(ev.tzid)
    return when.astimezone(tz) if tz else when


def to_ics(events: list[Event], now: dt.datetime | None = None,
           skipped: list[tuple[Event, str]] | None = None) -> bytes:
    """The events as the bytes of an .ics file.

    An event whose repeat rule cannot be read is left out, and ``(event, sentence)`` appended to ``skipped``.
    """
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", f"-//jupyter_llm//assistant {__version__}//EN")
    cal.add("version", "2.0")
    stamp = (now or dt.datetime.now()).astimezone(dt.timezone.utc)
    for ev in events:
        try:
            check_rrule(ev.rrule, ev.start, ev.tzid)
            rrule = icalendar.vRecur.from_ical(ev.rrule) if ev.rrule else None
        except (RecurrenceError, ValueError) as e:
            if skipped is not None:
                skipped.append((ev, str(e)))
            continue
        item = icalendar.Event()
        uid, _, recurrence_id = ev.uid.partition(OVERRIDE_MARK)
        item.add("uid", uid)
        item.add("dtstamp", stamp)
        item.add("summary", ev.title)
        if recurrence_id:
            item.add("recurrence-id", _out(dt.datetime.fromisoformat(recurrence_id), ev))
        if ev.all_day:
            item.add("dtstart", ev.start.date())
            item.add("dtend", (ev.end or ev.start + dt.timedelta(days=1)).date())
        else:
            item.add("dtstart", _out(ev.start, ev))
            end = ev.end or (ev.start if ev.kind == "reminder" else ev.start + dt.timedelta(hours=1))
            item.add("dtend", _out(end, ev))
        if rrule is not None:
            item.add("rrule", rrule)
        if ev.exdates:
            item.add("exdate", [_out(d, ev) for d in ev.exdates])
        if ev.rdates:
            item.add("rdate", [_out(d, ev) for d in ev.rdates])
        item.add(KIND_PROPERTY, ev.kind)
        if ev.kind == "reminder":
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", ev.title)
            alarm.add("trigger", dt.timedelta(0))
            item.add_component(alarm)
        cal.add_component(item)
    cal.add_missing_timezones()  # a VTIMEZONE for every zone used, as Outlook expects
    return cal.to_ical()


def write_ics(events: list[Event], path: str | os.PathLike, now: dt.datetime | None = None,
              skipped: list[tuple[Event, str]] | None = None) -> Path:
    """Write the .ics file atomically (a temporary file renamed into place); ``skipped`` as in :func:`to_ics`."""
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    data = to_ics(events, now, skipped)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _tzid(value: dt.datetime, prop: Any) -> str | None:
    """The IANA name of an aware value's zone (Outlook's Windows names mapped), or None if unknown."""
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    key = getattr(value.tzinfo, "key", None)
    names = [key] if key else []
    param = getattr(prop, "params", {}).get("TZID") if prop is not None else None
    if param:
        names += [WINDOWS_TO_OLSON.get(param), param]
    if value.tzinfo is dt.timezone.utc:
        names.append("UTC")
    return next((n for n in names if n and zone(n) is not None), None)


class _Reader:
    """Turns one calendar's date values into naive local times (see :func:`read_ics`)."""

    def __init__(self, cal: Any) -> None:
        self.default_tzid = str(cal.get("X-WR-TIMEZONE") or "") or None
        if zone(self.default_tzid) is None:
            self.default_tzid = None

    def local(self, value: Any, prop: Any = None) -> tuple[dt.datetime, bool, str | None]:
        """``(naive local datetime, all day?, zone name or None)``."""
        if isinstance(value, tuple):  # a PERIOD (RDATE;VALUE=PERIOD): its start
            value = value[0]
        if isinstance(value, dt.datetime):
            tzid = None
            if value.tzinfo is None and self.default_tzid:  # floating: Google means X-WR-TIMEZONE
                value, tzid = value.replace(tzinfo=zone(self.default_tzid)), self.default_tzid
            elif value.tzinfo is not None:
                tzid = _tzid(value, prop)
            if value.tzinfo is not None:
                value = value.astimezone().replace(tzinfo=None)
            return value.replace(microsecond=0), False, tzid
        if isinstance(value, dt.date):
            return dt.datetime.combine(value, dt.time()), True, None
        raise DataError(f"Unreadable date {value!r} in the calendar file. Expected a date or a date-time.")

    def dates(self, item: Any, name: str) -> list[dt.datetime]:
        """The naive local times of every ``EXDATE``/``RDATE`` line of ``item``."""
        props = item.get(name)
        if props is None:
            return []
        out = []
        for prop in props if isinstance(props, list) else [props]:
            for one in getattr(prop, "dts", []):
                out.append(self.local(one.dt, one)[0])
        return out


def read_ics(path: str | os.PathLike, refused: list[str] | None = None) -> list[dict[str, Any]]:
    """The events of an .ics file as dicts for :meth:`AssistantStore.import_events`.

    An event that cannot be read (its repeat rule, dates or exceptions) is left out, with one sentence
    naming it appended to ``refused``; without a ``refused`` list the first such event raises
    :class:`~jupyter_llm.errors.DataError`.
    """
    import icalendar

    source = Path(path).expanduser()
    if not source.is_file():
        raise DataError(f"No calendar file at '{source}'. Expected the path of an .ics file.")
    try:
        cal = icalendar.Calendar.from_ical(source.read_bytes())
    except (ValueError, IndexError, KeyError) as e:
        raise DataError(f"'{source}' is not a readable iCalendar file ({e}). Expected an .ics file.") from None
    reader = _Reader(cal)
    out = []
    for item in cal.walk("VEVENT"):
        if item.get("dtstart") is None:
            continue
        title = str(item.get("summary") or "(untitled)")
        try:
            out.append(_event(item, title, reader))
        except DataError as e:
            why = str(e)
            problem = f"Refused '{title}' from '{source.name}': {why[:1].lower()}{why[1:]}"
            if refused is None:
                raise DataError(problem) from None
            refused.append(problem)
    return _attach_overrides(out)


def _event(item: Any, title: str, reader: _Reader) -> dict[str, Any]:
    """One ``VEVENT`` as a dict; DataError (one sentence) if it cannot be read."""
    broken = [(name, why) for name, why in getattr(item, "errors", []) if name in _CHECKED]
    if broken:
        name, why = broken[0]
        values = item.get(name)
        shown = "; ".join(v.to_ical().decode(errors="replace") if hasattr(v, "to_ical") else str(v)
                          for v in (values if isinstance(values, list) else [values]))
        raise DataError(f"its {name} '{shown}' cannot be read ({why}). Expected a value as RFC 5545 defines it.")
    start, all_day, tzid = reader.local(item.decoded("dtstart"), item.get("dtstart"))
    end = None
    if item.get("dtend") is not None:
        end = reader.local(item.decoded("dtend"), item.get("dtend"))[0]
    elif item.get("duration") is not None:
        end = start + item.decoded("duration")
    rrule = item.get("rrule")
    rrule = rrule.to_ical().decode() if rrule is not None else None
    check_rrule(rrule, start, tzid)
    kind = str(item.get(KIND_PROPERTY, "event")).lower()
    if kind == "reminder" and end == start:
        end = None
    if kind == "event" and end is not None and not all_day and end - start == dt.timedelta(hours=1):
        end = None  # the default length: keep the event as it was made
    uid = str(item.get("uid")) if item.get("uid") else None
    recurrence_id = None
    if item.get("recurrence-id") is not None:
        recurrence_id = reader.local(item.decoded("recurrence-id"), item.get("recurrence-id"))[0]
        uid = f"{uid}{OVERRIDE_MARK}{recurrence_id.isoformat()}" if uid else None
    return {
        "uid": uid,
        "title": title,
        "start": start,
        "end": end if not all_day or end is None or end - start != dt.timedelta(days=1) else None,
        "all_day": all_day,
        "rrule": rrule,
        "kind": kind if kind in ("event", "reminder") else "event",
        "tzid": tzid if not all_day else None,
        "exdates": reader.dates(item, "exdate"),
        "rdates": reader.dates(item, "rdate"),
        "recurrence_id": recurrence_id,
    }


def _attach_overrides(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Remove each overridden occurrence (``RECURRENCE-ID``) from its series, as an ``EXDATE``."""
    series = {e["uid"]: e for e in events if e["uid"] and not e["recurrence_id"]}
    for e in events:
        master = series.get((e["uid"] or "").partition(OVERRIDE_MARK)[0]) if e["recurrence_id"] else None
        if master is not None and e["recurrence_id"] not in master["exdates"]:
            master["exdates"] = sorted([*master["exdates"], e["recurrence_id"]])
    for e in events:
        del e["recurrence_id"]
    return events
