"""The assistant's state: one SQLite file of events, notes, moods and taught examples.

The file is ``home()/assistant.db`` (``$JUPYTER_LLM_HOME`` or the user data
folder), or ``$JUPYTER_LLM_ASSISTANT_DB``, or the path given to
:class:`AssistantStore`. It is opened in WAL mode with a busy timeout, and
every change is one ``BEGIN IMMEDIATE`` transaction: an error rolls it back
whole, a kernel restart finds everything committed, and two kernels writing
at once wait for each other instead of losing a write.

Nothing is deleted outright: cancelling an event or deleting a note sets
``deleted_at``, and every change records its inverse in ``undo_log`` in the
same transaction, so :meth:`AssistantStore.undo` can put it back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import store as model_store
from ..errors import DataError, invalid

__all__ = ["AssistantStore", "default_db_path", "DB_ENV", "Event", "Note"]

#: Environment variable naming the database file.
DB_ENV = "JUPYTER_LLM_ASSISTANT_DB"
SCHEMA_VERSION = 2
# Columns added after version 1: (name, SQL type). A version-1 file gains them on open.
_ADDED_EVENT_COLUMNS = (("tzid", "TEXT"), ("exdates", "TEXT"), ("rdates", "TEXT"))
BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('event', 'reminder')),
    title TEXT NOT NULL,
    start TEXT NOT NULL,
    end TEXT,
    rrule TEXT,
    all_day INTEGER NOT NULL DEFAULT 0,
    notified_upto TEXT,
    source TEXT,
    lang TEXT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    deleted_at TEXT,
    tzid TEXT,
    exdates TEXT,
    rdates TEXT
);
CREATE INDEX IF NOT EXISTS events_start ON events (start);
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('note', 'todo')),
    text TEXT NOT NULL,
    done_at TEXT,
    lang TEXT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    deleted_at TEXT
);
CREATE TABLE IF NOT EXISTS moods (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    text TEXT NOT NULL,
    label TEXT NOT NULL,
    score REAL NOT NULL,
    lang TEXT,
    deleted_at TEXT
);
CREATE TABLE IF NOT EXISTS examples (
    id INTEGER PRIMARY KEY,
    intent TEXT NOT NULL,
    text TEXT NOT NULL,
    created TEXT NOT NULL,
    deleted_at TEXT
);
CREATE TABLE IF NOT EXISTS undo_log (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    description TEXT NOT NULL,
    ops TEXT NOT NULL,
    undone_at TEXT
);
"""

# Tables and columns an undo operation may touch (the log is data: never trust it blindly).
_UNDOABLE = {
    "events": {"title", "start", "end", "rrule", "kind", "all_day", "notified_upto"},
    "notes": {"text", "done_at", "kind"},
    "moods": set(),
    "examples": set(),
}


def default_db_path() -> Path:
    """``$JUPYTER_LLM_ASSISTANT_DB``, else ``home()/assistant.db``."""
    env = os.environ.get(DB_ENV)
    return Path(env).expanduser() if env else model_store.home() / "assistant.db"


def _iso(when: dt.datetime | None) -> str | None:
    return None if when is None else when.replace(microsecond=0).isoformat()


def _parse(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _times(value: str | None) -> tuple[dt.datetime, ...]:
    """A JSON list of ISO times (the ``exdates``/``rdates`` columns) as datetimes; unreadable entries are left out."""
    try:
        items = json.loads(value) if value else []
    except ValueError:
        return ()
    out = []
    for item in items if isinstance(items, list) else []:
        try:
            out.append(dt.datetime.fromisoformat(item))
        except (TypeError, ValueError):
            continue
    return tuple(sorted(out))


def _times_json(values: Any) -> str | None:
    return json.dumps([_iso(v) for v in sorted(values)]) if values else None


@dataclass
class Event:
    """An event or reminder (``kind``); ``start``, ``exdates`` and ``rdates`` are naive local datetimes.

    ``tzid`` is the zone a repeating event keeps its clock time in (None: floating, local time);
    ``exdates`` are occurrences removed from the rule, ``rdates`` occurrences added to it.
    """

    id: int
    uid: str
    kind: str
    title: str
    start: dt.datetime
    end: dt.datetime | None
    rrule: str | None
    all_day: bool
    lang: str | None
    tzid: str | None = None
    exdates: tuple[dt.datetime, ...] = ()
    rdates: tuple[dt.datetime, ...] = ()

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Event":
        return cls(row["id"], row["uid"], row["kind"], row["title"], _parse(row["start"]), _parse(row["end"]),
                   row["rrule"], bool(row["all_day"]), row["lang"], row["tzid"], _times(row["exdates"]),
                   _times(row["rdates"]))

    def occurrences(self, after: dt.datetime, before: dt.datetime, limit: int = 500) -> list[dt.datetime]:
        """The occurrences in ``[after, before)``; :class:`RecurrenceError` if the rule cannot be read."""
        from .recurrence import expand

        return expand(self.start, self.rrule, after, before, tzid=self.tzid, exdates=self.exdates,
                      rdates=self.rdates, limit=limit)

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "start": _iso(self.start), "end": _iso(self.end),
                "exdates": [_iso(d) for d in self.exdates], "rdates": [_iso(d) for d in self.rdates]}


@dataclass
class Note:
    """A note or to-do (``kind``)."""

    id: int
    kind: str
    text: str
    done: bool
    created: dt.datetime

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Note":
        return cls(row["id"], row["kind"], row["text"], row["done_at"] is not None, _parse(row["created"]))

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "created": _iso(self.created)}


class AssistantStore:
    """The SQLite file of the assistant (see the module docstring).

    Args:
        path: the database file; None: :func:`default_db_path`.
        now: a function returning the current naive local time (tests pass a fixed clock).
    """

    def __init__(self, path: str | os.PathLike | None = None, now: Any = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self.now = now or dt.datetime.now
        self._lock = threading.RLock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                         check_same_thread=False)
        except sqlite3.Error as e:
            raise DataError(f"Cannot open the assistant database '{self.path}' ({e}). "
                            f"Expected a writable file path (set ${DB_ENV} to choose another).") from None
        self._conn.row_factory = sqlite3.Row
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._retry(lambda: self._conn.execute("PRAGMA journal_mode = WAL"))
        self._conn.execute("PRAGMA synchronous = FULL")
        with self.transaction() as c:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    c.execute(statement)
            have = {r["name"] for r in c.execute("PRAGMA table_info(events)").fetchall()}
            for name, kind in _ADDED_EVENT_COLUMNS:
                if name not in have:
                    c.execute(f"ALTER TABLE events ADD COLUMN {name} {kind}")
            c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def __repr__(self) -> str:
        return f"AssistantStore('{self.path}')"

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @staticmethod
    def _retry(fn, attempts: int = 50):
        for i in range(attempts):
            try:
                return fn()
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e) or i == attempts - 1:
                    raise
                time.sleep(0.05 * (1 + i % 5))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``): committed whole, or rolled back whole."""
        with self._lock:
            self._retry(lambda: self._conn.execute("BEGIN IMMEDIATE"))
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._retry(lambda: self._conn.execute("COMMIT"))

    def _query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._retry(lambda: self._conn.execute(sql, args).fetchall())

    def _stamp(self) -> str:
        return _iso(self.now())

    def _log(self, c: sqlite3.Connection, description: str, ops: list[dict[str, Any]]) -> None:
        c.execute("INSERT INTO undo_log (ts, description, ops) VALUES (?, ?, ?)",
                  (self._stamp(), description, json.dumps(ops, ensure_ascii=False)))

    # === Events and reminders ===

    def add_event(self, title: str, start: dt.datetime, *, kind: str = "event", end: dt.datetime | None = None,
                  rrule: str | None = None, all_day: bool = False, source: str | None = None,
                  lang: str | None = None, uid: str | None = None, undo: bool = True, tzid: str | None = None,
                  exdates: Any = (), rdates: Any = ()) -> Event:
        """Add an event; ``rrule`` must be a readable repeat rule (:class:`RecurrenceError` otherwise)."""
        from .recurrence import check_rrule

        if kind not in ("event", "reminder"):
            raise invalid("kind", "'event' or 'reminder'", kind)
        if not isinstance(title, str) or not title.strip():
            raise invalid("title", "a non-empty title", title)
        check_rrule(rrule, start, tzid)
        now = self._stamp()
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO events (uid, kind, title, start, end, rrule, all_day, source, lang, created, updated, "
                "tzid, exdates, rdates) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (uid or f"{uuid.uuid4()}@jupyter-llm", kind, title.strip(), _iso(start), _iso(end), rrule,
                 int(all_day), source, lang, now, now, tzid, _times_json(exdates), _times_json(rdates)))
            event_id = cur.lastrowid
            if undo:
                self._log(c, f"add {kind} '{title.strip()}'", [{"op": "soft_delete", "table": "events", "id": event_id}])
        return self.event(event_id)

    def event(self, event_id: int) -> Event:
        rows = self._query("SELECT * FROM events WHERE id = ?", (event_id,))
        if not rows:
            raise invalid("event_id", "the id of an existing event", event_id)
        return Event.from_row(rows[0])

    def events(self, include_deleted: bool = False) -> list[Event]:
        where = "" if include_deleted else "WHERE deleted_at IS NULL"
        return [Event.from_row(r) for r in self._query(f"SELECT * FROM events {where} ORDER BY start, id")]

    def occurrences(self, start: dt.datetime, end: dt.datetime,
                    skipped: list[tuple[Event, str]] | None = None) -> list[tuple[dt.datetime, Event]]:
        """Every occurrence in ``[start, end)``, recurring events expanded, in time order.

        An event whose repeat rule cannot be read is left out, and ``(event, sentence)`` appended to ``skipped``.
        """
        from .recurrence import RecurrenceError

        out = []
        for ev in self.events():
            try:
                out.extend((when, ev) for when in ev.occurrences(start, end))
            except RecurrenceError as e:
                if skipped is not None:
                    skipped.append((ev, str(e)))
        return sorted(out, key=lambda x: (x[0], x[1].id))

    def conflicts(self, start: dt.datetime, rrule: str | None = None, duration: dt.timedelta = dt.timedelta(hours=1),
                  exclude: int | None = None, horizon_days: int = 90) -> list[tuple[dt.datetime, Event]]:
        """Events (not reminders) overlapping a new event's first occurrences (one hour each by default)."""
        from .recurrence import RecurrenceError, expand

        new = expand(start, rrule, start, start + dt.timedelta(days=horizon_days if rrule else 1), limit=60)
        found = []
        for ev in self.events():
            if ev.kind != "event" or ev.id == exclude:
                continue
            ev_len = (ev.end - ev.start) if ev.end else duration
            try:
                for s in new:
                    found.extend((when, ev) for when in ev.occurrences(s - ev_len + dt.timedelta(seconds=1), s + duration))
            except RecurrenceError:
                continue  # an unreadable rule is reported where events are listed
        unique = {(when, ev.id): (when, ev) for when, ev in found}
        return [unique[k] for k in sorted(unique)]

    def find_events(self, query: str | None) -> list[Event]:
        """Events whose title contains the words of ``query`` (all of them, case-insensitive)."""
        events = self.events()
        if not query:
            return events
        from .skills.common import match_score

        scored = [(match_score(query, ev.title), ev) for ev in events]
        best = max((s for s, _ in scored), default=0.0)
        return [ev for s, ev in scored if s > 0 and s == best]

    def move_event(self, event_id: int, start: dt.datetime) -> Event:
        old = self.event(event_id)
        with self.transaction() as c:
            end = _iso(start + (old.end - old.start)) if old.end else None
            c.execute("UPDATE events SET start = ?, end = ?, notified_upto = NULL, updated = ? WHERE id = ?",
                      (_iso(start), end, self._stamp(), event_id))
            self._log(c, f"move '{old.title}'", [{"op": "update", "table": "events", "id": event_id,
                                                    "values": {"start": _iso(old.start), "end": _iso(old.end)}}])
        return self.event(event_id)

    def cancel_event(self, event_id: int) -> Event:
        ev = self.event(event_id)
        self._soft_delete("events", event_id, f"cancel '{ev.title}'")
        return ev

    def import_events(self, events: list[dict[str, Any]]) -> list[int]:
        """Add events (dicts of :meth:`add_event`'s arguments) in one transaction; those whose uid exists are skipped.

        Every repeat rule is checked first: one that cannot be read raises :class:`RecurrenceError` naming the
        event, and nothing is added (:func:`read_ics` leaves such events out, with a sentence for each).
        """
        from .recurrence import RecurrenceError, check_rrule

        for e in events:
            try:
                check_rrule(e.get("rrule"), e["start"], e.get("tzid"))
            except RecurrenceError as err:
                why = str(err)
                raise RecurrenceError(f"Cannot import '{e.get('title')}': {why[:1].lower()}{why[1:]}") from None
        ids = []
        now = self._stamp()
        with self.transaction() as c:
            for e in events:
                if e.get("uid") and c.execute("SELECT 1 FROM events WHERE uid = ?", (e["uid"],)).fetchone():
                    continue
                cur = c.execute(
                    "INSERT INTO events (uid, kind, title, start, end, rrule, all_day, source, lang, created, updated, "
                    "tzid, exdates, rdates) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (e.get("uid") or f"{uuid.uuid4()}@jupyter-llm", e.get("kind", "event"), e["title"], _iso(e["start"]),
                     _iso(e.get("end")), e.get("rrule"), int(bool(e.get("all_day"))), "import", e.get("lang"), now, now,
                     e.get("tzid"), _times_json(e.get("exdates")), _times_json(e.get("rdates"))))
                ids.append(cur.lastrowid)
            if ids:
                self._log(c, f"import {len(ids)} events", [{"op": "soft_delete", "table": "events", "id": i} for i in ids])
        return ids

    def due_reminders(self, skipped: list[tuple[Event, str]] | None = None) -> list[tuple[dt.datetime, Event]]:
        """Reminders that fell due since they were last shown; marks them shown (once, across kernels).

        A reminder whose repeat rule cannot be read is left out, and ``(event, sentence)`` appended to ``skipped``.
        """
        from .recurrence import RecurrenceError

        now = self.now().replace(microsecond=0)
        due = []
        with self.transaction() as c:
            rows = c.execute("SELECT * FROM events WHERE kind = 'reminder' AND deleted_at IS NULL AND start <= ?",
                             (_iso(now),)).fetchall()
            for row in rows:
                ev = Event.from_row(row)
                since = _parse(row["notified_upto"])
                after = since + dt.timedelta(seconds=1) if since else ev.start
                try:
                    hits = ev.occurrences(after, now + dt.timedelta(seconds=1))
                except RecurrenceError as e:
                    if skipped is not None:
                        skipped.append((ev, str(e)))
                    continue
                if hits:
                    due.append((hits[-1], ev))
                    c.execute("UPDATE events SET notified_upto = ? WHERE id = ?", (_iso(now), ev.id))
        return sorted(due, key=lambda x: x[0])

    # === Notes and to-dos ===

    def add_note(self, text: str, kind: str = "note", lang: str | None = None) -> Note:
        if kind not in ("note", "todo"):
            raise invalid("kind", "'note' or 'todo'", kind)
        if not isinstance(text, str) or not text.strip():
            raise invalid("text", "a non-empty note", text)
        now = self._stamp()
        with self.transaction() as c:
            cur = c.execute("INSERT INTO notes (kind, text, lang, created, updated) VALUES (?, ?, ?, ?, ?)",
                            (kind, text.strip(), lang, now, now))
            self._log(c, f"add {kind} '{text.strip()}'", [{"op": "soft_delete", "table": "notes", "id": cur.lastrowid}])
        return self.note(cur.lastrowid)

    def note(self, note_id: int) -> Note:
        rows = self._query("SELECT * FROM notes WHERE id = ?", (note_id,))
        if not rows:
            raise invalid("note_id", "the id of an existing note", note_id)
        return Note.from_row(rows[0])

    def notes(self, kind: str | None = None, include_done: bool = True) -> list[Note]:
        sql, args = "SELECT * FROM notes WHERE deleted_at IS NULL", []
        if kind:
            sql += " AND kind = ?"
            args.append(kind)
        if not include_done:
            sql += " AND done_at IS NULL"
        return [Note.from_row(r) for r in self._query(sql + " ORDER BY id", tuple(args))]

    def search_notes(self, query: str, kind: str | None = None, include_done: bool = True) -> list[Note]:
        """Notes matching the words of ``query`` best (ties all returned), best first."""
        from .skills.common import match_score

        scored = [(match_score(query, n.text), n) for n in self.notes(kind, include_done)]
        scored = [x for x in scored if x[0] > 0]
        scored.sort(key=lambda x: -x[0])
        return [n for _, n in scored]

    def complete_note(self, note_id: int) -> Note:
        n = self.note(note_id)
        with self.transaction() as c:
            c.execute("UPDATE notes SET done_at = ?, updated = ? WHERE id = ?", (self._stamp(), self._stamp(), note_id))
            self._log(c, f"complete '{n.text}'", [{"op": "update", "table": "notes", "id": note_id, "values": {"done_at": None}}])
        return self.note(note_id)

    def delete_note(self, note_id: int) -> Note:
        n = self.note(note_id)
        self._soft_delete("notes", note_id, f"delete {n.kind} '{n.text}'")
        return n

    def _soft_delete(self, table: str, row_id: int, what: str) -> None:
        """Mark a row deleted (``undo`` restores it) and log ``what`` was done."""
        assert table in ("events", "notes")  # a table name is never user input
        with self.transaction() as c:
            c.execute(f"UPDATE {table} SET deleted_at = ?, updated = ? WHERE id = ?", (self._stamp(), self._stamp(), row_id))
            self._log(c, what, [{"op": "restore", "table": table, "id": row_id}])

    # === Mood journal ===

    def add_mood(self, text: str, label: str, score: float, lang: str | None = None) -> int:
        with self.transaction() as c:
            cur = c.execute("INSERT INTO moods (ts, text, label, score, lang) VALUES (?, ?, ?, ?, ?)",
                            (self._stamp(), text, label, float(score), lang))
            self._log(c, "mood journal entry", [{"op": "soft_delete", "table": "moods", "id": cur.lastrowid}])
        return cur.lastrowid

    def moods(self, since: dt.datetime | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM moods WHERE deleted_at IS NULL", ()
        if since is not None:
            sql, args = sql + " AND ts >= ?", (_iso(since),)
        return [{"id": r["id"], "ts": _parse(r["ts"]), "text": r["text"], "label": r["label"], "score": r["score"]}
                for r in self._query(sql + " ORDER BY ts, id", args)]

    # === Taught examples ===

    def add_example(self, intent: str, text: str) -> int:
        with self.transaction() as c:
            cur = c.execute("INSERT INTO examples (intent, text, created) VALUES (?, ?, ?)", (intent, text, self._stamp()))
            self._log(c, f"teach {intent}: '{text}'", [{"op": "soft_delete", "table": "examples", "id": cur.lastrowid}])
        return cur.lastrowid

    def examples(self) -> list[tuple[int, str, str]]:
        """The taught examples as ``(id, intent, Markdown text)``, oldest first."""
        return [(r["id"], r["intent"], r["text"])
                for r in self._query("SELECT * FROM examples WHERE deleted_at IS NULL ORDER BY id")]

    # === Undo ===

    def undo(self) -> str | None:
        """Revert the last change not yet undone; returns its description (None: nothing to undo)."""
        with self.transaction() as c:
            row = c.execute("SELECT * FROM undo_log WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1").fetchone()
            if row is None:
                return None
            for op in json.loads(row["ops"]):
                table, kind = op.get("table"), op.get("op")
                if table not in _UNDOABLE:
                    raise DataError(f"The undo log names an unknown table {table!r}. Expected one of {sorted(_UNDOABLE)}.")
                if kind == "soft_delete":
                    c.execute(f"UPDATE {table} SET deleted_at = ? WHERE id = ?", (self._stamp(), int(op["id"])))
                elif kind == "restore":
                    c.execute(f"UPDATE {table} SET deleted_at = NULL WHERE id = ?", (int(op["id"]),))
                elif kind == "update":
                    values = {k: v for k, v in op["values"].items() if k in _UNDOABLE[table]}
                    if values:
                        sets = ", ".join(f"{k} = ?" for k in values)
                        c.execute(f"UPDATE {table} SET {sets} WHERE id = ?", (*values.values(), int(op["id"])))
                else:
                    raise DataError(f"The undo log holds an unknown operation {kind!r}.")
            c.execute("UPDATE undo_log SET undone_at = ? WHERE id = ?", (self._stamp(), row["id"]))
        return row["description"]

    def history(self, limit: int = 20) -> list[dict[str, Any]]:
        return [dict(r) for r in self._query("SELECT id, ts, description, undone_at FROM undo_log ORDER BY id DESC LIMIT ?",
                                             (limit,))]
