"""OEE and its losses for one machine over one window.

Pure functions over state intervals and production counts that the caller has built
(time model and input types: `oee.timemodel`, re-exported here):

- `analyse`: the ISO 22400-2 time split, A/P/Q/OEE, the six big losses (Nakajima) in
  seconds and in OEE points, failures for MTBF/MTTR;
- `mtbf_mttr`, `pareto` (unplanned downtime by reason);
- line and plant roll-up: `oee.rollup`.

A production counted at `at` belongs to the window when window_start < at <= window_end.
Unknown time (offline, or no data) is excluded from planned production time (PPT), or
counted in it as downtime when offline_counts_as="downtime".

Quality is weighted by ideal time: Q = sum(ideal x good) / sum(ideal x total). With one
ideal cycle time this is good / total; with several products it is the only Q for which
OEE = A x P x Q = fully productive time / PPT holds. A ratio with a zero denominator is
None, never NaN; P above 1 is reported as it is and flagged.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import reduce
from typing import Literal

from oee.states import MachineState
from oee.timemodel import (
    DOWNTIME,
    Counts,
    Kind,
    Production,
    StateInterval,
    TimeSplit,
    classify,
    mark_startup,
    split_time,
)

__all__ = [
    "Counts", "Loss", "LossReport", "Production", "ReasonLoss", "Reliability", "StateInterval",
    "TimeSplit", "analyse", "mark_startup", "mtbf_mttr", "pareto", "pareto_order", "pareto_rows",
]  # fmt: skip

OfflineTreatment = Literal["unknown", "downtime"]
ReasonKey = tuple[MachineState, int | None, str | None]
Factor = Literal["availability", "performance", "quality"]

_ZERO = timedelta(0)


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def _ns(span: timedelta) -> int:
    return (span // _MICRO) * 1000


_MICRO = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Loss:
    """One loss of the OEE loss tree: `seconds` of PPT, and `points`, the OEE it costs
    (seconds / PPT, a fraction like `oee`; x100 for percentage points)."""

    name: str
    factor: Factor
    seconds: float
    points: float | None


@dataclass(frozen=True, slots=True)
class Reliability:
    """Failures (breakdowns starting in the window), run and breakdown time in the window."""

    failures: int
    run_s: float
    fault_s: float

    @property
    def mtbf_s(self) -> float | None:
        """Mean time between failures: run time / failures; None without a failure."""
        return self.run_s / self.failures if self.failures else None

    @property
    def mttr_s(self) -> float | None:
        """Mean time to repair: breakdown time / failures; None without a failure."""
        return self.fault_s / self.failures if self.failures else None


@dataclass(frozen=True, slots=True)
class LossReport:
    """Times, counts and failures of a window (or a sum of them, see `oee.rollup`), and
    every figure derived from them on construction. Build it with `analyse`."""

    times: TimeSplit
    counts: Counts = Counts()
    failures: int = 0
    offline_counts_as: OfflineTreatment = "unknown"
    window_s: float = field(init=False)
    planned_stop_s: float = field(init=False)
    unknown_s: float = field(init=False)  # offline or no data
    planned_s: float = field(init=False)  # PPT: window - planned stops - unknown if excluded
    run_s: float = field(init=False)  # including small stops
    breakdown_s: float = field(init=False)  # fault
    setup_s: float = field(init=False)
    idle_s: float = field(init=False)
    small_stop_s: float = field(init=False)
    unknown_downtime_s: float = field(init=False)  # unknown_s if counted as downtime, else 0
    ideal_s: float = field(init=False)  # sum of ideal cycle x total
    speed_loss_s: float = field(init=False)  # run - small stops - ideal; < 0 when P > 1
    startup_reject_s: float = field(init=False)  # ideal time of start-up rejects
    production_reject_s: float = field(init=False)  # ideal time of the other rejects
    fully_productive_s: float = field(init=False)  # ideal x good
    # Production outside the plan (no shift planned): not in the figures, flagged apart.
    off_plan_run_s: float = field(init=False)  # ran while no shift was planned
    off_plan_total: int = field(init=False)  # parts counted while no shift was planned
    coverage: float | None = field(init=False)  # known time / window
    availability: float | None = field(init=False)  # run / PPT
    performance: float | None = field(init=False)  # ideal / run, not clamped at 1
    quality: float | None = field(init=False)  # ideal x good / ideal x total
    oee: float | None = field(init=False)  # fully productive / PPT (= A x P x Q)
    # P > 1, or parts without run time (P undefined): usually a wrong ideal cycle time,
    # or states that say the machine stood while it made parts.
    performance_flagged: bool = field(init=False)

    def __post_init__(self) -> None:
        if self.offline_counts_as not in ("unknown", "downtime"):
            raise ValueError(
                f"offline_counts_as must be 'unknown' or 'downtime': {self.offline_counts_as!r}"
            )
        # Frozen: each figure is set once, here, straight (a report is built per window
        # and publish, so this is kept to one pass).
        put = object.__setattr__
        put(self, "counts", self.counts.clamped())  # no negative sum reaches a figure
        t, c = self.times, self.counts
        unknown = t.unknown if self.offline_counts_as == "unknown" else _ZERO
        planned = t.window - t.planned_stop - unknown
        put(self, "window_s", t.window.total_seconds())
        put(self, "planned_stop_s", t.planned_stop.total_seconds())
        put(self, "unknown_s", t.unknown.total_seconds())
        put(self, "planned_s", planned.total_seconds())
        put(self, "run_s", t.run.total_seconds())
        put(self, "breakdown_s", t.breakdown.total_seconds())
        put(self, "setup_s", t.setup.total_seconds())
        put(self, "idle_s", t.idle.total_seconds())
        put(self, "small_stop_s", t.small_stop.total_seconds())
        put(self, "unknown_downtime_s", (t.unknown - unknown).total_seconds())
        put(self, "ideal_s", c.ideal_s)
        put(self, "speed_loss_s", (t.run - t.small_stop).total_seconds() - c.ideal_s)
        put(self, "startup_reject_s", c.startup_reject_s)
        put(self, "production_reject_s", c.production_reject_s)
        put(self, "fully_productive_s", c.fully_productive_s)
        put(self, "off_plan_run_s", t.off_plan_run.total_seconds())
        put(self, "off_plan_total", c.off_plan_total)
        # Integer nanoseconds on both sides: each ratio is the correctly rounded quotient,
        # so a window running throughout has A exactly 1 and 40 good of 50 has Q exactly 0.8.
        planned_ns, run_ns = _ns(planned), _ns(t.run)
        performance = _ratio(c.ideal_ns, run_ns)
        put(self, "coverage", _ratio(_ns(t.window - t.unknown), _ns(t.window)))
        put(self, "availability", _ratio(run_ns, planned_ns))
        put(self, "performance", performance)
        put(self, "quality", _ratio(c.fully_productive_ns, c.ideal_ns))
        put(self, "oee", _ratio(c.fully_productive_ns, planned_ns))
        beyond = performance > 1 if performance is not None else c.ideal_ns > 0
        put(self, "performance_flagged", beyond)

    def __add__(self, other: LossReport) -> LossReport:
        return LossReport.sum_of((self, other))

    @staticmethod
    def sum_of(reports: Sequence[LossReport]) -> LossReport:
        """The sum of `reports` (at least one), built once: times, counts and failures add
        up (`oee.rollup.combine`)."""
        first = reports[0]
        if any(r.offline_counts_as != first.offline_counts_as for r in reports):
            raise ValueError("cannot add reports with different offline treatments")
        return LossReport(
            reduce(operator.add, (r.times for r in reports)),
            reduce(operator.add, (r.counts for r in reports)),
            sum(r.failures for r in reports),
            first.offline_counts_as,
        )

    @property
    def reliability(self) -> Reliability:
        """Failures, run and breakdown time, hence MTBF and MTTR."""
        return Reliability(self.failures, self.run_s, self.breakdown_s)

    @property
    def losses(self) -> tuple[Loss, ...]:
        """The six big losses, plus idle and unknown downtime (ISO 22400 unplanned downtime
        that Nakajima does not name); with the fully productive time they add up to PPT."""
        rows: tuple[tuple[str, Factor, float], ...] = (
            ("breakdowns", "availability", self.breakdown_s),
            ("setup", "availability", self.setup_s),
            ("idle", "availability", self.idle_s),
            ("unknown", "availability", self.unknown_downtime_s),
            ("small_stops", "performance", self.small_stop_s),
            ("speed", "performance", self.speed_loss_s),
            ("startup_rejects", "quality", self.startup_reject_s),
            ("production_rejects", "quality", self.production_reject_s),
        )
        return tuple(Loss(n, f, s, _ratio(s, self.planned_s)) for n, f, s in rows)

    def check(self) -> None:
        """ArithmeticError unless losses + fully productive time == PPT and, when A, P and Q
        are defined, A x P x Q == OEE (float eps). The exact partition of the window is
        checked by TimeSplit itself."""
        scale = max(self.planned_s, self.run_s, self.ideal_s, 1.0)
        rest = self.planned_s - self.fully_productive_s - math.fsum(x.seconds for x in self.losses)
        if abs(rest) > 1e-9 * scale:
            raise ArithmeticError(f"losses miss PPT by {rest} s: {self}")
        a, p, q, oee = self.availability, self.performance, self.quality, self.oee
        if a is None or p is None or q is None or oee is None:
            return
        if not math.isclose(a * p * q, oee, rel_tol=1e-9, abs_tol=1e-12):
            raise ArithmeticError(f"A x P x Q = {a * p * q} != OEE {oee}: {self}")


def analyse(
    intervals: Iterable[StateInterval],
    productions: Iterable[Production],
    *,
    window_start: datetime,
    window_end: datetime,
    micro_stop_s: float = 0.0,
    offline_counts_as: OfflineTreatment = "unknown",
) -> LossReport:
    """The report of [window_start, window_end) for one machine."""
    if window_start.utcoffset() is None or window_end.utcoffset() is None:
        raise ValueError("window bounds must be timezone-aware")
    if window_end < window_start:
        raise ValueError(f"window ends before it starts: {window_start} > {window_end}")
    classified = classify(intervals, window_end, micro_stop_s)
    report = LossReport(
        times=split_time(classified, window_start, window_end),
        counts=Counts.of(p for p in productions if window_start < p.at <= window_end),
        failures=_failures(classified, window_start, window_end),
        offline_counts_as=offline_counts_as,
    )
    report.check()
    return report


def _failures(
    classified: list[tuple[StateInterval, Kind]], window_start: datetime, window_end: datetime
) -> int:
    # A breakdown continuing in a next fault interval (its reason changed) is one failure.
    count = 0
    for i, (iv, kind) in enumerate(classified):
        if kind is not Kind.BREAKDOWN or not window_start <= iv.start < window_end:
            continue
        prev, prev_kind = classified[i - 1] if i else (None, None)
        if prev is None or prev_kind is not Kind.BREAKDOWN or prev.end != iv.start:
            count += 1
    return count


def mtbf_mttr(
    intervals: Iterable[StateInterval],
    *,
    window_start: datetime,
    window_end: datetime,
    micro_stop_s: float = 0.0,
) -> Reliability:
    """MTBF = run time / failures, MTTR = breakdown time / failures, over the window.

    A failure is a breakdown (fault, not planned, not a small stop) starting in the window;
    times are those inside the window, as in `analyse`.
    """
    return analyse(
        intervals, (), window_start=window_start, window_end=window_end, micro_stop_s=micro_stop_s
    ).reliability


@dataclass(frozen=True, slots=True)
class ReasonLoss:
    """Downtime of one (state, reason): `count` stops, `seconds` in the window, `share` of
    all the downtime in the Pareto."""

    reason_code: int | None
    reason: str | None
    state: MachineState
    count: int
    seconds: float
    share: float


def pareto(
    intervals: Iterable[StateInterval],
    *,
    window_start: datetime,
    window_end: datetime,
    micro_stop_s: float = 0.0,
) -> list[ReasonLoss]:
    """Unplanned downtime (idle, setup and fault, not planned, at least micro_stop_s long)
    in the window by state and reason, biggest first; the shares add up to 1."""
    groups: dict[ReasonKey, tuple[int, timedelta]] = {}
    for iv, kind in classify(intervals, window_end, micro_stop_s):
        span = min(iv.end, window_end) - max(iv.start, window_start)
        if kind in DOWNTIME and span > _ZERO:
            key = (iv.state, iv.reason_code, iv.reason)
            count, seconds = groups.get(key, (0, _ZERO))
            groups[key] = (count + 1, seconds + span)
    return pareto_rows(groups)


def pareto_rows(groups: Mapping[ReasonKey, tuple[int, timedelta]]) -> list[ReasonLoss]:
    """The Pareto of downtime grouped by (state, reason code, reason) into (stops, time),
    biggest first (`pareto_order`)."""
    total = sum((t for _, t in groups.values()), _ZERO)
    rows = [
        ReasonLoss(code, reason, state, n, t.total_seconds(), t / total)
        for (state, code, reason), (n, t) in groups.items()
    ]
    rows.sort(key=pareto_order)
    return rows


def pareto_order(r: ReasonLoss) -> tuple[float, int, str, int, str]:
    """Biggest first; ties in a stable order, so a dashboard does not reshuffle equal bars."""
    return (-r.seconds, -r.count, r.state, r.reason_code or 0, r.reason or "")
