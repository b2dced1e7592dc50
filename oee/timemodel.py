"""Inputs of the loss analysis and the ISO 22400-2 time model split of one window.

Definitions (the incremental `oee.tracker` gives the same figures):

- a window is [window_start, window_end); an interval counts only its part inside it;
- an interval flagged `planned` (a calendar planned stop covers it) is planned stop time
  whatever the machine did;
- `offline`, and any time no interval covers, is unknown time;
- off-plan production: time the machine ran, and parts it counted, while the calendar
  said `no_shift` (planned stop time outside every shift) are counted apart
  (`off_plan_run`, `off_plan_total`) so a page can flag them; they stay planned stop
  time and out of the figures;
- a stop (idle, setup, fault) shorter than micro_stop_s between two runs is a small stop:
  it stays in run time and is a performance loss. A stop still going at the window end
  (no successor, reaches the end) is a small stop until it outlasts the threshold.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from oee.states import MachineState

_ZERO = timedelta(0)


def _aware(*stamps: datetime) -> None:
    if any(t.utcoffset() is None for t in stamps):
        raise ValueError("datetimes must be timezone-aware")


@dataclass(frozen=True, slots=True)
class StateInterval:
    """The machine was in `state` over [start, end), with an optional stop reason.

    `planned` is True when a calendar planned stop covers the interval: it then counts as
    planned stop time whatever the machine state; `off_plan` when that stop is `no_shift`
    (outside every shift).
    """

    start: datetime
    end: datetime
    state: MachineState
    reason_code: int | None = None
    reason: str | None = None
    planned: bool = False
    off_plan: bool = False

    def __post_init__(self) -> None:
        _aware(self.start, self.end)
        if self.end < self.start:
            raise ValueError(f"interval ends before it starts: {self.start} > {self.end}")

    @property
    def effective(self) -> MachineState:
        """The state OEE sees: a calendar planned stop overrides what the machine did."""
        return MachineState.PLANNED_STOP if self.planned else self.state


@dataclass(frozen=True, slots=True)
class Production:
    """`total` parts (`good` + `reject`) of `product` counted at `at`, each ideally taking
    `ideal_cycle_s`. `startup`: counted while production was stabilising after a setup
    (see `mark_startup`), so its rejects are start-up rejects, not production rejects.
    One of `good` and `reject` may be negative: parts counted earlier that move between
    them (a part found reject after it was counted good is 0, -1, 1). `off_plan`: counted
    while the calendar said `no_shift` (see `mark_off_plan`)."""

    at: datetime
    total: int
    good: int
    reject: int
    ideal_cycle_s: float
    product: str | None = None
    startup: bool = False
    off_plan: bool = False

    def __post_init__(self) -> None:
        _aware(self.at)
        if self.total < 0 or self.good + self.reject != self.total:
            raise ValueError(f"need good + reject == total >= 0, got {self!r}")
        if not (math.isfinite(self.ideal_cycle_s) and self.ideal_cycle_s > 0):
            raise ValueError(f"ideal_cycle_s must be a positive number, got {self!r}")


class Kind(StrEnum):
    """Where an interval's time goes in the time model."""

    RUN = "run"
    SMALL_STOP = "small_stop"
    BREAKDOWN = "breakdown"
    SETUP = "setup"
    IDLE = "idle"
    PLANNED_STOP = "planned_stop"
    UNKNOWN = "unknown"


KIND_OF = {
    MachineState.RUNNING: Kind.RUN,
    MachineState.FAULT: Kind.BREAKDOWN,
    MachineState.SETUP: Kind.SETUP,
    MachineState.IDLE: Kind.IDLE,
    MachineState.PLANNED_STOP: Kind.PLANNED_STOP,
    MachineState.OFFLINE: Kind.UNKNOWN,
}
DOWNTIME = frozenset({Kind.BREAKDOWN, Kind.SETUP, Kind.IDLE})


def classify(
    intervals: Iterable[StateInterval], window_end: datetime, micro_stop_s: float = 0.0
) -> list[tuple[StateInterval, Kind]]:
    """The intervals in time order, each with its kind; ValueError if two overlap."""
    seq = sorted(intervals, key=lambda iv: iv.start)
    for a, b in zip(seq, seq[1:], strict=False):
        if b.start < a.end:
            raise ValueError(f"intervals overlap: {a} and {b}")
    return [(iv, _kind(seq, i, window_end, micro_stop_s)) for i, iv in enumerate(seq)]


def _kind(seq: Sequence[StateInterval], i: int, window_end: datetime, micro_s: float) -> Kind:
    kind = KIND_OF[seq[i].effective]
    if kind in DOWNTIME and _is_small_stop(seq, i, window_end, micro_s):
        return Kind.SMALL_STOP
    return kind


def _is_small_stop(
    seq: Sequence[StateInterval], i: int, window_end: datetime, micro_s: float
) -> bool:
    # The full duration decides, not the part inside the window, so a window that cuts a
    # long stop does not turn its tail into a small stop. The threshold is exclusive.
    stop = seq[i]
    if (stop.end - stop.start).total_seconds() >= micro_s:
        return False
    before = seq[i - 1] if i > 0 else None
    if before is None or before.end != stop.start or before.effective is not MachineState.RUNNING:
        return False
    if i + 1 == len(seq):
        return stop.end >= window_end
    after = seq[i + 1]
    return after.start == stop.end and after.effective is MachineState.RUNNING


@dataclass(frozen=True, slots=True)
class TimeSplit:
    """Where a window's time went. planned_stop + unknown + run + breakdown + setup + idle
    equals window exactly (checked on construction); small_stop is the part of run spent in
    stops shorter than the micro-stop threshold; off_plan_run the part of planned_stop the
    machine ran while no shift was planned."""

    window: timedelta
    planned_stop: timedelta = _ZERO
    unknown: timedelta = _ZERO
    run: timedelta = _ZERO
    breakdown: timedelta = _ZERO
    setup: timedelta = _ZERO
    idle: timedelta = _ZERO
    small_stop: timedelta = _ZERO
    off_plan_run: timedelta = _ZERO

    def __post_init__(self) -> None:
        parts = (self.planned_stop, self.unknown, self.run, self.breakdown, self.setup, self.idle)
        if min(*parts, self.small_stop, self.off_plan_run) < _ZERO or self.small_stop > self.run:
            raise ArithmeticError(f"negative or inconsistent times: {self}")
        if self.off_plan_run > self.planned_stop:
            raise ArithmeticError(f"off-plan run time beyond planned stop time: {self}")
        if sum(parts, _ZERO) != self.window:
            raise ArithmeticError(f"state times do not add up to the window: {self}")

    @classmethod
    def of(
        cls, window: timedelta, spans: dict[Kind, timedelta], off_plan_run: timedelta = _ZERO
    ) -> TimeSplit:
        """The split of a window from the time spent in each kind (small stops apart)."""
        return cls(
            window=window,
            planned_stop=spans[Kind.PLANNED_STOP],
            unknown=spans[Kind.UNKNOWN],
            run=spans[Kind.RUN] + spans[Kind.SMALL_STOP],
            breakdown=spans[Kind.BREAKDOWN],
            setup=spans[Kind.SETUP],
            idle=spans[Kind.IDLE],
            small_stop=spans[Kind.SMALL_STOP],
            off_plan_run=off_plan_run,
        )

    def __add__(self, other: TimeSplit) -> TimeSplit:
        return TimeSplit(*_fieldwise_sum(self, other))


def split_time(
    classified: Iterable[tuple[StateInterval, Kind]], window_start: datetime, window_end: datetime
) -> TimeSplit:
    """Clip classified intervals (in time order) to the window and add up their kinds; time
    no interval covers is unknown."""
    spans = dict.fromkeys(Kind, _ZERO)
    off_plan_run = _ZERO
    cursor = window_start
    for iv, kind in classified:
        lo, hi = max(iv.start, window_start), min(iv.end, window_end)
        if hi <= lo:
            continue
        spans[Kind.UNKNOWN] += lo - cursor  # a gap in the data before this interval
        spans[kind] += hi - lo
        if iv.off_plan and iv.state is MachineState.RUNNING:
            off_plan_run += hi - lo
        cursor = hi
    spans[Kind.UNKNOWN] += window_end - cursor
    return TimeSplit.of(window_end - window_start, spans, off_plan_run)


_NS = 1_000_000_000


def nanoseconds(seconds: float) -> int:
    """An ideal cycle time in whole nanoseconds, so that sums of ideal times are exact."""
    return round(seconds * _NS)


@dataclass(frozen=True, slots=True)
class Counts:
    """Parts counted in a window and their ideal times (ideal cycle time x parts).

    Ideal times are integer nanoseconds: sums and differences are exact, and a ratio of two
    of them (Q = good / total for one product) is the correctly rounded quotient.
    """

    total: int = 0
    good: int = 0
    reject: int = 0
    startup_reject: int = 0
    ideal_ns: int = 0
    fully_productive_ns: int = 0  # ideal x good
    startup_reject_ns: int = 0
    production_reject_ns: int = 0
    off_plan_total: int = 0  # parts counted while no shift was planned

    @classmethod
    def of(cls, productions: Iterable[Production]) -> Counts:
        """The sums over `productions`, whatever their products."""
        sums = [0] * 9
        for p in productions:
            row = count_values(p.total, p.good, p.reject, p.reject if p.startup else 0,
                               p.ideal_cycle_s, p.off_plan)  # fmt: skip
            sums = [a + b for a, b in zip(sums, row, strict=True)]
        return cls(*sums)

    def clamped(self) -> Counts:
        """These sums with good and reject each between 0 and `total` (and their ideal
        times between 0 and `ideal_ns`): a window can hold a part moved to reject but not
        the part itself, counted before the window began."""
        good = min(max(self.good, 0), self.total)
        fp_ns = min(max(self.fully_productive_ns, 0), self.ideal_ns)
        if good == self.good and fp_ns == self.fully_productive_ns and self.reject >= 0:
            return self
        startup = min(max(self.startup_reject, 0), self.total - good)
        su_ns = min(max(self.startup_reject_ns, 0), self.ideal_ns - fp_ns)
        return Counts(
            self.total, good, self.total - good, startup,
            self.ideal_ns, fp_ns, su_ns, self.ideal_ns - fp_ns - su_ns, self.off_plan_total,
        )  # fmt: skip

    @property
    def ideal_s(self) -> float:
        return self.ideal_ns / _NS

    @property
    def fully_productive_s(self) -> float:
        return self.fully_productive_ns / _NS

    @property
    def startup_reject_s(self) -> float:
        return self.startup_reject_ns / _NS

    @property
    def production_reject_s(self) -> float:
        return self.production_reject_ns / _NS

    def __add__(self, other: Counts) -> Counts:
        return Counts(*_fieldwise_sum(self, other))


def count_values(
    total: int,
    good: int,
    reject: int,
    startup_reject: int,
    ideal_cycle_s: float,
    off_plan: bool = False,
) -> tuple[int, int, int, int, int, int, int, int, int]:
    """The `Counts` fields, in order, of parts counted at one instant with one ideal cycle
    time; `startup_reject` of the `reject` are start-up rejects; `off_plan`: counted while
    no shift was planned."""
    ideal = nanoseconds(ideal_cycle_s)
    return (total, good, reject, startup_reject, ideal * total, ideal * good,
            ideal * startup_reject, ideal * (reject - startup_reject),
            total if off_plan else 0)  # fmt: skip


def _fieldwise_sum(a: TimeSplit | Counts, b: TimeSplit | Counts) -> Iterator[Any]:
    # Not astuple(): it deep-copies every value, which made an addition cost ~80 µs.
    return (getattr(a, f.name) + getattr(b, f.name) for f in fields(a))


def mark_startup(
    productions: Iterable[Production],
    intervals: Iterable[StateInterval],
    startup_s: float,
    *,
    after: Collection[MachineState] = (MachineState.SETUP,),
) -> list[Production]:
    """`productions` with `startup` set on those counted during a setup or within `startup_s`
    after it ended, i.e. in (setup start, setup end + startup_s].

    Parts counted during the setup are trial parts, and the first minutes after it are the
    yield loss until production is stable (Nakajima's start-up loss). `after` widens this to
    other states (e.g. a fault). A production already marked stays marked.
    """
    if startup_s < 0:
        raise ValueError(f"startup_s must be >= 0, got {startup_s}")
    lag = timedelta(seconds=startup_s)
    spans = _merge(sorted((iv.start, iv.end + lag) for iv in intervals if iv.state in after))
    starts = [lo for lo, _ in spans]

    def in_startup(at: datetime) -> bool:
        i = bisect_left(starts, at) - 1  # the last span that opens before `at`
        return i >= 0 and at <= spans[i][1]

    return [replace(p, startup=True) if in_startup(p.at) else p for p in productions]


def mark_off_plan(
    productions: Iterable[Production], intervals: Sequence[StateInterval]
) -> list[Production]:
    """`productions` with `off_plan` set on those counted at the end of, or inside, an
    `off_plan` interval, (start, end] as a window holds counts: parts counted at the
    instant a shift begins were made before it. `intervals` in time order, disjoint."""
    starts = [iv.start for iv in intervals]

    def off(at: datetime) -> bool:
        i = bisect_left(starts, at) - 1  # the last interval that begins before `at`
        return i >= 0 and intervals[i].off_plan and at <= intervals[i].end

    return [replace(p, off_plan=True) if off(p.at) else p for p in productions]


def _merge(spans: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
