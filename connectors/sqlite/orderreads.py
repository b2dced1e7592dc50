"""Reads of the order tables of the SQLite store (schema version 11): each order's
published progress over a range and the changeovers that started in it, for the shift
report. Run in a worker thread on the store's read connection (`HistoryQueries`)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from connectors.common.orderdoc import changeover_document
from connectors.sqlite.orders import read_changeovers
from connectors.sqlite.schema import from_ms
from core.orders import OrderTrack

__all__ = ["read_changeover_docs", "read_order_tracks"]

_MOST = 100_000  # changeovers of one machine in one report: far fewer
_POINTS = (
    "SELECT ts, order_id, good FROM order_progress WHERE machine = ? AND ts >= ? AND ts < ? "
    "AND order_id IS NOT NULL ORDER BY ts, rowid"
)
_LAST = (
    "SELECT doc FROM order_progress WHERE order_id = ? AND machine = ? AND ts >= ? AND ts < ? "
    "ORDER BY ts DESC, rowid DESC LIMIT 1"
)


def _last(conn: sqlite3.Connection, order: str, machine: str, a: int, b: int) -> Any:
    row = conn.execute(_LAST, (order, machine, a, b)).fetchone()
    return None if row is None else json.loads(row[0])


def read_order_tracks(
    conn: sqlite3.Connection, machine: str, start_ms: int, end_ms: int
) -> list[OrderTrack]:
    """Each order published on `machine` in [start_ms, end_ms): its good count at each
    publication, its last document there and its last one before (documents are read
    only for those two rows: a shift holds a row per publication)."""
    points: dict[str, list[tuple[int, int]]] = {}
    for ts, order, good in conn.execute(_POINTS, (machine, start_ms, end_ms)):
        points.setdefault(order, []).append((ts, good or 0))
    return [
        OrderTrack(
            machine,
            order,
            tuple((from_ms(ts), good) for ts, good in rows),
            _last(conn, order, machine, start_ms, end_ms),
            _last(conn, order, machine, -(2**62), start_ms),
        )  # fmt: skip
        for order, rows in points.items()
    ]


def read_changeover_docs(
    conn: sqlite3.Connection, machine: str, start_ms: int, end_ms: int
) -> list[dict[str, Any]]:
    """The `…/changeover` documents of `machine` that started in [start_ms, end_ms)."""
    found = read_changeovers(conn, machine, start_ms, end_ms, _MOST)
    return [changeover_document(c) for c in found]
