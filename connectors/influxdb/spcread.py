"""Reading the SPC measurements back (`core.interfaces.SpcHistory` of `InfluxHistory`):
the InfluxQL of a chart's points, violations and limits changes, and the `core.spc`
events rebuilt from the rows, equal to the events that were written
(`connectors.influxdb.spclines` says how each field is written).

A chart id is unique within one gateway, not across the gateways sharing a database: each
query is grouped by the machine's tags (`site`, `area`, `line`, `machine`), so that a
`LIMIT` holds per machine, and only the groups of this gateway's machines are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from core.spc import Limits, SpcLimitsChange, SpcPoint, SpcViolation
from core.types import MachineRef

__all__ = [
    "limits_changes", "limits_query", "mine", "points", "points_query", "violations",
    "violations_query",
]  # fmt: skip

T = TypeVar("T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_GROUP = ' GROUP BY "site", "area", "line", "machine"'
# The order the engine checks the rules in, so it lists a point's violations in
# (oee.spc.rules.RuleTracker.add): Western Electric, then Nelson, each by number, then the
# spread chart. Violations of one point are points of different series (tag `rule`) at
# the same time, which InfluxDB returns in its own order.
_RULE_ORDER = {
    rule: i
    for i, rule in enumerate([f"WE{k}" for k in range(1, 5)] + [f"N{k}" for k in range(1, 9)])
}
_POINT_FIELDS = (
    "value", "spread", "n", "center", "ucl", "lcl", "seq", "held", "phase", "zone", "rules",
    "values", "product", "kind",
)  # fmt: skip
_VIOLATION_FIELDS = ("seq", "value", "points", "name", "side", "phase", "rule")
_LIMITS_FIELDS = (
    "frozen", "action", "center", "ucl", "lcl", "sigma", "n", "spread_center", "spread_ucl",
    "spread_lcl", "source", "kind", "by", "subgroups", "baseline_from_ms", "baseline_to_ms",
    "excluded",
)  # fmt: skip


def _select(fields: Iterable[str], measurement: str, chart: str) -> str:
    """`SELECT "f", … FROM "m" WHERE "chart" = 'c'`; `chart` an InfluxQL string literal."""
    cols = ", ".join(f'"{f}"' for f in fields)  # plain names, quoted: `values`, `by` are keywords
    return f'SELECT {cols} FROM "{measurement}" WHERE "chart" = {chart}'


def _span(start_ns: int, end_ns: int) -> str:
    return f" AND time >= {start_ns} AND time < {end_ns}"


def _limit(limit: int | None) -> str:
    return "" if limit is None else f" LIMIT {int(limit)}"


def points_query(chart: str, start_ns: int, end_ns: int, limit: int | None) -> str:
    """The newest `limit` points of each machine's series of `chart` in the range."""
    head = _select(_POINT_FIELDS, "spc", chart) + _span(start_ns, end_ns)
    return head + _GROUP + " ORDER BY time DESC" + _limit(limit)


def violations_query(chart: str, start_ns: int, end_ns: int, limit: int | None) -> str:
    """The oldest `limit` violations of each machine's `chart` in the range (as the
    SQLite store: `connectors.sqlite.spc`)."""
    head = _select(_VIOLATION_FIELDS, "spc_violation", chart) + _span(start_ns, end_ns)
    return head + _GROUP + " ORDER BY time ASC" + _limit(limit)


def limits_query(chart: str) -> str:
    """Every change of `chart`'s limits."""
    return _select(_LIMITS_FIELDS, "spc_limits", chart) + _GROUP + " ORDER BY time ASC"


def mine(machines: Collection[MachineRef]) -> Callable[[dict[str, Any]], bool]:
    """Whether a row is of one of `machines` (every row when none is given)."""
    refs = set(machines)
    if not refs:
        return lambda row: True
    return lambda row: (
        MachineRef(row.get("site", ""), row.get("area", ""), row.get("line", ""),
                   row.get("machine", "")) in refs
    )  # fmt: skip


def points(chart: str, rows: list[dict[str, Any]], limit: int | None) -> list[SpcPoint]:
    """The points of the rows (one chart's, of this gateway's machines), oldest first:
    the latest `limit` of them."""
    found = sorted((_point(chart, r) for r in rows), key=lambda p: (p.ts, p.seq))
    return found if limit is None else found[len(found) - min(limit, len(found)) :]


def violations(chart: str, rows: list[dict[str, Any]], limit: int | None) -> list[SpcViolation]:
    """The violations of the rows, oldest first, each point's in the engine's rule order:
    the oldest `limit` of them."""
    found = sorted(
        (_violation(chart, r) for r in rows),
        key=lambda v: (v.ts, v.seq, _RULE_ORDER.get(v.rule, len(_RULE_ORDER))),
    )
    return found if limit is None else found[:limit]


def limits_changes(chart: str, rows: list[dict[str, Any]]) -> list[SpcLimitsChange]:
    """The limits changes of the rows, oldest first."""
    return sorted((_change(chart, r) for r in rows), key=lambda c: c.ts)


def _point(chart: str, r: dict[str, Any]) -> SpcPoint:
    return SpcPoint(
        chart=chart, machine=r["machine"], ts=_time(r), seq=int(r["seq"]), kind=r["kind"],
        # A value is written unless it was not finite (left out): NaN, as it was.
        value=_float(r["value"], float("nan")), spread=_opt(r["spread"]),
        n=_float(r["n"], 0.0), center=_opt(r["center"]), ucl=_opt(r["ucl"]),
        lcl=_opt(r["lcl"]), zone=r["zone"] or None, phase=r["phase"],
        violations=tuple(_split(r["rules"], str)), values=tuple(_split(r["values"], float)),
        product=r["product"] or None, held=int(r["held"] or 0),
    )  # fmt: skip


def _violation(chart: str, r: dict[str, Any]) -> SpcViolation:
    return SpcViolation(
        chart=chart, machine=r["machine"], ts=_time(r), seq=int(r["seq"]), rule=r["rule"],
        name=r["name"] or "", points=tuple(_split(r["points"], int)), side=r["side"] or None,
        value=_float(r["value"], float("nan")), phase=r["phase"] or "",
    )  # fmt: skip


def _change(chart: str, r: dict[str, Any]) -> SpcLimitsChange:
    limits = None
    if r["kind"] is not None:  # written with the limits only: none once unfrozen
        limits = Limits(
            kind=r["kind"], center=_float(r["center"], 0.0), sigma=_float(r["sigma"], 0.0),
            n=_float(r["n"], 0.0), ucl=_float(r["ucl"], 0.0), lcl=_float(r["lcl"], 0.0),
            spread_center=_opt(r["spread_center"]), spread_ucl=_opt(r["spread_ucl"]),
            spread_lcl=_opt(r["spread_lcl"]), source=r["source"] or "computed",
            subgroups=int(r["subgroups"] or 0),
        )  # fmt: skip
    return SpcLimitsChange(
        chart=chart, machine=r["machine"], ts=_time(r), action=r["action"], limits=limits,
        by=r["by"] or None, baseline_from=_ms(r["baseline_from_ms"]),
        baseline_to=_ms(r["baseline_to_ms"]), excluded=tuple(_split(r["excluded"], int)),
    )  # fmt: skip


def _split(text: str | None, kind: Callable[[str], T]) -> list[T]:
    return [kind(part) for part in text.split(",")] if text else []


def _opt(value: Any) -> float | None:
    # JSON writes a float field of 5.0 as 5: read it back as the float it is.
    return None if value is None else float(value)


def _float(value: Any, missing: float) -> float:
    return missing if value is None else float(value)


def _ms(value: Any) -> datetime | None:
    return None if value is None else _EPOCH + timedelta(milliseconds=int(value))


def _time(row: dict[str, Any]) -> datetime:
    """A row's `time` (epoch ns) as an aware UTC datetime, to the microsecond."""
    return _EPOCH + timedelta(microseconds=row["time"] // 1000)
