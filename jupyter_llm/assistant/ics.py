"""iCalendar (.ics) export and import, so calendar apps can read the assistant's events.

Events are written as ``VEVENT`` with floating local times (no time zone: a
calendar app shows them at the same clock time), recurring ones with their
``RRULE``; reminders carry ``X-JUPYTER-LLM-KIND:reminder`` and a display
alarm at their start. Import reads any ``VEVENT``: times with a zone are
converted to local time, dates become all-day events.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import DataError
from .state import Event

__all__ = ["to_ics", "write_ics", "read_ics"]

KIND_PROPERTY = "X-JUPYTER-LLM-KIND"


def to_ics(events: list[Event], now: dt.datetime | None = None) -> bytes:
    """The events as the bytes of an .ics file."""
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", f"-//jupyter_llm//assistant {__version__}//EN")
    cal.add("version", "2.0")
    stamp = (now or dt.datetime.now()).astimezone(dt.timezone.utc)
    for ev in events:
        item = icalendar.Event()
        item.add("uid", ev.uid)
        item.add("dtstamp", stamp)
        item.add("summary", ev.title)
        if ev.all_day:
            item.add("dtstart", ev.start.date())
            item.add("dtend", (ev.end or ev.start + dt.timedelta(days=1)).date())
        else:
            item.add("dtstart", ev.start)
            end = ev.end or (ev.start if ev.kind == "reminder" else ev.start + dt.timedelta(hours=1))
            item.add("dtend", end)
        if ev.rrule:
            item.add("rrule", icalendar.vRecur.from_ical(ev.rrule))
        item.add(KIND_PROPERTY, ev.kind)
        if ev.kind == "reminder":
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", ev.title)
            alarm.add("trigger", dt.timedelta(0))
            item.add_component(alarm)
        cal.add_component(item)
    return cal.to_ical()


def write_ics(events: list[Event], path: str | os.PathLike, now: dt.datetime | None = None) -> Path:
    """Write the .ics file atomically (a temporary file renamed into place)."""
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    data = to_ics(events, now)
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


def _local(value: Any) -> tuple[dt.datetime, bool]:
    """A naive local datetime, and whether the value was a date (all day)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone().replace(tzinfo=None)
        return value.replace(microsecond=0), False
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time()), True
    raise DataError(f"Unreadable date {value!r} in the calendar file. Expected a date or a date-time.")


def read_ics(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The events of an .ics file as dicts for :meth:`AssistantStore.import_events`."""
    import icalendar

    source = Path(path).expanduser()
    if not source.is_file():
        raise DataError(f"No calendar file at '{source}'. Expected the path of an .ics file.")
    try:
        cal = icalendar.Calendar.from_ical(source.read_bytes())
    except (ValueError, IndexError, KeyError) as e:
        raise DataError(f"'{source}' is not a readable iCalendar file ({e}). Expected an .ics file.") from None
    out = []
    for item in cal.walk("VEVENT"):
        if item.get("dtstart") is None:
            continue
        start, all_day = _local(item.decoded("dtstart"))
        end = _local(item.decoded("dtend"))[0] if item.get("dtend") is not None else None
        rrule = item.get("rrule")
        kind = str(item.get(KIND_PROPERTY, "event")).lower()
        if kind == "reminder" and end == start:
            end = None
        if kind == "event" and end is not None and not all_day and end - start == dt.timedelta(hours=1):
            end = None  # the default length: keep the event as it was made
        out.append({
            "uid": str(item.get("uid")) if item.get("uid") else None,
            "title": str(item.get("summary") or "(untitled)"),
            "start": start,
            "end": end if not all_day or end is None or end - start != dt.timedelta(days=1) else None,
            "all_day": all_day,
            "rrule": rrule.to_ical().decode() if rrule is not None else None,
            "kind": kind if kind in ("event", "reminder") else "event",
        })
    return out
