"""One control chart as the SPC engine keeps it: its collector, limits, phase, rule
tracker, point numbers, the recent subgroups (for a baseline) and the running moments of the
current shift (for capability). Time is passed in; no I/O.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from core.spc import SpcLimitsChange, SpcPoint, SpcViolation
from edge.config.spc import ChartConfig
from edge.engines.spc_groups import Counts, Readings
from oee.spc import Limits, Moments, RuleTracker, Subgroup, judge

__all__ = ["Chart", "Kept", "LimitsMeta", "plain_value", "subgroup_of"]


@dataclass(frozen=True, slots=True)
class Kept:
    """A closed subgroup kept in memory: its point's number, the subgroup, the product."""

    seq: int
    subgroup: Subgroup
    product: str | None
    held: int


@dataclass
class LimitsMeta:
    """Who set the limits in force and from which baseline."""

    action: str | None = None  # trial, frozen, manual (None: no limits)
    by: str | None = None
    at: datetime | None = None
    baseline_from: datetime | None = None
    baseline_to: datetime | None = None
    excluded: tuple[int, ...] = ()


def plain_value(kind: str, s: Subgroup, previous: Subgroup | None) -> tuple[float, float | None]:
    """The plotted statistic and its spread before there are limits to judge against:
    x̄ and R or S, x and MR, or p = d/n, np = d, c, u = c/n."""
    if kind == "imr":
        prev = previous.values[0] if previous is not None and previous.values else None
        return s.values[0], None if prev is None else abs(s.values[0] - prev)
    if kind in ("xbar_r", "xbar_s"):
        spread = max(s.values) - min(s.values) if kind == "xbar_r" else statistics.stdev(s.values)
        return statistics.fmean(s.values), spread
    if kind in ("p", "u"):
        return s.count / s.size, None
    return s.count, None


@dataclass
class Chart:
    """The live state of one chart."""

    config: ChartConfig
    keep: int  # how many recent subgroups stay in memory
    readings: Readings | None = None
    counts: Counts | None = None
    limits: Limits | None = None
    meta: LimitsMeta = field(default_factory=LimitsMeta)
    tracker: RuleTracker | None = None
    seq: int = 0
    recent: deque[Kept] = field(default_factory=deque)
    previous: Subgroup | None = None  # the last reading (I-MR's moving range)
    held: int = 0  # readings held out since the last point
    missed: int = 0  # per-part: parts that came between two polls without a reading
    steady: int = 0  # per-part: single-part movements since the last miss
    product: str | None = None
    baseline_from_seq: int = 1  # Phase I: trial limits from the points from this seq on
    last: SpcPoint | None = None
    moments: dict[str | None, Moments] = field(default_factory=dict)  # per product
    window: tuple[datetime, datetime] | None = None  # the shift the moments are of

    def __post_init__(self) -> None:
        c = self.config
        self.recent = deque(maxlen=self.keep)
        self.tracker = RuleTracker(c.rules.to_rules())
        if c.variables:
            minimum = 1 if c.kind == "imr" else 2
            self.readings = Readings(c.size, c.subgroup.every_s, minimum)
        else:
            self.counts = Counts(c.kind, c.subgroup.parts, c.subgroup.every_s)

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def phase(self) -> str:
        """`II` under frozen or manual limits, else `I` (trial limits or none)."""
        return "II" if self.meta.action in ("frozen", "manual") else "I"

    def point(self, s: Subgroup) -> tuple[SpcPoint, list[SpcViolation]]:
        """Judge one closed subgroup: its point (numbered) and the rules it broke. The
        chart changes only once the point is made: a subgroup that cannot be judged
        (ValueError, OverflowError) leaves no gap in the numbers and no trace."""
        c, seq = self.config, self.seq + 1
        if self.limits is None:
            value, spread = plain_value(c.kind, s, self.previous)
            limits: tuple[float | None, float | None, float | None] = (None, None, None)
            zone, n, found = None, float(len(s.values) or s.size), []
        else:
            p = judge(c.kind, s, self.limits, self.previous)  # type: ignore[arg-type]
            value, spread, zone, n = p.value, p.spread, p.zone, p.n
            limits = (p.center, p.ucl, p.lcl)
            assert self.tracker is not None
            found = self.tracker.add(seq, p)
        violations = [
            SpcViolation(c.id, c.machine, s.ts, seq, v.rule, v.name, v.points, v.side, value,
                         self.phase)
            for v in found
        ]  # fmt: skip
        point = SpcPoint(
            c.id, c.machine, s.ts, seq, c.kind, value, spread, n, *limits, zone,
            self.phase, tuple(v.rule for v in found), s.values, self.product, self.held,
        )  # fmt: skip
        self._made(point, s)
        return point, violations

    def _made(self, point: SpcPoint, s: Subgroup) -> None:
        self.seq, self.last, self.held = point.seq, point, 0
        if self.config.kind == "imr":
            self.previous = s
        self.recent.append(Kept(point.seq, s, point.product, point.held))

    def moments_for(self, product: str | None) -> Moments:
        """The running moments of `product` in the current shift window (its spec)."""
        m = self.moments.get(product)
        if m is None:
            kind = self.config.kind
            m = self.moments[product] = Moments(kind, self.config.spec_for(product))  # type: ignore[arg-type]
        return m

    def set_limits(self, limits: Limits | None, meta: LimitsMeta) -> SpcLimitsChange:
        """New limits (None: back to Phase I, trial limits again from the next points);
        the run rules start again."""
        self.limits, self.meta = limits, meta
        assert self.tracker is not None
        self.tracker.reset()
        if limits is None:
            self.baseline_from_seq = self.seq + 1
        return self.limits_change(meta.at)

    def limits_change(self, at: datetime | None) -> SpcLimitsChange:
        """The limits in force as a change at `at` (its action: how they were set)."""
        c, m = self.config, self.meta
        if m.at is None and at is not None:
            m.at = at
        return SpcLimitsChange(
            c.id, c.machine, m.at or at or datetime.min, m.action or "unfrozen", self.limits,
            m.by, m.baseline_from, m.baseline_to, m.excluded,
        )  # fmt: skip

    def baseline(self, count: int) -> list[Kept]:
        """The first `count` points of the current Phase I (None of them may be gone)."""
        return [k for k in self.recent if k.seq >= self.baseline_from_seq][:count]


def subgroup_of(p: SpcPoint) -> Subgroup:
    """The subgroup a stored point was made of (attributes: count and size back from
    the plotted value and n)."""
    if p.values:
        return Subgroup(p.ts, tuple(p.values))
    count = p.value * p.n if p.kind in ("p", "u") else p.value
    size = 1.0 if p.kind == "c" else p.n
    return Subgroup(p.ts, count=round(count, 9), size=size)
