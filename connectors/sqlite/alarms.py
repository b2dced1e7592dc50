"""Reading the stored alarms back (table `alarm`: one row per change, the alarm as it
stands after it): the API's `GET /api/v1/alarms` and the shift report."""

from __future__ import annotations

import sqlite3
from typing import Any

from connectors.sqlite.schema import from_ms
from core.alarms import Alarm

__all__ = ["read_alarms"]

# The last change of each alarm raised before the end; then those not cleared before the
# start: the alarms that were active at some time of [start, end).
_SQL = """
SELECT machine, id, rule, kind, severity, message, value, raised, cleared, acked_by, acked_at
FROM alarm WHERE rowid IN (
    SELECT max(rowid) FROM alarm WHERE raised < ? {machine} GROUP BY id)
AND (cleared IS NULL OR cleared >= ?)
ORDER BY raised, machine, rule LIMIT ?
"""


def _at(ms: int | None) -> Any:
    return None if ms is None else from_ms(ms)


def read_alarms(
    conn: sqlite3.Connection, start_ms: int, end_ms: int, machine: str | None, limit: int
) -> list[Alarm]:
    """The alarms active at some time in [start, end) (of one machine), oldest first."""
    sql = _SQL.format(machine="" if machine is None else "AND machine = ?")
    params: tuple[Any, ...] = (end_ms, start_ms, limit)
    if machine is not None:
        params = (end_ms, machine, start_ms, limit)
    return [
        Alarm(
            id=r[1],
            machine=r[0],
            rule=r[2],
            kind=r[3],
            severity=r[4],
            message=r[5],
            value=r[6],
            raised=from_ms(r[7]),
            cleared=_at(r[8]),
            acked_by=r[9],
            acked_at=_at(r[10]),
        )  # fmt: skip
        for r in conn.execute(sql, params)
    ]
