"""Calendars as apps export them, through %assistant: repeat rules, UNTIL, time zones, EXDATE, RDATE, all-day.

The files in tests/data/calendars/ are written by hand in the shapes Google Calendar (X-WR-TIMEZONE, UNTIL in
UTC, RECURRENCE-ID override), Outlook (VTIMEZONE with Windows zone names) and Apple Calendar (RDATE, EXDATE,
all-day birthdays) export, with the RFC 5545 examples' forms. The clock is fixed at Monday 10 March 2025, 09:00
local time; times in other zones are compared after conversion to local time, whatever the machine's zone.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from assistant_support import assistant_models, clock, ip, say, shell  # noqa: F401

from jupyter_llm.assistant.ics import read_ics
from jupyter_llm.assistant.state import AssistantStore, default_db_path

CALENDARS = Path(__file__).parent / "data" / "calendars"
NY, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")


def local(*args, tz) -> dt.datetime:
    """A wall-clock time in ``tz`` as the naive local time the assistant stores."""
    return dt.datetime(*args, tzinfo=tz).astimezone().replace(tzinfo=None)


def ics(*events: str) -> str:
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + "".join(
        f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n".replace("\n", "\r\n").replace("\r\r", "\r")
        for e in events) + "END:VCALENDAR\r\n"


# === 1. Unreadable repeat rules ===

def test_unreadable_repeat_rules_are_refused_on_import_and_the_rest_imported(ip, clock, tmp_path):
    path = tmp_path / "bad.ics"
    path.write_text(ics(
        "UID:a@x\nSUMMARY:Standup\nDTSTART:20250310T093000\nRRULE:FREQ=SOMETIMES\nX-JUPYTER-LLM-KIND:reminder",
        "UID:b@x\nSUMMARY:Gym\nDTSTART:20250310T070000\nRRULE:FREQ=DAILY;COUNT=abc\nX-JUPYTER-LLM-KIND:reminder",
        "UID:c@x\nSUMMARY:Dentist\nDTSTART:20250311T100000"))
    r = say(ip, f"import {path}")
    assert r.intent == "import_calendar" and len(r.data["imported"]) == 1
    assert len(r.data["refused"]) == 2
    assert r.data["refused"][0].startswith("Refused 'Standup' from 'bad.ics': its RRULE 'FREQ=SOMETIMES' cannot be read")
    assert r.data["refused"][1].startswith("Refused 'Gym' from 'bad.ics'") and "COUNT=abc" in r.data["refused"][1]
    assert all(line in r.extra for line in r.data["refused"])
    clock.advance(days=1, hours=2)
    assert say(ip, "hello there").reminders == []  # nothing imported that could break the next message
    assert [e["title"] for e in say(ip, "what's on my calendar this week").data["events"]] == ["Dentist"]
    assert say(ip, "undo").text == "Undone: import 1 events."


def test_a_stored_unreadable_reminder_is_skipped_and_reported_never_raised(ip, clock, tmp_path):
    say(ip, "remind me to water the plants every day at 8am")
    say(ip, "schedule team lunch on friday at noon")
    with sqlite3.connect(default_db_path()) as db:  # as an older version could have imported it
        db.execute("UPDATE events SET rrule = 'FREQ=SOMETIMES' WHERE title = 'water the plants'")
    clock.advance(days=1)
    r = say(ip, "hello there")
    assert r.reminders == ["Skipped reminder 'water the plants': The repeat rule 'FREQ=SOMETIMES' cannot be read "
                           "(invalid 'FREQ': SOMETIMES). Expected an iCalendar RRULE such as 'FREQ=WEEKLY;BYDAY=MO' or "
                           "'FREQ=DAILY;UNTIL=20260331T130000Z'. `%assistant cancel water the plants` removes it."]
    r = say(ip, "what's on my calendar this week")
    assert [e["title"] for e in r.data["events"]] == ["team lunch"] and len(r.data["skipped"]) == 1
    assert any(line.startswith("Skipped 'water the plants'") for line in r.extra)
    target = tmp_path / "out.ics"
    r = say(ip, f"export my calendar to {target}")
    assert r.data["count"] == 1 and "team lunch" in target.read_text() and "water" not in target.read_text()
    assert r.status == "done" and any(line.startswith("Skipped 'water the plants'") for line in r.extra)
    assert say(ip, "undo").text == "Undone: add event 'team lunch'."
    r = say(ip, "--yes cancel water the plants")
    assert r.status == "done", r.text
    assert say(ip, "hi").reminders == []


def test_a_new_event_with_an_unreadable_rule_is_refused(tmp_path):
    from jupyter_llm.assistant.recurrence import RecurrenceError

    store = AssistantStore(tmp_path / "a.db")
    with pytest.raises(RecurrenceError, match="The repeat rule 'FREQ=WEEKLY;BYDAY=XX' cannot be read"):
        store.add_event("x", dt.datetime(2025, 3, 10, 9), rrule="FREQ=WEEKLY;BYDAY=XX")
    with pytest.raises(RecurrenceError, match="Cannot import 'y': the repeat rule 'COUNT=3' cannot be read"):
        store.import_events([{"title": "y", "start": dt.datetime(2025, 3, 10, 9), "rrule": "COUNT=3"}])
    assert store.events() == []
    store.close()


# === 2. Calendars as apps export them ===

def test_google_weekly_event_with_until_in_utc_lists_this_week(ip):
    imported = say(ip, f"import {CALENDARS / 'google.ics'}").data
    r = say(ip, "what's on my calendar this week")  # raised "RRULE UNTIL values must be specified in UTC"
    assert len(imported["imported"]) == 4 and imported.get("refused") == []  # the RECURRENCE-ID override too
    got = [(e["title"], e["when"]) for e in r.data["events"]]
    assert got == sorted([
        ("Team sync", local(2025, 3, 10, 9, tz=NY).isoformat()),  # 9:00 New York time, after the DST change
        ("Call with London", local(2025, 3, 12, 15, tz=dt.timezone.utc).isoformat()),
        ("Pi day", "2025-03-14T00:00:00"),
    ], key=lambda x: x[1])


def test_exceptions_overrides_and_until_are_kept(tmp_path):
    store = AssistantStore(tmp_path / "a.db")
    for name in ("google", "outlook", "apple"):
        refused: list[str] = []
        store.import_events(read_ics(CALENDARS / f"{name}.ics", refused))
        assert refused == []
    week = lambda *day: [(w, e.title) for w, e in store.occurrences(dt.datetime(*day), dt.datetime(*day) + dt.timedelta(days=7))]  # noqa: E731
    sync = lambda: [w for w, e in store.occurrences(dt.datetime(2025, 3, 1), dt.datetime(2026, 6, 1)) if e.title == "Team sync"]  # noqa: E731
    mondays = sync()
    assert local(2025, 3, 17, 9, tz=NY) not in mondays  # EXDATE
    assert local(2025, 3, 24, 9, tz=NY) not in mondays  # replaced by the RECURRENCE-ID override
    assert (local(2025, 3, 24, 10, tz=NY), "Team sync (moved to 10)") in week(2025, 3, 24)
    assert mondays[-1] == local(2026, 3, 30, 9, tz=NY)  # UNTIL 2026-03-31 13:00 UTC
    review = [w for w, e in store.occurrences(dt.datetime(2025, 3, 1), dt.datetime(2025, 6, 1)) if e.title == "Project review"]
    assert review[:3] == [local(2025, 3, 3, 9, tz=NY), local(2025, 3, 5, 9, tz=NY), local(2025, 3, 10, 9, tz=NY)]
    assert local(2025, 3, 12, 9, tz=NY) not in review and review[-1] == local(2025, 4, 28, 9, tz=NY)
    choir = [w for w, e in store.occurrences(dt.datetime(2025, 3, 1), dt.datetime(2025, 8, 1)) if e.title == "Choir practice"]
    assert local(2025, 3, 13, 18, 30, tz=BERLIN) in choir  # RDATE
    assert local(2025, 4, 21, 18, 30, tz=BERLIN) not in choir  # EXDATE
    assert local(2025, 4, 7, 18, 30, tz=BERLIN) in choir and choir[-1] == local(2025, 6, 30, 18, 30, tz=BERLIN)
    standup = [w.day for w, e in store.occurrences(dt.datetime(2025, 3, 1), dt.datetime(2025, 4, 1))
               if e.title.startswith("Daily standup")]
    assert standup == [10, 11, 13, 14]  # all-day, UNTIL a date (inclusive), EXDATE;VALUE=DATE
    birthdays = [w for w, e in store.occurrences(dt.datetime(2025, 1, 1), dt.datetime(2028, 1, 1)) if e.title == "Anna's birthday"]
    assert birthdays == [dt.datetime(y, 3, 11) for y in (2025, 2026, 2027)]
    lunch = [w for w, e in store.occurrences(dt.datetime(2025, 3, 1), dt.datetime(2025, 4, 1)) if e.title.startswith("Lunch")]
    assert lunch == [dt.datetime(2025, 3, d, 12, 30) for d in (10, 11, 12)]  # floating: local clock time
    store.close()


@pytest.mark.parametrize("name", ["google", "outlook", "apple"])
def test_app_calendars_import_list_and_export_without_loss(ip, tmp_path, name):
    r = say(ip, f"import {CALENDARS / name}.ics")
    assert r.status == "done" and r.data.get("refused", []) == [] and r.data["imported"]
    imported = len(r.data["imported"])
    listed = say(ip, "what's on my calendar this week").data["events"]
    assert listed
    target = tmp_path / f"{name}-again.ics"
    r = say(ip, f"export my calendar to {target}")
    assert r.status == "done" and r.data["skipped"] == [] and r.data["count"] == imported
    assert "BEGIN:VTIMEZONE" in target.read_text()  # every zone used is defined in the file, as Outlook needs

    fields = ("uid", "title", "start", "end", "all_day", "rrule", "kind", "tzid", "exdates", "rdates")
    strip = lambda items: sorted(tuple(str(i[k]) for k in fields) for i in items)  # noqa: E731
    assert strip(read_ics(target)) == strip(read_ics(CALENDARS / f"{name}.ics"))  # re-import gives the same events
    again = AssistantStore(tmp_path / "again.db")
    again.import_events(read_ics(target))
    window = (dt.datetime(2025, 1, 1), dt.datetime(2027, 1, 1))
    occurrences = lambda store: sorted((w, e.title) for w, e in store.occurrences(*window))  # noqa: E731
    first = AssistantStore(default_db_path())
    assert occurrences(again) == occurrences(first) and len(occurrences(first)) > 5
    assert sorted((e["when"], e["title"]) for e in listed) == sorted(
        (w.isoformat(), e.title) for w, e in again.occurrences(dt.datetime(2025, 3, 10), dt.datetime(2025, 3, 17)))
    again.close()
    first.close()


# === Unit: UNTIL forms ===

@pytest.mark.parametrize("rule, start, tzid, last", [
    ("FREQ=DAILY;UNTIL=20250312T090000Z", local(2025, 3, 10, 9, tz=dt.timezone.utc), "UTC", dt.datetime(2025, 3, 12, 9, tzinfo=dt.timezone.utc)),
    ("FREQ=DAILY;UNTIL=20250312", dt.datetime(2025, 3, 10, 9), None, dt.datetime(2025, 3, 12, 9)),
    ("FREQ=DAILY;UNTIL=20250312T090000", dt.datetime(2025, 3, 10, 9), None, dt.datetime(2025, 3, 12, 9)),
    ("FREQ=WEEKLY;UNTIL=20250324T130000Z", local(2025, 3, 3, 9, tz=NY), "America/New_York", dt.datetime(2025, 3, 24, 9, tzinfo=NY)),
])
def test_until_in_every_form_calendar_apps_write(rule, start, tzid, last):
    from jupyter_llm.assistant.recurrence import expand

    got = expand(start, rule, dt.datetime(2025, 1, 1), dt.datetime(2026, 1, 1), tzid=tzid)
    want = last.astimezone().replace(tzinfo=None) if last.tzinfo else last
    assert got[-1] == want and got[0] == start


def test_until_in_utc_with_a_floating_start_is_that_instant_in_local_time():
    from jupyter_llm.assistant.recurrence import expand

    until = dt.datetime(2025, 3, 12, 9, tzinfo=dt.timezone.utc).astimezone().replace(tzinfo=None)
    got = expand(until - dt.timedelta(days=2), "FREQ=DAILY;UNTIL=20250312T090000Z", dt.datetime(2025, 1, 1),
                 dt.datetime(2026, 1, 1))
    assert got == [until - dt.timedelta(days=2), until - dt.timedelta(days=1), until]


def test_a_version_1_database_gains_the_new_columns_and_keeps_its_events(tmp_path):
    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, "
                   "title TEXT NOT NULL, start TEXT NOT NULL, end TEXT, rrule TEXT, all_day INTEGER NOT NULL DEFAULT 0, "
                   "notified_upto TEXT, source TEXT, lang TEXT, created TEXT NOT NULL, updated TEXT NOT NULL, "
                   "deleted_at TEXT)")
        db.execute("INSERT INTO events (uid, kind, title, start, rrule, created, updated) VALUES "
                   "('u1', 'event', 'Yoga', '2025-03-10T18:00:00', 'FREQ=WEEKLY', '2025-03-01', '2025-03-01')")
    store = AssistantStore(path)
    (ev,) = store.events()
    assert (ev.title, ev.tzid, ev.exdates, ev.rdates) == ("Yoga", None, (), ())
    assert [w.day for w, _ in store.occurrences(dt.datetime(2025, 3, 1), dt.datetime(2025, 4, 1))] == [10, 17, 24, 31]
    store.close()


def test_floating_times_are_in_x_wr_timezone_when_the_calendar_names_one(tmp_path):
    path = tmp_path / "google-floating.ics"
    path.write_text(ics("UID:f@google.com\nSUMMARY:Gym\nDTSTART:20250303T070000\nDURATION:PT45M\n"
                        "RRULE:FREQ=WEEKLY;UNTIL=20250324T110000Z").replace(
        "PRODID:-//test//EN\r\n", "PRODID:-//test//EN\r\nX-WR-TIMEZONE:America/New_York\r\n"))
    (item,) = read_ics(path)
    assert (item["tzid"], item["start"], item["end"]) == (
        "America/New_York", local(2025, 3, 3, 7, tz=NY), local(2025, 3, 3, 7, 45, tz=NY))
    store = AssistantStore(tmp_path / "a.db")
    store.import_events([item])
    assert [w for w, _ in store.occurrences(dt.datetime(2025, 3, 1), dt.datetime(2025, 5, 1))] == [
        local(2025, 3, d, 7, tz=NY) for d in (3, 10, 17, 24)]
    store.close()
