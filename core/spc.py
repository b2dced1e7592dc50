"""The SPC events (issue 18): a chart's point judged against its limits, a run rule it
broke, and a change of its limits (trial limits computed, frozen, set by hand, unfrozen).
They go through the outbox to every sink like the other machine events (README "SPC")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from oee.spc import Limits

__all__ = ["SpcLimitsChange", "SpcPoint", "SpcViolation"]


@dataclass(frozen=True, slots=True)
class SpcPoint:
    """One subgroup of `chart` (on `machine`) judged: `seq` numbers the chart's points from
    1 without gaps; `value` the plotted statistic (x, x̄, p, np, c or u), `spread` the
    MR, R or S; its limits (None before any), `zone`, `phase` (`I`: trial limits or none,
    `II`: frozen or manual limits) and the rules it completed. `held`: readings in its span
    held out of it (outside the physical range, NaN)."""

    chart: str
    machine: str
    ts: datetime
    seq: int
    kind: str
    value: float
    spread: float | None
    n: float
    center: float | None
    ucl: float | None
    lcl: float | None
    zone: str | None
    phase: str
    violations: tuple[str, ...] = ()
    values: tuple[float, ...] = ()
    product: str | None = None
    held: int = 0


@dataclass(frozen=True, slots=True)
class SpcViolation:
    """A run rule `chart` broke at its point `seq`: the rule's id and name, the points
    involved (oldest first), the side of the centre line and the point's value."""

    chart: str
    machine: str
    ts: datetime
    seq: int
    rule: str
    name: str
    points: tuple[int, ...]
    side: str | None
    value: float
    phase: str


@dataclass(frozen=True, slots=True)
class SpcLimitsChange:
    """`chart`'s limits changed at `ts`: `trial` (Phase I limits computed from the first
    subgroups), `frozen` (from a baseline, by someone), `manual` (set by hand) or
    `unfrozen` (back to Phase I); the baseline's range and the points left out of it."""

    chart: str
    machine: str
    ts: datetime
    action: str
    limits: Limits | None
    by: str | None = None
    baseline_from: datetime | None = None
    baseline_to: datetime | None = None
    excluded: tuple[int, ...] = ()
