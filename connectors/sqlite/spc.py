"""The SPC tables of the embedded store (issue 18; schema version 10 of
`connectors.sqlite.migrations`): the rows of `SpcPoint`, `SpcViolation` and
`SpcLimitsChange` events, and reading them back (`core.interfaces.SpcHistory`).

Times are integer milliseconds (UTC); the readings of a point, the rules it completed,
the points of a violation and the points left out of a baseline are JSON arrays. Floats
are stored as they came (the API and capability read them back exactly).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from connectors.sqlite.times import from_ms, to_ms
from core.spc import Limits, SpcLimitsChange, SpcPoint, SpcViolation

__all__ = [
    "SPC_COLUMNS", "limits_row", "point_row", "read_spc_limits", "read_spc_points",
    "read_spc_violations", "violation_row",
]  # fmt: skip

SPC_COLUMNS = {
    "spc_points": (
        "chart", "machine", "ts", "seq", "kind", "value", "spread", "n", "center", "ucl",
        "lcl", "zone", "phase", "violations", "values", "product", "held",
    ),
    "spc_violations": (
        "chart", "machine", "ts", "seq", "rule", "name", "points", "side", "value", "phase",
    ),
    "spc_limits": (
        "chart", "machine", "ts", "action", "by", "kind", "center", "sigma", "n", "ucl", "lcl",
        "spread_center", "spread_ucl", "spread_lcl", "source", "subgroups", "baseline_from",
        "baseline_to", "excluded",
    ),
}  # fmt: skip
_LIMITS = ("center", "sigma", "n", "ucl", "lcl", "spread_center", "spread_ucl", "spread_lcl")


def _array(items: tuple[Any, ...]) -> str:
    return json.dumps(list(items), separators=(",", ":"))


def _ms(ts: Any) -> int | None:
    return None if ts is None else to_ms(ts)


def point_row(e: SpcPoint) -> tuple[Any, ...]:
    """The `spc_points` row of `e`."""
    return (
        e.chart, e.machine, to_ms(e.ts), e.seq, e.kind, e.value, e.spread, e.n, e.center,
        e.ucl, e.lcl, e.zone, e.phase, _array(e.violations), _array(e.values), e.product,
        e.held,
    )  # fmt: skip


def violation_row(e: SpcViolation) -> tuple[Any, ...]:
    """The `spc_violations` row of `e`."""
    return (
        e.chart, e.machine, to_ms(e.ts), e.seq, e.rule, e.name, _array(e.points), e.side,
        e.value, e.phase,
    )  # fmt: skip


def limits_row(e: SpcLimitsChange) -> tuple[Any, ...]:
    """The `spc_limits` row of `e` (the limit columns null when it has none: unfrozen)."""
    lim = e.limits
    limits: tuple[Any, ...] = (
        (None,) * 11
        if lim is None
        else (lim.kind, *(getattr(lim, f) for f in _LIMITS), lim.source, lim.subgroups)
    )
    return (
        e.chart, e.machine, to_ms(e.ts), e.action, e.by, *limits, _ms(e.baseline_from),
        _ms(e.baseline_to), _array(e.excluded),
    )  # fmt: skip


def _select(table: str) -> str:
    cols = ", ".join(f'"{c}"' for c in SPC_COLUMNS[table])
    return f"SELECT {cols} FROM {table}"


# The latest `limit` points of the range (a chart shows its end), returned oldest first.
_POINTS = (
    f"SELECT * FROM ({_select('spc_points')} WHERE chart = ? AND ts >= ? AND ts < ? "
    "ORDER BY ts DESC, seq DESC LIMIT ?) ORDER BY ts, seq"
)
_VIOLATIONS = (
    f"{_select('spc_violations')} WHERE chart = ? AND ts >= ? AND ts < ? "
    "ORDER BY ts, seq, rowid LIMIT ?"
)
_LIMITS_HISTORY = f"{_select('spc_limits')} WHERE chart = ? ORDER BY ts, rowid"


def read_spc_points(
    conn: sqlite3.Connection, chart: str, start_ms: int, end_ms: int, limit: int | None
) -> list[SpcPoint]:
    """The points of `chart` with start <= ts < end, oldest first: the latest `limit`
    of them when there are more."""
    most = -1 if limit is None else limit  # SQLite: a negative LIMIT is none
    return [
        SpcPoint(
            chart=r[0],
            machine=r[1],
            ts=from_ms(r[2]),
            seq=r[3],
            kind=r[4],
            value=r[5],
            spread=r[6],
            n=r[7],
            center=r[8],
            ucl=r[9],
            lcl=r[10],
            zone=r[11],
            phase=r[12],
            violations=tuple(json.loads(r[13])),
            values=tuple(json.loads(r[14])),
            product=r[15],
            held=r[16],
        )  # fmt: skip
        for r in conn.execute(_POINTS, (chart, start_ms, end_ms, most))
    ]


def read_spc_violations(
    conn: sqlite3.Connection, chart: str, start_ms: int, end_ms: int, limit: int | None
) -> list[SpcViolation]:
    """The violations of `chart` with start <= ts < end, oldest first (at most `limit`)."""
    most = -1 if limit is None else limit
    return [
        SpcViolation(
            chart=r[0],
            machine=r[1],
            ts=from_ms(r[2]),
            seq=r[3],
            rule=r[4],
            name=r[5],
            points=tuple(json.loads(r[6])),
            side=r[7],
            value=r[8],
            phase=r[9],
        )  # fmt: skip
        for r in conn.execute(_VIOLATIONS, (chart, start_ms, end_ms, most))
    ]


def read_spc_limits(conn: sqlite3.Connection, chart: str) -> list[SpcLimitsChange]:
    """Every change of `chart`'s limits, oldest first."""
    return [_limits_change(r) for r in conn.execute(_LIMITS_HISTORY, (chart,))]


def _limits_change(r: tuple[Any, ...]) -> SpcLimitsChange:
    limits = None
    if r[5] is not None:
        values = dict(zip(_LIMITS, r[6:14], strict=True))
        limits = Limits(kind=r[5], **values, source=r[14], subgroups=r[15])
    return SpcLimitsChange(
        chart=r[0], machine=r[1], ts=from_ms(r[2]), action=r[3], limits=limits, by=r[4],
        baseline_from=None if r[16] is None else from_ms(r[16]),
        baseline_to=None if r[17] is None else from_ms(r[17]),
        excluded=tuple(json.loads(r[18])),
    )  # fmt: skip
