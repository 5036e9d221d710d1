"""The assistant's SQLite state: transactions, undo, reminders, .ics round trip, two writers at once."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from jupyter_llm.assistant.ics import read_ics, write_ics
from jupyter_llm.assistant.state import AssistantStore, default_db_path
from jupyter_llm.errors import DataError, InvalidArgumentError

NOW = dt.datetime(2025, 3, 10, 9, 0)


@pytest.fixture
def store(tmp_path):
    clock = {"now": NOW}
    s = AssistantStore(tmp_path / "a.db", now=lambda: clock["now"])
    s.clock = clock
    yield s
    s.close()


def test_default_path_and_wal(jl_home, monkeypatch, tmp_path):
    assert default_db_path() == jl_home / "assistant.db"
    monkeypatch.setenv("JUPYTER_LLM_ASSISTANT_DB", str(tmp_path / "other.db"))
    assert default_db_path() == tmp_path / "other.db"
    s = AssistantStore()
    assert s.path == tmp_path / "other.db"
    assert s._query("PRAGMA journal_mode")[0][0] == "wal"
    s.close()


def test_events_notes_and_undo(store):
    ev = store.add_event("dentist", NOW + dt.timedelta(days=1))
    note = store.add_note("buy milk", "todo")
    store.complete_note(note.id)
    store.move_event(ev.id, NOW + dt.timedelta(days=2))
    assert store.event(ev.id).start == NOW + dt.timedelta(days=2)
    assert store.undo() == "move 'dentist'"
    assert store.event(ev.id).start == NOW + dt.timedelta(days=1)
    assert store.undo() == "complete 'buy milk'"
    assert not store.note(note.id).done
    store.cancel_event(ev.id)
    assert store.events() == []
    assert store.undo() == "cancel 'dentist'"
    assert [e.title for e in store.events()] == ["dentist"]
    assert store.undo() == "add todo 'buy milk'" and store.notes() == []
    assert store.undo() == "add event 'dentist'" and store.events() == []
    assert store.undo() is None


def test_a_failed_transaction_leaves_nothing(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as c:
            c.execute("INSERT INTO notes (kind, text, created, updated) VALUES ('note', 'half', 'x', 'x')")
            raise RuntimeError("boom")
    assert store.notes() == []
    with pytest.raises(InvalidArgumentError):
        store.add_note("   ")
    with pytest.raises(InvalidArgumentError):
        store.add_event("x", NOW, kind="meeting")


def test_data_survives_reopening(tmp_path):
    path = tmp_path / "a.db"
    s = AssistantStore(path, now=lambda: NOW)
    s.add_note("keep me")
    s.add_example("add_todo", "put [eggs](task) on the list")
    del s  # no close: as if the kernel died
    again = AssistantStore(path)
    assert [n.text for n in again.notes()] == ["keep me"]
    assert again.examples()[0][1:] == ("add_todo", "put [eggs](task) on the list")


def test_recurring_occurrences_and_conflicts(store):
    store.add_event("standup", NOW, rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")
    week = store.occurrences(NOW, NOW + dt.timedelta(days=7))
    assert len(week) == 5
    clash = store.conflicts(dt.datetime(2025, 3, 12, 9, 30))
    assert [e.title for _, e in clash] == ["standup"]
    assert store.conflicts(dt.datetime(2025, 3, 15, 9, 0)) == []  # a Saturday


def test_due_reminders_show_once(store):
    store.add_event("call Bob", NOW + dt.timedelta(hours=1), kind="reminder")
    store.add_event("stretch", NOW + dt.timedelta(minutes=30), kind="reminder", rrule="FREQ=DAILY")
    assert store.due_reminders() == []
    store.clock["now"] = NOW + dt.timedelta(hours=2)
    assert sorted(e.title for _, e in store.due_reminders()) == ["call Bob", "stretch"]
    assert store.due_reminders() == []  # shown once
    store.clock["now"] = NOW + dt.timedelta(days=1, hours=1)
    assert [e.title for _, e in store.due_reminders()] == ["stretch"]  # the next occurrence


def test_ics_round_trip(store, tmp_path):
    store.add_event("Standup", dt.datetime(2025, 3, 11, 9, 30), rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")
    store.add_event("Call mom", dt.datetime(2025, 3, 12, 19, 0), kind="reminder")
    store.add_event("Holiday", dt.datetime(2025, 4, 1), all_day=True)
    path = write_ics(store.events(), tmp_path / "out.ics", NOW)
    raw = path.read_text()
    assert "BEGIN:VCALENDAR" in raw and "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR" in raw and "BEGIN:VALARM" in raw
    items = read_ics(path)
    other = AssistantStore(tmp_path / "b.db")
    other.import_events(items)
    strip = lambda evs: sorted((e.uid, e.kind, e.title, e.start, e.end, e.rrule, e.all_day) for e in evs)  # noqa: E731
    assert strip(other.events()) == strip(store.events())
    assert other.import_events(read_ics(path)) == []  # same uids: nothing added twice
    other.close()


def test_ics_errors(tmp_path):
    with pytest.raises(DataError, match="No calendar file"):
        read_ics(tmp_path / "missing.ics")
    (tmp_path / "bad.ics").write_text("not a calendar")
    with pytest.raises(DataError, match="not a readable iCalendar"):
        read_ics(tmp_path / "bad.ics")


def test_a_tampered_undo_log_is_refused(store):
    store.add_note("x")
    store._conn.execute("UPDATE undo_log SET ops = ?", ('[{"op": "soft_delete", "table": "sqlite_master", "id": 1}]',))
    with pytest.raises(DataError, match="unknown table"):
        store.undo()
    assert [n.text for n in store.notes()] == ["x"]  # rolled back


WRITER = textwrap.dedent("""
    import sys, datetime as dt
    from jupyter_llm.assistant.state import AssistantStore
    path, tag, other, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    s = AssistantStore(path)
    seen = sum(1 for note in s.notes() if note.text.startswith(other + "-"))  # the other's, committed already
    print("ready", seen, flush=True)
    if sys.stdin.readline().strip() != "go":  # the barrier: the test says go once both are ready
        sys.exit("no go")
    for i in range(n):
        s.add_note(f"{tag}-{i}")
        s.add_event(f"{tag}-event-{i}", dt.datetime(2025, 3, 10, 9) + dt.timedelta(minutes=i))
    print("done", flush=True)
""")


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "shared.db"
    n = 60
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag, other, str(n)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for tag, other in (("a", "b"), ("b", "a"))]
    try:
        # Both have started and opened the database, and neither has committed a note (each saw none of
        # the other's) before either may write: their writes overlap. Run one after the other, the second
        # would see all n of the first's.
        ready = [p.stdout.readline().split() for p in procs]
        assert ready == [["ready", "0"], ["ready", "0"]], (ready, [p.stderr.read() for p in procs if p.poll() is not None])
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        outs = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [(p.returncode, out.strip()) for p, (out, _) in zip(procs, outs)] == [(0, "done")] * 2, [e for _, e in outs]
    db = sqlite3.connect(path)
    notes = {r[0] for r in db.execute("SELECT text FROM notes")}
    events = {r[0] for r in db.execute("SELECT title FROM events")}
    undo = db.execute("SELECT COUNT(*) FROM undo_log").fetchone()[0]
    db.close()
    assert notes == {f"{t}-{i}" for t in "ab" for i in range(n)}
    assert events == {f"{t}-event-{i}" for t in "ab" for i in range(n)}
    assert undo == 4 * n
