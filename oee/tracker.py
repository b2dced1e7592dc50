"""Incremental OEE of one machine over several windows at once.

Feed a `MachineTracker` the machine's state changes and counts in time order; ask it for
the reports of every window at any instant. Each event updates every window in O(1)
(amortized), however many events the windows hold, and a report costs O(1) plus the
number of stop reasons in the Pareto.

Windows:
- sliding (`WindowSpec.sliding("1h", 3600)`): [now - length, now);
- `shift`: from the start of the shift in progress (the calendar's) to now. When a shift
  has ended, the next report gives its final figures once, dated at its end; between
  shifts there is nothing else to report;
- `day`: from the plant day's start (the calendar's `day_start`, local time) to now, with
  the final figures of the previous day once at the rollover.

The figures are exactly those `oee.losses.analyse` gives for the intervals
`oee.timeline.intervals` builds from the same transitions (the tests check this).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from oee.accumulator import Accumulator, Segment
from oee.calendar import Calendar, PlantDay, ShiftInstance
from oee.countlog import micros
from oee.losses import LossReport, OfflineTreatment, ReasonLoss
from oee.states import MachineState
from oee.timeline import PlanFlips
from oee.timemodel import DOWNTIME, KIND_OF, Kind, count_values, nanoseconds

# The ideal time one count may carry (~104 days): the packed windows (oee.countlog) hold
# 64-bit sums, which must not overflow however many counts a cell merges.
_MAX_NS = 2**53

__all__ = ["MachineTracker", "WindowReport", "WindowSpec"]

WindowKind = Literal["sliding", "shift", "day"]


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """A named window: sliding over `length_s` seconds, the current shift or the day.

    `count_step_s` bounds a sliding window's memory: counts less than this apart share
    one entry (`oee.countlog`), so the window's trailing edge is resolved to one step's
    counts. 0 keeps every count apart (exact, memory grows with the count rate).
    """

    name: str
    kind: WindowKind = "sliding"
    length_s: float = 0.0
    count_step_s: float = 0.0

    def __post_init__(self) -> None:
        if self.kind == "sliding" and not self.length_s > 0:
            raise ValueError(f"sliding window {self.name!r} needs a length > 0")
        if self.count_step_s < 0:
            raise ValueError(f"window {self.name!r}: count_step_s must be >= 0")


@dataclass(frozen=True, slots=True)
class WindowReport:
    """The figures of window `name` over [start, end)."""

    name: str
    start: datetime
    end: datetime
    report: LossReport
    pareto: tuple[ReasonLoss, ...]
    final: bool = False  # a shift or day that has ended: these figures will not change
    shift: ShiftInstance | None = None  # the shift occurrence of a `shift` window
    day: PlantDay | None = None  # the plant day of a `day` window


class _Window:
    def __init__(self, spec: WindowSpec, calendar: Calendar | None) -> None:
        self.spec = spec
        self.calendar = calendar
        self.acc = Accumulator()
        self.period: ShiftInstance | PlantDay | None = None  # the one being reported
        self._step_us = round(spec.count_step_s * 1e6)
        self._cell_span = (0, 0)  # the period counts merge in: (start, end] in µs

    def cell(self, at: datetime, at_us: int) -> int | None:
        """Which entry a count at `at` may share: its step of time (sliding), the shift or
        day it falls in (counts in (start, end]), or none (between shifts)."""
        if self.spec.kind == "sliding":
            return -(-at_us // self._step_us) if self._step_us else None
        start, end = self._cell_span
        if not start < at_us <= end:
            period = self.period_at(at)
            if period is None:
                return None
            start, end = self._cell_span = micros(period.start), micros(period.end)
        return start if start < at_us <= end else None

    def period_at(self, now: datetime) -> ShiftInstance | PlantDay | None:
        """The shift occurrence (or plant day) in progress at `now`, None between shifts."""
        assert self.calendar is not None
        if self.spec.kind == "day":
            return self.calendar.plant_day(now)
        return self.calendar.shift_at(now)


class MachineTracker:
    """OEE of one machine over `windows`, kept up to date event by event."""

    def __init__(
        self,
        windows: Iterable[WindowSpec],
        *,
        calendar: Calendar | None = None,
        micro_stop_s: float = 0.0,
        startup_s: float = 0.0,
        offline_counts_as: OfflineTreatment = "unknown",
    ) -> None:
        self.windows = [_Window(w, calendar) for w in windows]
        if len({w.spec.name for w in self.windows}) != len(self.windows):
            raise ValueError("window names must be unique")
        if calendar is None and any(w.spec.kind != "sliding" for w in self.windows):
            raise ValueError("shift and day windows need a calendar")
        self.calendar = calendar
        self.micro_stop = timedelta(seconds=micro_stop_s)
        self.startup = timedelta(seconds=startup_s)
        self.offline_counts_as: OfflineTreatment = offline_counts_as
        self._open: Segment | None = None
        self._last: Segment | None = None  # the closed segment before the open one
        self._before_last: Segment | None = None
        self._first: datetime | None = None
        self._flips: PlanFlips | None = None
        self._now: datetime | None = None
        self._setup_end: datetime | None = None

    # ---------------------------------------------------------------- events

    def state(
        self,
        at: datetime,
        state: MachineState,
        reason_code: int | None = None,
        reason: str | None = None,
    ) -> None:
        """The machine entered `state` at `at` (earlier than the last event: taken as then)."""
        at = self._advance(at)
        cur = self._open
        if cur is None or self._flips is None:
            flips = self._flips = PlanFlips(self.calendar, at)
            self._first = at
            self._open = Segment(at, state, reason_code, reason, flips.planned, at, flips.off_plan)
            return
        if cur.start == at:  # the open segment has no length yet: it never was
            last = self._last
            if last is None or (last.planned, last.off_plan) != (cur.planned, cur.off_plan):
                self._open = Segment(at, state, reason_code, reason, cur.planned, at, cur.off_plan)
                return
            self._reopen(last)
            cur = last
        if (cur.state, cur.reason_code, cur.reason) == (state, reason_code, reason):
            return
        flips = self._flips
        self._close(at, Segment(at, state, reason_code, reason, flips.planned, at, flips.off_plan))

    def count(
        self, at: datetime, total: int, good: int, ideal_cycle_s: float, reject: int | None = None
    ) -> None:
        """`total` parts, `good` of them good, counted at `at`, each ideally `ideal_cycle_s`.

        One of `good` and `reject` may be negative: parts counted before move between
        them (a part found reject after it was counted good: 0, -1, 1). Rejects counted
        during a setup or within `startup_s` after it are start-up rejects. ValueError,
        with nothing changed, for counts that do not add up or that no window can hold.
        """
        if reject is None:
            reject = total - good
        if total < 0 or good + reject != total:
            raise ValueError(f"need good + reject == total >= 0: {total}, {good}, {reject}")
        if nanoseconds(ideal_cycle_s) * max(abs(good), abs(reject), total) >= _MAX_NS:
            raise ValueError(f"{total} parts of {ideal_cycle_s} s are more than a window holds")
        if not total and not good:  # (total 0, good -1, reject 1) moves a part
            return
        at = self._advance(at)
        su = reject if self._in_startup(at) else 0
        off_plan = self._flips is not None and self._flips.off_plan_before(at)
        values = count_values(total, good, reject, su, ideal_cycle_s, off_plan)
        at_us = micros(at)
        for w in self.windows:
            w.acc.add_count(at_us, values, w.cell(at, at_us))

    def set_reason(self, stop_at: datetime, reason_code: int | None, reason: str | None) -> bool:
        """Give the stop that began at `stop_at` another reason; False if no window holds it."""
        # Windows share segment objects: move each in every Pareto first, rename it after.
        found = (
            {id(self._open): self._open} if self._open and self._open.change_at == stop_at else {}
        )
        for w in self.windows:
            for seg in w.acc.segments:
                if seg.change_at == stop_at:
                    w.acc.rename(seg, (seg.state, reason_code, reason))
                    found[id(seg)] = seg
        for seg in found.values():
            seg.reason_code, seg.reason = reason_code, reason
        return bool(found)

    def set_planned(self, stop_at: datetime, planned: bool) -> bool:
        """Count the stop that began at `stop_at` as planned stop time (an operator's
        decision: a meeting, no order), or (`planned` False) as what it was again; in
        every window that holds it. False if no window holds it."""
        found = (
            {id(self._open): self._open} if self._open and self._open.change_at == stop_at else {}
        )
        held = [
            (w, seg) for w in self.windows for seg in w.acc.segments if seg.change_at == stop_at
        ]
        for w, seg in held:  # windows share segments: take each out of every sum first
            w.acc.add_segment(seg, -1)
            found[id(seg)] = seg
        for seg in found.values():
            _excuse(seg, planned, closed=seg is not self._open)
        for w, seg in held:
            w.acc.add_segment(seg)
        return bool(found)

    # ---------------------------------------------------------------- reports

    def reports(self, now: datetime) -> list[WindowReport]:
        """Every window's figures at `now` (a finished shift or day first, once)."""
        now = self._advance(now)
        out: list[WindowReport] = []
        for w in self.windows:
            out += self._window_reports(w, now)
        return out

    def _window_reports(self, w: _Window, now: datetime) -> list[WindowReport]:
        if w.spec.kind == "sliding":
            return [self._report(w, now - timedelta(seconds=w.spec.length_s), now, now)]
        out = []
        period = w.period
        if period is not None and now >= period.end:
            out.append(self._report(w, period.start, period.end, now, final=True, period=period))
            w.period = None
        if w.period is None:
            w.period = w.period_at(now)
        if w.period is not None:
            out.append(self._report(w, w.period.start, now, now, period=w.period))
        return out

    def _report(
        self,
        w: _Window,
        start: datetime,
        end: datetime,
        now: datetime,
        final: bool = False,
        period: ShiftInstance | PlantDay | None = None,
    ) -> WindowReport:
        w.acc.evict(start)
        open_seg = None
        if self._open is not None:
            kind = self._kind(self._open, now, closed=False)
            open_seg = (self._open, kind, self._is_failure(kind, self._open), now)
        report, pareto = w.acc.report(start, end, open_seg, self._first, self.offline_counts_as)
        shift = period if isinstance(period, ShiftInstance) else None
        day = period if isinstance(period, PlantDay) else None
        return WindowReport(w.spec.name, start, end, report, pareto, final, shift, day)

    # ---------------------------------------------------------------- timeline

    def _advance(self, at: datetime) -> datetime:
        """Move time to `at` (never backwards), cutting at calendar planned-stop edges."""
        if self._now is not None and at < self._now:
            at = self._now
        self._now = at
        if self._flips is not None and self._open is not None:
            for flip_at, planned, off_plan in self._flips.until(at):
                cur = self._open
                if flip_at > cur.start:
                    nxt = Segment(flip_at, cur.state, cur.reason_code, cur.reason, planned,
                                  cur.change_at, off_plan)  # fmt: skip
                    nxt.excused = cur.excused  # the same stop goes on past the cut
                    self._close(flip_at, nxt)
                else:
                    cur.planned, cur.off_plan = planned, off_plan
        return at

    def _close(self, at: datetime, nxt: Segment) -> None:
        cur = self._open
        assert cur is not None
        cur.end = at
        cur.kind = self._kind(cur, at, closed=True, nxt=nxt)
        cur.failure = self._is_failure(cur.kind, cur)
        for w in self.windows:
            w.acc.push(cur)
        if cur.state is MachineState.SETUP:
            self._setup_end = at
        self._before_last, self._last, self._open = self._last, cur, nxt

    def _reopen(self, last: Segment) -> None:
        """Take the last closed segment back: the one after it had no length."""
        for w in self.windows:
            w.acc.pop(last)
        self._open, self._last, self._before_last = last, self._before_last, None
        if last.state is MachineState.SETUP:
            self._setup_end = None

    def _kind(
        self, seg: Segment, now: datetime, *, closed: bool, nxt: Segment | None = None
    ) -> Kind:
        kind = KIND_OF[seg.effective]
        if kind not in DOWNTIME or self.micro_stop <= timedelta(0):
            return kind
        end = seg.end if closed else now
        prev = self._last
        if end - seg.start >= self.micro_stop:
            return kind
        if prev is None or prev.end != seg.start or prev.effective is not MachineState.RUNNING:
            return kind
        if closed and (nxt is None or nxt.effective is not MachineState.RUNNING):
            return kind
        return Kind.SMALL_STOP

    def _is_failure(self, kind: Kind, seg: Segment) -> bool:
        """A breakdown starts a failure unless it continues one (under another reason)."""
        if kind is not Kind.BREAKDOWN:
            return False
        prev = self._last
        return prev is None or prev.kind is not Kind.BREAKDOWN or prev.end != seg.start

    def _in_startup(self, at: datetime) -> bool:
        cur = self._open
        if cur is not None and cur.state is MachineState.SETUP and at > cur.start:
            return True
        return self._setup_end is not None and at <= self._setup_end + self.startup


def _excuse(seg: Segment, planned: bool, *, closed: bool) -> None:
    """Mark `seg` as planned stop time by an operator's decision (or no longer). A closed
    segment's kind and failure change with it; its own are kept to be restored."""
    if seg.excused == planned:
        return
    seg.excused = planned
    if not closed:
        return  # the open segment's kind is worked out at each report
    if planned:
        seg.was = (seg.kind, seg.failure)
        seg.kind, seg.failure = KIND_OF[MachineState.PLANNED_STOP], False
    elif seg.was is not None:
        (seg.kind, seg.failure), seg.was = seg.was, None
    else:  # excused while it was open: its own kind was never worked out (no micro-stop)
        seg.kind = KIND_OF[seg.effective]
        seg.failure = seg.kind is Kind.BREAKDOWN
