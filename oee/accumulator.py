"""Running sums of one OEE window: the incremental half of `oee.tracker`.

A window holds the closed segments and counts whose time can still fall inside it, and
keeps their sums up to date as they come and go, so a report costs O(1) amortized (plus
the number of reasons in the Pareto), however many events the window holds. Sums of
times are exact (timedelta is integer microseconds) and ideal times are kept in integer
nanoseconds, so adding and removing never drifts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from oee.countlog import CountLog, micros
from oee.losses import (
    Counts,
    LossReport,
    OfflineTreatment,
    ReasonKey,
    ReasonLoss,
    TimeSplit,
    pareto_rows,
)
from oee.states import MachineState
from oee.timemodel import DOWNTIME, Kind

__all__ = ["Accumulator", "Segment"]

_ZERO = timedelta(0)


class Segment:
    """A piece of the machine's timeline in one state, wholly planned or unplanned.

    `kind` is final once the segment is closed (unless an operator turns the stop into
    planned time: `excused`, its own kind and failure kept in `was`); `failure` marks the
    start of a breakdown (not its continuation under another reason). `change_at` is the
    instant of the state change the segment belongs to (a calendar cut keeps it), which
    names the stop. `off_plan`: it lies outside every shift (`no_shift`), where running is
    off-plan production.
    """

    __slots__ = (
        "change_at", "end", "excused", "failure", "kind", "off_plan", "planned", "reason",
        "reason_code", "start", "state", "was",
    )  # fmt: skip

    def __init__(
        self,
        start: datetime,
        state: MachineState,
        reason_code: int | None,
        reason: str | None,
        planned: bool,
        change_at: datetime,
        off_plan: bool = False,
    ) -> None:
        self.start, self.end = start, start
        self.state, self.reason_code, self.reason = state, reason_code, reason
        self.planned, self.change_at, self.off_plan = planned, change_at, off_plan
        self.kind = Kind.UNKNOWN
        self.failure = False
        self.excused = False
        self.was: tuple[Kind, bool] | None = None

    @property
    def effective(self) -> MachineState:
        """What OEE sees: a planned stop (the calendar's, or a stop an operator turned
        into planned time) overrides the machine's state."""
        return MachineState.PLANNED_STOP if self.planned or self.excused else self.state

    @property
    def key(self) -> ReasonKey:
        return (self.state, self.reason_code, self.reason)

    @property
    def off_plan_run(self) -> bool:
        """Running while no shift was planned: its time is off-plan run time."""
        return self.off_plan and self.state is MachineState.RUNNING


class Accumulator:
    """The sums of one window; the tracker adds, the window's start evicts."""

    def __init__(self) -> None:
        self.segments: deque[Segment] = deque()
        self.counts = CountLog()
        self._time = dict.fromkeys(Kind, _ZERO)
        self._off_plan_run = _ZERO
        self._failures = 0
        self._stops: dict[ReasonKey, int] = {}  # Pareto: stops and time per reason
        self._stop_time: dict[ReasonKey, timedelta] = {}

    def add_segment(self, seg: Segment, sign: int = 1) -> None:
        """Add a closed segment (sign -1: take it back out)."""
        span = (seg.end - seg.start) * sign
        self._time[seg.kind] += span
        if seg.off_plan_run:
            self._off_plan_run += span
        self._failures += sign * seg.failure
        if seg.kind in DOWNTIME:
            self._pareto_add(seg.key, sign, span)

    def add_count(self, at_us: int, values: Sequence[int], cell: int | None) -> None:
        """Parts counted at `at_us` (`oee.timemodel.count_values`); see `CountLog.add`."""
        self.counts.add(at_us, values, cell)

    def _pareto_add(self, key: ReasonKey, n: int, span: timedelta) -> None:
        n += self._stops.get(key, 0)
        if n == 0:
            del self._stops[key], self._stop_time[key]
        else:
            self._stops[key] = n
            self._stop_time[key] = self._stop_time.get(key, _ZERO) + span

    def push(self, seg: Segment) -> None:
        self.segments.append(seg)
        self.add_segment(seg)

    def pop(self, seg: Segment) -> None:
        """Take back `seg`, the last closed segment, unless it was evicted already."""
        if self.segments and self.segments[-1] is seg:
            self.segments.pop()
            self.add_segment(seg, -1)

    def rename(self, seg: Segment, key: ReasonKey) -> None:
        """Move `seg` (held here) to another reason in the Pareto."""
        if seg.kind in DOWNTIME:
            span = seg.end - seg.start
            self._pareto_add(seg.key, -1, -span)
            self._pareto_add(key, 1, span)

    def evict(self, start: datetime) -> None:
        """Forget what lies wholly before `start` (segments ending, counts at or before)."""
        while self.segments and self.segments[0].end <= start:
            self.add_segment(self.segments.popleft(), -1)
        self.counts.evict(micros(start))

    def report(
        self,
        start: datetime,
        end: datetime,
        open_seg: tuple[Segment, Kind, bool, datetime] | None,
        first_start: datetime | None,
        offline_counts_as: OfflineTreatment,
    ) -> tuple[LossReport, tuple[ReasonLoss, ...]]:
        """The report of [start, end) (counts in (start, end]); call `evict(start)` first.

        `open_seg` is the segment in progress with its provisional kind, failure flag and
        the current time; `first_start` is where the timeline begins (before it: unknown).
        """
        time = dict(self._time)
        off_plan_run = self._off_plan_run
        failures = self._failures
        stops, stop_time = dict(self._stops), dict(self._stop_time)
        for seg, span, drop_stop, drop_failure in self._outside(start, end):
            time[seg.kind] -= span
            off_plan_run -= span if seg.off_plan_run else _ZERO
            failures -= seg.failure and drop_failure
            if seg.kind in DOWNTIME:
                stops[seg.key] -= drop_stop
                stop_time[seg.key] -= span
        if open_seg is not None:
            seg, kind, failure, now = open_seg
            span = min(now, end) - max(seg.start, start)
            if span > _ZERO:
                time[kind] += span
                off_plan_run += span if seg.off_plan_run else _ZERO
                failures += failure and start <= seg.start
                if kind in DOWNTIME:
                    stops[seg.key] = stops.get(seg.key, 0) + 1
                    stop_time[seg.key] = stop_time.get(seg.key, _ZERO) + span
        known_from = min(first_start, end) if first_start is not None else end
        time[Kind.UNKNOWN] += max(_ZERO, known_from - start)
        report = self._loss_report(start, end, time, off_plan_run, failures, offline_counts_as)
        return report, _pareto(stops, stop_time)

    def _outside(
        self, start: datetime, end: datetime
    ) -> Iterator[tuple[Segment, timedelta, bool, bool]]:
        """The parts of held segments outside [start, end): (segment, time outside, whether
        its stop leaves the Pareto, whether its failure leaves the count). These are the
        head cut by `start`, and the tail past `end` (a period that has already ended). A
        failure counts where the breakdown starts; a stop wherever part of it shows."""
        if self.segments and self.segments[0].start < start:
            head = self.segments[0]
            yield head, min(start, head.end) - head.start, False, True
        for seg in reversed(self.segments):
            if seg.end <= end:
                break
            whole = seg.start >= end
            yield seg, seg.end - max(seg.start, end, start), whole, whole

    def _loss_report(
        self,
        start: datetime,
        end: datetime,
        time: dict[Kind, timedelta],
        off_plan_run: timedelta,
        failures: int,
        offline_counts_as: OfflineTreatment,
    ) -> LossReport:
        late = self.counts.after(micros(end))  # counts after the end of a finished period
        c = [a - b for a, b in zip(self.counts.sums, late, strict=True)]
        split = TimeSplit.of(end - start, time, off_plan_run)
        counts = Counts(*c)
        return LossReport(split, counts, failures, offline_counts_as)


def _pareto(
    stops: dict[ReasonKey, int], time: dict[ReasonKey, timedelta]
) -> tuple[ReasonLoss, ...]:
    return tuple(pareto_rows({k: (stops[k], t) for k, t in time.items() if t > _ZERO}))
