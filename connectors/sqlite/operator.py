"""Reads of the operator's input kept in the SQLite store (schema version 6): the audit
trail, a shift's notes and the scrap booked by hand, for the API and the shift report.
Run in a worker thread on the store's read connection (`HistoryQueries`)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from connectors.sqlite.schema import from_ms
from core.types import AuditEntry, ScrapBooked, ShiftNote

__all__ = ["count_suspects", "read_audit", "read_note", "read_report", "read_scrap"]


_AUDIT = (
    "SELECT ts, machine, line, action, by, target, old, new FROM audit "
    "WHERE ts >= ? AND ts < ? {} ORDER BY ts, rowid LIMIT ?"
)
_NOTE = (
    "SELECT ts, text, by, previous_text FROM shift_note WHERE line = ? AND shift = ? "
    "ORDER BY ts DESC, rowid DESC LIMIT 1"
)
_SCRAP = (
    "SELECT ts, quantity, reason_code, reason, category, product, note, by, count_seq, seq "
    "FROM scrap WHERE machine = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?"
)


def read_audit(
    conn: sqlite3.Connection, start_ms: int, end_ms: int, machine: str | None, limit: int
) -> list[AuditEntry]:
    """The operator changes of [start_ms, end_ms) (of `machine` only, if given), oldest
    first, at most `limit`."""
    where, params = ("AND machine = ?", (machine,)) if machine else ("", ())
    rows = conn.execute(_AUDIT.format(where), (start_ms, end_ms, *params, limit))
    return [
        AuditEntry(from_ms(ts), m, line, action, by, target, _doc(old), _doc(new))
        for ts, m, line, action, by, target, old, new in rows
    ]


def read_note(conn: sqlite3.Connection, area: str, line: str, shift: str) -> ShiftNote | None:
    """The latest text of the shift `shift` of `line` (None: never written)."""
    row = conn.execute(_NOTE, (line, shift)).fetchone()
    if row is None:
        return None
    ts, text, by, previous = row
    return ShiftNote(line, area, shift, text, from_ms(ts), by, previous)


def read_scrap(
    conn: sqlite3.Connection, machine: str, start_ms: int, end_ms: int, limit: int | None
) -> list[ScrapBooked]:
    """The scrap booked by hand on `machine` in [start_ms, end_ms), oldest first."""
    rows = conn.execute(_SCRAP, (machine, start_ms, end_ms, -1 if limit is None else limit))
    return [
        ScrapBooked(machine, from_ms(ts), q, code, reason, by, cat, product, note, cseq, seq)
        for ts, q, code, reason, cat, product, note, by, cseq, seq in rows
    ]


def _doc(text: str | None) -> dict[str, Any] | None:
    return None if text is None else dict(json.loads(text))


_REPORT = (
    "SELECT ts, doc FROM shift_report WHERE line = ? AND shift = ? "
    "ORDER BY ts DESC, rowid DESC LIMIT 1"
)
_SUSPECTS = "SELECT COUNT(*) FROM suspect_count WHERE machine = ? AND ts >= ? AND ts < ?"


def read_report(conn: sqlite3.Connection, line: str, shift: str) -> tuple[int, str] | None:
    """(built at, ms; the report's JSON) of the latest report kept of `shift` of `line`."""
    row = conn.execute(_REPORT, (line, shift)).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def count_suspects(conn: sqlite3.Connection, machine: str, start_ms: int, end_ms: int) -> int:
    """How many counter movements of `machine` were held as suspect in [start, end)."""
    return int(conn.execute(_SUSPECTS, (machine, start_ms, end_ms)).fetchone()[0])
