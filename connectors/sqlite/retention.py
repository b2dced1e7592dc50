"""Retention of the embedded store: rows older than the configured age are deleted.

`spc_limits` (every change of a chart's limits, with who and when) is kept for ever, as
the audit is: the frozen limits in force may date from long ago.

Rows are appended in about time order, so the old ones sit at the low end of each
table's rowid. A prune finds the first row young enough to keep (a scan from the low
end, no longer than the rows it deletes) and deletes the older rows
below it, `CHUNK` rowids at a time, one transaction each, so a write never waits long
behind it. A row stored out of order (older than a row before it) stays until the rows before
it have gone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from connectors.sqlite.schema import to_ms

__all__ = ["CHUNK", "EVENT_TABLES", "TAG_TABLES", "Retention", "prune_chunk"]

EVENT_TABLES = (
    "machine_state", "production", "oee", "line_oee", "suspect_count", "count_decision",
    "output",
    "alarm",
    "spc_points", "spc_violations",
    "order_progress", "changeover",
)  # fmt: skip
TAG_TABLES = ("tag_batch", "tag")  # `tag`: rows of files written before schema 4
CHUNK = 20_000


@dataclass(frozen=True)
class Retention:
    """How long each kind of row is kept (None: for ever)."""

    events: timedelta | None
    tags: timedelta | None

    @classmethod
    def days(cls, events: float | None, tags: float | None) -> Retention:
        def td(days: float | None) -> timedelta | None:
            return None if days is None else timedelta(days=days)

        return cls(td(events), td(tags))

    def cutoffs(self, now: datetime) -> Iterator[tuple[str, int]]:
        """(table, ms): the rows of `table` with ts before ms are due."""
        for tables, keep in ((EVENT_TABLES, self.events), (TAG_TABLES, self.tags)):
            if keep is not None:
                for table in tables:
                    yield table, to_ms(now - keep)


def prune_chunk(conn: sqlite3.Connection, table: str, cutoff_ms: int) -> tuple[int, bool]:
    """Delete the rows of `table` older than `cutoff_ms` among the next CHUNK rowids (one
    transaction): (rows deleted, whether older rows may follow)."""
    first = conn.execute(f"SELECT min(rowid) FROM {table}").fetchone()[0]
    if first is None:
        return 0, False
    end = first + CHUNK
    young = conn.execute(
        f"SELECT rowid FROM {table} WHERE rowid < ? AND ts >= ? ORDER BY rowid LIMIT 1",
        (end, cutoff_ms),
    ).fetchone()
    bound = end if young is None else young[0]
    with conn:
        cur = conn.execute(f"DELETE FROM {table} WHERE rowid < ? AND ts < ?", (bound, cutoff_ms))
    return cur.rowcount, young is None and cur.rowcount > 0
